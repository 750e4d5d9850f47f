// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile variables, not JS placeholders
/** Differential cases, batches 3 and 4 (same rules as cases.ts). */
import { BB, type ConformanceCase, c, L, PASSWD } from './kit.js';

/** Third batch: destination corners, context modes, archives, RUN mounts, inheritance, args. */
export const MORE_CASES_3: ConformanceCase[] = [
  c(
    'copy-dest-corners',
    L(
      'RUN mkdir /exist && ln -s /nowhere /dangling && ln -s /exist /dirlink && echo old > /target && ln -s /target /filelink',
      'COPY a.txt /exist',
      'COPY a.txt /dangling',
      'COPY a.txt /filelink',
      'COPY *.md /doc',
      'COPY dir/. /dotdir/',
      'COPY ./dir/ /slashdir',
      'COPY dir /',
    ),
    { files: { 'a.txt': 'a', 'only.md': 'md', 'dir/x': 'x', 'dir/s/y': 'y' } },
  ),
  c('copy-context-modes', 'COPY . /ctx/\nCOPY emptydir /e\n', {
    prepare: [
      'mkdir -p emptydir private/sub sticky',
      'echo s > private/sub/secret && chmod 600 private/sub/secret && chmod 700 private',
      'echo x > exec.sh && chmod 755 exec.sh && echo r > ro.txt && chmod 444 ro.txt',
      'chmod 1777 sticky && chmod 2755 private/sub && chmod 751 emptydir',
    ].join(' && '),
  }),
  c(
    'add-archive-corners',
    L('ADD links.tar /links/', 'ADD notar.gz /gz/', 'ADD owned.tar.gz /owned/', 'ADD dotslash.tar /ds'),
    {
      prepare: [
        'mkdir -p t/d && echo f > t/d/f && ln t/d/f t/d/hard && ln -s f t/d/sym && ln -s /abs/path t/d/abs',
        'tar --owner=0 --group=0 -C t -cf links.tar d',
        'echo plain > notar && gzip -n notar',
        'tar --owner=7 --group=8 -C t -czf owned.tar.gz d',
        'tar --owner=0 --group=0 -C t -cf dotslash.tar ./d',
        'rm -rf t',
      ].join(' && '),
    },
  ),
  c(
    'run-mounts-leave-no-trace',
    L(
      'RUN --mount=type=cache,target=/cache echo x > /cache/f && ls /cache > /seen.txt',
      'RUN --mount=type=bind,source=a.txt,target=/mnt/a.txt cat /mnt/a.txt > /b.txt',
      'RUN --mount=type=tmpfs,target=/scratch touch /scratch/f && echo ok > /tmpfs.txt',
      'RUN --mount=type=bind,target=/ctx ls /ctx | grep -c a.txt > /ctx-count.txt',
    ),
    { files: { 'a.txt': 'a' } },
  ),
  c('expose-case-and-ranges', L('EXPOSE 80/TCP 53/UDP 8080/tcp', 'EXPOSE 9000-9001/udp 443')),
  {
    name: 'config-inheritance',
    dockerfile: `${BB}FROM bb AS parent\n${L(
      'LABEL a=1 b=2',
      'HEALTHCHECK --interval=7s CMD true',
      'ENV P=parent',
      'EXPOSE 1000',
      'VOLUME /pv',
      'STOPSIGNAL SIGINT',
      'USER 1:1',
      'ENTRYPOINT ["/bin/echo"]',
      'CMD ["x"]',
      'FROM parent',
      'LABEL b=override c=3',
      'HEALTHCHECK --retries=5 CMD false',
      'ENV P=child Q=$P',
      'EXPOSE 2000',
    )}`,
  },
  c('cmd-entrypoint-empty', L('ENTRYPOINT ["/bin/echo"]', 'CMD []', 'ENTRYPOINT []')),
  {
    name: 'from-scratch-only-copy',
    dockerfile: L('FROM scratch', 'COPY a.txt /', 'COPY dir /d/', 'WORKDIR /w', 'ENV X=1'),
    files: { 'a.txt': 'a', 'dir/y': 'y' },
  },
  c(
    'arg-env-interplay',
    L(
      'ENV A=envA',
      'ARG A=argA',
      'ARG B=$A-b',
      'ARG C',
      'ENV C=${C:-envC}',
      'RUN echo "$A $B $C" > /out.txt',
    ),
    { buildArgs: { A: 'cliA' } },
  ),
  c(
    'arg-predefined-platform',
    L(
      'ARG TARGETPLATFORM',
      'ARG TARGETOS',
      'ARG BUILDARCH',
      'RUN echo "[$TARGETPLATFORM][$TARGETOS][$BUILDARCH][$TARGETARCH]" > /p.txt',
      'LABEL os=$TARGETOS undeclared=[$TARGETVARIANT]',
    ),
  ),
  {
    name: 'onbuild-not-inherited-twice',
    dockerfile: `${BB}FROM bb AS parent\n${L(
      'ONBUILD RUN echo x >> /count.txt',
      'FROM parent AS child',
      'ONBUILD RUN echo y >> /count.txt',
      'FROM child',
      'RUN cat /count.txt > /final.txt',
    )}`,
  },
  c(
    'workdir-env-relative',
    L('ENV D=sub', 'WORKDIR /base', 'WORKDIR $D', 'WORKDIR ${D}2/../three', 'RUN pwd > /pwd.txt'),
  ),
  c(
    'run-links-and-meta-changes',
    L(
      'RUN mkdir -p /h && echo 1 > /h/a && ln -s loop2 /h/loop1 && ln -s loop1 /h/loop2',
      'RUN ln /h/a /h/b && echo 2 >> /h/a',
      'RUN chmod 700 /h && chown -h 3:4 /h/loop1 && touch /h/b',
    ),
  ),
  c('dockerignore-self-and-reinclude', 'COPY . /ctx/\n', {
    files: {
      '.dockerignore': 'Dockerfile\n.dockerignore\ndir\n!dir/sub/keep\n*/*.o\n!busybox\n',
      'dir/a': 'a',
      'dir/sub/keep': 'k',
      'dir/sub/drop': 'd',
      'x/y.o': 'o',
      'x/z.c': 'c',
      'top.o': 'top',
    },
  }),
  c(
    'copy-chown-group-only',
    `${PASSWD}${L(
      "RUN echo 'bob:x:1001:50::/:/bin/sh' >> /etc/passwd && echo 'bob:x:1003:' >> /etc/group",
      'COPY --chown=:staff a.txt /g/',
      'COPY --chown=app:app a.txt /named/',
      'COPY --chown=bob a.txt /bob/',
      'COPY --chown=1001 a.txt /n1001/',
    )}`,
    { files: { 'a.txt': 'a' } },
  ),
  c(
    'user-name-then-copy-and-run',
    `${PASSWD}${L(
      'RUN mkdir -m 1777 /shared',
      'USER app',
      'COPY a.txt /shared/',
      'RUN touch /shared/mine && mkdir /shared/dir && id -u > /shared/uid',
      'WORKDIR /shared/wd',
    )}`,
    { files: { 'a.txt': 'a' } },
  ),
  c(
    'label-arg-and-quotes-in-json',
    L('ARG V=1', 'LABEL v=$V "json"="[\\"a\\"]"', 'CMD ["sh", "-c", "echo \'$V\'"]', 'ENV V=$V'),
    { buildArgs: { V: '9' } },
  ),
  c(
    'run-exec-form-env-and-workdir',
    L('WORKDIR /w', 'ENV OUT=out.txt', 'RUN ["sh", "-c", "pwd > $OUT; echo $0 >> $OUT", "arg0"]'),
  ),
];

const BOB =
  "RUN mkdir -p /etc && printf 'root:x:0:0:root:/root:/bin/sh\\nbob:x:1001:50::/home/bob:/bin/sh\\n' > /etc/passwd && printf 'root:x:0:\\nstaff:x:50:\\nbob:x:1003:\\n' > /etc/group\n";

/** Fourth batch: users for WORKDIR, word expansion forms, JSON fallbacks, what a RUN sees. */
export const MORE_CASES_4: ConformanceCase[] = [
  c(
    'workdir-user-forms',
    `${BOB}${L(
      'USER 1001',
      'WORKDIR /w1',
      'USER 1005',
      'WORKDIR /w2',
      'USER bob:staff',
      'WORKDIR /w3',
      'USER 1001:7',
      'WORKDIR /w4',
      'USER bob',
      'WORKDIR /w5',
    )}`,
  ),
  c(
    'expansion-forms',
    L(
      'ENV A=a A_B=ab EMPTY=',
      'ENV R1=${A:-x} R2=${EMPTY:-e} R3=${A:+p} R4=${EMPTY:+q} R5=${NOPE:-${A}} R6=$A_B R7=${A}_B',
      'ENV R8=\\$A R9=$$ R10="${A}"\'${A}\' R11=pre${A}post',
    ),
  ),
  c('label-empty-and-equals', L('LABEL a= b==c "d"=\'e=f\'', 'LABEL maintainer=me', 'MAINTAINER other')),
  c('cmd-invalid-json-variants', L("CMD ['single']", 'ENTRYPOINT ["a", "b"', 'HEALTHCHECK CMD [ "x" ]')),
  c('cmd-json-spacing', L('ENTRYPOINT [ "a" ,"b" ]', 'CMD echo b')),
  c(
    'healthcheck-durations',
    'HEALTHCHECK --interval=1m30s --timeout=1500ms --retries=1 --start-period=1ms CMD true\n',
  ),
  c('workdir-normalize', L('WORKDIR /a/b/', 'WORKDIR ./c/../d/.', 'WORKDIR //x//y', 'RUN pwd > /pwd.txt')),
  c('build-arg-special-chars', L('ARG V', 'RUN echo "$V" > /v.txt', 'LABEL v="$V"', 'ENV V2=$V'), {
    buildArgs: { V: 'a b$c "q" \\x' },
  }),
  {
    name: 'stage-name-case',
    dockerfile: `${BB}${L(
      'FROM bb AS Build',
      'RUN echo b > /b',
      'FROM bb',
      'COPY --from=build /b /from-lower',
      'COPY --from=BUILD /b /from-upper',
    )}`,
  },
  {
    name: 'copy-from-wildcards',
    dockerfile: `${BB}${L(
      'FROM bb AS src',
      'RUN mkdir -p /t/a /t/b /t/c && echo 1 > /t/a/file && echo 2 > /t/b/file && echo 3 > /t/c/other && echo top > /t/top.txt',
      'FROM bb',
      'COPY --from=src /t/*/file /out/',
      'COPY --from=src /t/*.txt /t/? /mixed/',
      'COPY --from=src --chmod=700 /t/a /chmodded',
    )}`,
  },
  c('copy-wildcard-dir-part', 'COPY d*/x /o/\nCOPY [a-b]*.txt /cls/\n', {
    files: { 'd1/x': '1', 'd2/x': '2', 'd3/y': '3', 'a.txt': 'a', 'b.txt': 'b', 'c.txt': 'c' },
  }),
  c(
    'run-sees-env-and-caps',
    `${BOB}${L(
      'RUN env | sort > /env-root.txt && hostname > /hostname.txt',
      'RUN grep -E "^Cap(Prm|Eff|Bnd)|^Seccomp:" /proc/self/status > /status.txt',
      'RUN mkdir -m 777 /out',
      'USER bob',
      'RUN env | sort > /out/env-bob.txt && umask > /out/umask.txt',
    )}`,
  ),
  c('arg-multi-one-line', L('ARG A=1 B=2 C', 'RUN echo "$A $B [$C]" > /abc.txt'), { buildArgs: { C: 'c' } }),
  {
    name: 'onbuild-arg-and-workdir',
    dockerfile: `${BB}FROM bb AS parent\n${L(
      'ONBUILD ARG OB=dflt',
      'ONBUILD WORKDIR /onb',
      'ONBUILD RUN echo "$OB" > ob.txt',
      'FROM parent',
    )}`,
    buildArgs: { OB: 'given' },
  },
  c(
    'entrypoint-json-then-shell-cmd',
    L('ENTRYPOINT ["/bin/echo"]', 'CMD echo b', 'SHELL ["/bin/ash", "-c"]'),
  ),
];
