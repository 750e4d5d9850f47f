// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile variables, not JS placeholders
/**
 * The second batch of differential cases: parser corners (escape directive, continuations, quoting),
 * variable scoping and expansion in every instruction that expands, COPY/ADD of unusual trees, RUN
 * diffs that replace or empty directories, and stage selection. Same rules as cases.ts.
 */
import { BB, type ConformanceCase, c, PASSWD } from './kit.js';

/** Dockerfile lines, newline-terminated. */
const L = (...lines: string[]): string => `${lines.join('\n')}\n`;

export const MORE_CASES: ConformanceCase[] = [
  {
    name: 'escape-directive-backtick',
    dockerfile: `# escape=\`\n${BB}FROM bb\n${L(
      'RUN echo one `',
      '# a comment inside the continuation',
      '',
      '    two > /joined.txt',
      'ENV WINPATH=C:\\dir\\sub Q=a`"b',
      'LABEL tick="x`$y"',
      'WORKDIR C:\\w',
    )}`,
  },
  c(
    'continuation-comments-blank',
    L(
      'RUN echo a \\',
      '# comment line, dropped',
      '',
      '   b \\',
      '  # indented comment',
      '   c > /abc.txt',
      'ENV X=1 \\',
      '    Y=2',
    ),
  ),
  c(
    'expand-in-instructions',
    L(
      'ARG PORT=8080',
      'ENV DIR=/srv NAME=svc SIG=SIGUSR1 ID=1234',
      'WORKDIR $DIR/${NAME}',
      'LABEL "$NAME.port"="p-$PORT" dir=${DIR} lit=\'$DIR\'',
      'EXPOSE $PORT ${PORT}/udp',
      'VOLUME $DIR/data',
      'STOPSIGNAL $SIG',
      'COPY --chown=$ID:${ID} a.txt ./',
      'USER ${ID}:$ID',
    ),
    { files: { 'a.txt': 'a' } },
  ),
  {
    name: 'arg-scoping',
    dockerfile: `ARG G=global\nARG H=hglobal\nARG UNUSED=u\n${BB}FROM bb\n${L(
      'RUN echo "before:[$A][$G][$H]" > /before.txt',
      'ARG A=late',
      'ARG G',
      'ARG H=shadow',
      'RUN echo "$A $G $H [$UNUSED]" > /args.txt',
      'ENV E=$A-$G-$H',
    )}`,
  },
  c('build-arg-undeclared', L('ARG V', 'RUN echo "[$UNDECL][$V]" > /v.txt', 'LABEL v=$V u=$UNDECL'), {
    buildArgs: { UNDECL: 'x', V: 'y' },
  }),
  {
    name: 'copy-from-special-tree',
    dockerfile: `${BB}FROM bb AS src\n${L(
      'RUN mkdir -p /t/empty /t/sub && echo x > /t/f && ln /t/f /t/hard && ln -s f /t/sym && ln -s /t/sub /t/abs && chmod 4755 /t/f && mkdir -m 2775 /t/sg && mkdir -m 1777 /t/st && chown 5:6 /t/sub && chmod 700 /t/empty && touch /t/sg/g && chmod 2640 /t/sg/g',
      'FROM bb',
      'COPY --from=src /t /copied',
      'COPY --from=src /t/ /copied2/',
      'COPY --from=src /t/sym /t/abs /links/',
    )}`,
  },
  c('copy-context-hardlink-symdir', L('COPY d /d', 'COPY linkdir /ld', 'COPY linkdir/ /ld2/'), {
    prepare:
      'mkdir d real && echo h > d/a && ln d/a d/b && echo r > real/x && ln -s real linkdir && chmod 751 real',
  }),
  c('copy-wildcard-files-and-dirs', 'COPY *.txt dir* /dst/\n', {
    files: {
      'a.txt': 'a',
      'b.txt': 'b',
      'dir1/x': 'x',
      'dir2/sub/y': 'y',
      dirfile: 'f',
      'other/z': 'z',
    },
  }),
  c(
    'copy-chown-user-or-group-only',
    `${PASSWD}${L('COPY --chown=app a.txt /u/', 'COPY --chown=app:50 a.txt /ug/', 'COPY --chown=1000 dir /udir')}`,
    { files: { 'a.txt': 'a', 'dir/x': 'x' } },
  ),
  c(
    'copy-chmod-chown-parents',
    L('COPY --chmod=640 --chown=7:8 a.txt dir /new/deep/', 'COPY --chown=9:9 a.txt /p/q/r.txt'),
    {
      files: { 'a.txt': 'a', 'dir/x': 'x', 'dir/sub/y': 'y' },
    },
  ),
  c(
    'add-tar-variants-overlap',
    L(
      'RUN mkdir -p /dst/inner && echo old > /dst/inner/f && echo keep > /dst/inner/keep && chmod 755 /dst/inner',
      'ADD a.tar.bz2 /dst/',
      'ADD b.tar.xz /dst/',
      'ADD c.tar /dst',
      'ADD noext /gz/',
    ),
    {
      prepare: [
        'mkdir -p t/inner && echo new > t/inner/f && chmod 700 t/inner && echo bz > t/inner/bz',
        'tar --owner=0 --group=0 -C t -cjf a.tar.bz2 inner',
        'rm t/inner/bz && echo xz > t/inner/xz && ln -s f t/inner/lnk',
        'tar --owner=0 --group=0 -C t -cJf b.tar.xz inner',
        'echo plain > t/inner/f && mkdir t/inner/d && echo dd > t/inner/d/e',
        'tar --owner=3 --group=4 -C t -cf c.tar inner',
        'tar --owner=0 --group=0 -C t -czf noext inner',
        'rm -rf t',
      ].join(' && '),
    },
  ),
  c(
    'run-replace-dir-and-file',
    L(
      'RUN mkdir -p /a/sub && echo f > /a/sub/f && echo b > /b && mkdir -p /c/d && echo e > /c/d/e',
      'RUN rm -rf /a && echo file > /a && rm /b && mkdir /b && echo inner > /b/c && rm -rf /c/d && ln -s /b /c/d',
    ),
  ),
  c(
    'run-opaque-dir',
    L(
      'RUN mkdir -p /o/x /o/y && echo 1 > /o/x/1 && echo top > /o/top',
      'RUN rm -rf /o && mkdir -p /o/z && echo 2 > /o/z/2 && chmod 711 /o',
      'RUN rm -rf /o/z && mkdir /o/z && echo 3 > /o/z/3',
    ),
  ),
  c('run-fifo-mknod', 'RUN mkfifo -m 600 /fifo && mknod -m 644 /nul c 1 3 && mkdir /dev2\n'),
  c(
    'user-numeric-no-passwd',
    L(
      'RUN mkdir -m 777 /out',
      'USER 1000:1000',
      'RUN id | sed "s/ groups=.*//" > /out/id.txt && touch /out/owned',
      'USER 1001:5',
      'RUN id | sed "s/ groups=.*//" > /out/id2.txt && touch /out/owned2',
    ),
  ),
  c(
    'workdir-under-symlink',
    L('RUN mkdir /real && ln -s /real /lnk', 'WORKDIR /lnk/sub', 'RUN pwd > /pwd.txt', 'COPY a.txt .'),
    { files: { 'a.txt': 'a' } },
  ),
  c(
    'env-quotes-escapes',
    L(
      'ENV A="x=y" B=a\\ b C=\'single $HOME\' D="dq \\"in\\" $HOME" E=\\$literal F=a=b=c',
      'ENV G="tab\\there" H=${A}_${B} I="${C:+set}" J=${NOPE:-$A}',
      'RUN echo "$A|$B|$C|$D|$E|$F|$G|$H|$I|$J" > /env.txt',
    ),
  ),
  c(
    'label-escapes-multiline',
    L(
      'LABEL q="say \\"hi\\"" s=\'it\'"s" \\',
      '      multi="one \\',
      'two" empty=""',
      'LABEL "with space"="v w" back=a\\\\b',
    ),
  ),
  c(
    'cmd-entrypoint-json-edges',
    L('ENTRYPOINT [not json', 'CMD ["echo", "caf\\u00e9 \\"q\\" \\\\ \\t/", "$HOME"]', 'STOPSIGNAL 9'),
  ),
  {
    name: 'onbuild-copy',
    dockerfile: `${BB}FROM bb AS parent\n${L(
      'ONBUILD COPY a.txt /onb/',
      'ONBUILD ENV FROM_ONBUILD=1',
      'FROM parent',
      'RUN echo $FROM_ONBUILD > /seen.txt',
    )}`,
    files: { 'a.txt': 'a' },
  },
  c('dockerignore-advanced', 'COPY . /ctx/\n', {
    files: {
      '.dockerignore':
        '**/*.tmp\n!**/keep.tmp\n/root-only.txt\ndocs/**\n!docs/README.md\n# comment\n./sub/x.bak\n',
      'a.tmp': 't',
      'keep.tmp': 'k',
      'deep/er/b.tmp': 'b',
      'deep/er/keep.tmp': 'k2',
      'root-only.txt': 'r',
      'sub/root-only.txt': 'kept',
      'docs/README.md': 'readme',
      'docs/api/x.md': 'x',
      'sub/x.bak': 'bak',
    },
  }),
  {
    name: 'target-middle-skips-broken',
    dockerfile: `${BB}${L(
      'FROM bb AS broken',
      'RUN exit 3',
      'FROM bb AS mid',
      'RUN echo mid > /mid',
      'FROM broken',
      'RUN echo never > /never',
    )}`,
    target: 'mid',
  },
  {
    name: 'stage-chain-three',
    dockerfile: `${BB}${L(
      'FROM bb AS a',
      'ENV A=1',
      'RUN echo a > /a',
      'FROM a AS b',
      'ENV B=$A-2',
      'WORKDIR /wb',
      'FROM b AS c',
      'RUN echo "$A $B" > c.txt',
      'USER 5',
      'FROM c',
      'LABEL final=yes',
    )}`,
  },
  c(
    'healthcheck-exec-start-period',
    'HEALTHCHECK --start-period=5s --interval=10s --timeout=3s CMD ["wget", "-q", "localhost"]\n',
  ),
  c(
    'shell-then-shell-forms',
    L(
      'SHELL ["/bin/sh", "-xc"]',
      'ENTRYPOINT exec echo ep',
      'HEALTHCHECK CMD echo hc',
      'SHELL ["/bin/sh", "-c"]',
      'CMD echo cmd',
    ),
  ),
  c('run-exec-no-expansion', L('ENV X=1', 'RUN ["/bin/busybox", "touch", "/$X", "/${HOME}"]')),
  c('volume-then-run-writes', L('VOLUME /data', 'RUN mkdir -p /data/d && echo x > /data/f')),
  c('arg-in-copy-source', L('ARG SRC=a.txt', 'ARG DST=/x', 'COPY $SRC ${DST}/', 'ADD ${SRC} $DST/y.txt'), {
    files: { 'a.txt': 'a' },
  }),
];

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

/** Fifth batch: Dockerfile text corners, JSON-form COPY, names and ids a layer tar must carry. */
export const MORE_CASES_5: ConformanceCase[] = [
  {
    name: 'dockerfile-crlf-lowercase',
    dockerfile: `${BB}from bb\r\nenv A=1 \\\r\n    B=2\r\n  # indented comment\r\nrun echo "$A$B" > /ab.txt\r\nlabel x="a#b" y=c#d\r\n`,
  },
  c(
    'copy-json-form-spaces',
    L('COPY ["a b.txt", "ü.txt", "/dst dir/"]', 'ADD ["a b.txt", "/added file.txt"]'),
    {
      files: { 'a b.txt': 'ab', 'ü.txt': 'u' },
    },
  ),
  c('copy-star-matches-dotfiles', 'COPY * /all/\nCOPY .h* /dots/\n', {
    files: { '.hidden': 'h', '.hdir/x': 'x', 'vis.txt': 'v', 'sub/y': 'y' },
  }),
  c(
    'run-tar-edge-entries',
    L(
      'RUN mkdir -p /e && cd /e && d=$(printf "%0120d" 0) && mkdir -p "$d/$d" && echo long > "$d/$d/file-with-a-long-name-$d" && ln -s "/e/$d/$d/file-with-a-long-name-$d" longlink',
      'RUN cd /e && echo u > "ünïcødé ☃.txt" && touch big-ids && chown 2000000:3000000 big-ids && touch nobody && chown 65534:65534 nobody',
      'RUN cd /e && echo h > h1 && ln h1 h2 && mkdir -p sub && ln h1 sub/h3 && touch noperm && chmod 000 noperm && mkdir -m 000 nopermdir',
      'RUN cd /e && dd if=/dev/zero of=sparse bs=1k count=0 seek=3000 2>/dev/null && printf x >> sparse',
    ),
  ),
  c(
    'expose-sctp-volume-multi',
    L('EXPOSE 132/sctp 7/tcp', 'VOLUME /a /b', 'VOLUME ["/c"]', 'STOPSIGNAL sigterm'),
  ),
];

/** Sixth batch: copies onto existing dirs, escaping links, same-line expansion, stage refs. */
export const MORE_CASES_6: ConformanceCase[] = [
  {
    name: 'copy-onto-existing-dirs',
    dockerfile: `${BB}${L(
      'FROM bb AS src',
      'RUN mkdir -p /t/in && chmod 750 /t && chown 5:6 /t && echo n > /t/in/new && chmod 711 /t/in',
      'FROM bb',
      'RUN mkdir -m 700 /m /x && touch /m/old && mkdir -m 700 /m/in && chown 9:9 /m/in',
      'COPY dir /m',
      'COPY --from=src /t /x',
      'COPY --from=src /t /fresh',
      'COPY --from=src /t/ /fresh2/',
    )}`,
    prepare: 'mkdir -p dir/in && echo c > dir/in/ctx && chmod 755 dir && chmod 751 dir/in',
  },
  c(
    'copy-dest-link-escape',
    L(
      'RUN ln -s ../../.. /esc && ln -s /../../etc2 /abs-esc && mkdir /real && ln -s ../real /rel',
      'COPY a.txt /esc/x/',
      'COPY a.txt /abs-esc/',
      'COPY a.txt /rel/sub/',
    ),
    { files: { 'a.txt': 'a' } },
  ),
  {
    name: 'run-mount-bind-from-stage',
    dockerfile: `${BB}${L(
      'FROM bb AS data',
      'RUN mkdir -p /d && echo payload > /d/p',
      'FROM bb',
      'RUN --mount=type=bind,from=data,source=/d,target=/in cp /in/p /copied && ls -la /in | wc -l > /count',
      'RUN --mount=from=data,target=/whole cat /whole/d/p > /whole.txt',
    )}`,
  },
  c(
    'env-same-line-refs',
    L('ENV A=1', 'ENV A=2 B=$A C=${A}x', 'ARG X=10', 'ARG X=20 Y=$X', 'ENV Y=$Y X=$X', 'LABEL a=$A b=$B'),
  ),
  c(
    'undefined-vars-in-paths',
    L('COPY $NOPE/a.txt /x${NOPE}/', 'USER $NOPE', 'EXPOSE ${P:-81}', 'VOLUME ${V:-/v}'),
    { files: { 'a.txt': 'a' } },
  ),
  c('onbuild-lowercase', L('onbuild run echo hi', 'ONBUILD copy --chown=1:1 a /b', 'onbuild env X=1')),
  {
    name: 'from-platform-and-stage-case',
    dockerfile: `${BB}${L(
      'FROM --platform=$BUILDPLATFORM bb AS Builder',
      'ARG TARGETARCH',
      'RUN echo "$TARGETARCH" > /arch',
      'FROM builder AS next',
      'RUN cat /arch > /arch2',
      'FROM --platform=$TARGETPLATFORM next',
    )}`,
  },
  c(
    'add-chmod-and-chown-file',
    L('ADD --chmod=711 a.txt /added/', 'ADD --chown=3:4 --chmod=604 a.txt /added2.txt'),
    {
      files: { 'a.txt': 'a' },
    },
  ),
];

/** Seventh batch: context links, odd names, inherited CMD/SHELL rules, more ignore patterns. */
export const MORE_CASES_7: ConformanceCase[] = [
  c('copy-context-top-symlinks', L('COPY lnk /lf', 'COPY sub/* /w/', 'COPY dir /d'), {
    files: {
      'target.txt': 't',
      lnk: '->target.txt',
      'sub/a': 'a',
      'sub/l': '->a',
      'dir/out': '->/etc/hostname',
      'dir/up': '->../target.txt',
    },
  }),
  c(
    'run-odd-names',
    L(
      'RUN mkdir /n && cd /n && touch "a\\\\b" "c:d" -- "-dash" "trail " " lead" "q\'uote" "dq\\"x" "$(printf "nl\\nx")" "*star" "tab\tx"',
    ),
  ),
  {
    name: 'copy-from-through-link',
    dockerfile: `${BB}${L(
      'FROM bb AS src',
      'RUN mkdir -p /t/real && echo f > /t/real/file && ln -s real /t/link && ln -s /t/real /t/abslink',
      'FROM bb',
      'COPY --from=src /t/link/file /one',
      'COPY --from=src /t/abslink/ /two/',
      'COPY --from=src /t/link /three',
    )}`,
  },
  {
    name: 'cmd-shell-inherit-rules',
    dockerfile: `${BB}${L(
      'FROM bb AS p',
      'CMD ["parent"]',
      'SHELL ["/bin/sh", "-ec"]',
      'FROM p AS c1',
      'ENTRYPOINT ["e1"]',
      'FROM p AS c2',
      'CMD ["mine"]',
      'ENTRYPOINT ["e2"]',
      'RUN echo shell-inherited > /s.txt',
      'FROM c2',
      'ENTRYPOINT e3',
    )}`,
  },
  c('dockerignore-more', 'COPY . /ctx/\n', {
    files: {
      '.dockerignore': '*\n!busybox\n!keep*\n!dir/\ndir/*.log\n  spaced.txt  \n!**/deep.md\n',
      keep1: 'k',
      'keep-dir/x': 'x',
      'dir/a.log': 'l',
      'dir/b.txt': 'b',
      'spaced.txt': 's',
      'x/y/deep.md': 'd',
      other: 'o',
    },
  }),
];

/** Eighth batch: stage chosen by a build arg, --chown resolved in the destination, quoting. */
export const MORE_CASES_8: ConformanceCase[] = [
  {
    name: 'from-stage-by-build-arg',
    dockerfile: `ARG BASE=one\n${BB}${L(
      'FROM bb AS one',
      'RUN echo one > /which',
      'FROM bb AS two',
      'RUN echo two > /which',
      'FROM ${BASE}',
      'ARG BASE',
      'RUN cat /which > /got && echo "$BASE" >> /got',
    )}`,
    buildArgs: { BASE: 'two' },
  },
  {
    name: 'copy-from-chown-dest-passwd',
    dockerfile: `${BB}${L(
      'FROM bb AS src',
      'RUN mkdir /o && echo o > /o/f',
      'FROM bb',
      PASSWD.trimEnd(),
      'COPY --from=src --chown=app:staff /o /owned',
      'RUN chmod 600 /etc/passwd && touch /etc/group',
    )}`,
  },
  c(
    'arg-env-quoting-unicode',
    L(
      'ARG A="x y"',
      "ARG B='$A'",
      'ENV\tC=$A D="$B" U=日本語 T="a\tb"',
      'LABEL "a.b-c"=$A "ü"=ß',
      'RUN\techo "$A|$B|$C|$D|$U" > /q.txt',
    ),
  ),
  c(
    'workdir-empty-expose-forms',
    L('WORKDIR /a', 'WORKDIR $NOPE', 'RUN pwd > /p.txt', 'EXPOSE 80/ 81/SCTP 82/Udp'),
  ),
  c(
    'copy-same-content-twice',
    L('COPY a.txt /a.txt', 'COPY a.txt /a.txt', 'RUN cp /a.txt /b.txt && cp /a.txt /b.txt'),
    {
      files: { 'a.txt': 'same' },
    },
  ),
];

/** Ninth batch: archive formats and destinations. */
export const MORE_CASES_9: ConformanceCase[] = [
  c(
    'run-etc-and-env-numeric-user',
    L(
      'RUN mkdir -m 777 /out',
      'USER 1000:1000',
      'RUN env | sort > /out/env.txt && cat /etc/hosts > /out/hosts.txt && hostname >> /out/hosts.txt',
      'RUN ls -la /dev | sed "s/ [A-Z][a-z][a-z] .* / /" > /out/dev.txt',
    ),
  ),
  c(
    'copy-chown-existing-dest',
    L(
      'RUN mkdir -m 700 /exist /exist2 && mkdir -p /p/q && touch /exist/old',
      'COPY --chown=5:5 dir /exist',
      'COPY --chown=6:6 dir/ /exist2/',
      'COPY --chown=7:7 a.txt /p/q/r/',
      'COPY --chmod=711 dir /exist3',
    ),
    { files: { 'a.txt': 'a', 'dir/x': 'x', 'dir/s/y': 'y' } },
  ),
  {
    name: 'copy-chown-keeps-setuid',
    dockerfile: `${BB}${L(
      'FROM bb AS src',
      'RUN mkdir /s && touch /s/u /s/g && chmod 4755 /s/u && chmod 2755 /s/g && mkdir -m 3775 /s/d',
      'FROM bb',
      'COPY --chown=5:6 suid sgid /ctx/',
      'COPY --from=src --chown=7:8 /s /from',
      'COPY --chmod=4750 --chown=1:2 plain /chm',
      'COPY --from=src --chmod=755 /s/u /chsrc',
      'COPY --chmod=2775 sub /chdir',
    )}`,
    files: { plain: 'p', 'sub/f': 'f' },
    prepare: 'touch suid sgid && chmod 4755 suid && chmod 2711 sgid',
  },
  c(
    'add-archive-formats-dests',
    L('ADD pax.tar /nonexist', 'ADD gnu.tar /nonexist2/', 'COPY pax.tar /copied/', 'ADD special.tar /sp/'),
    {
      prepare: [
        'd=$(printf "%0110d" 7)',
        'mkdir -p "t/$d" && echo p > "t/$d/file-$d" && ln -s "$d/file-$d" t/ln && chmod 700 "t/$d"',
        'T="tar --mtime=@0 --sort=name"',
        '$T --format=pax --pax-option=delete=atime,delete=ctime --owner=0 --group=0 -C t -cf pax.tar .',
        '$T --format=gnu --owner=1 --group=2 -C t -cf gnu.tar .',
        'mkdir s && mkfifo s/fifo && mkdir -m 1777 s/tmp && touch s/empty && chmod 4711 s/empty',
        'touch s/sg && chmod 2755 s/sg && $T --owner=0 --group=0 -C s -cf special.tar .',
        'rm -rf t s',
      ].join(' && '),
    },
  ),
];

/** Tenth batch: parser directives and continuations at the edges, word expansion corners. */
export const MORE_CASES_10: ConformanceCase[] = [
  {
    name: 'directive-case-and-unknown',
    dockerfile: `# ESCAPE=\`\n# foo=bar\n${BB}FROM bb\n${L('RUN echo a `', '   ', '  b > /x.txt', 'ENV P=C:\\x')}RUN echo last \``,
  },
  {
    name: 'directive-after-blank-ignored',
    dockerfile: `\n# escape=\`\n${BB}FROM bb\n${L('ENV P=a\\\\b Q=c`d', 'RUN echo "# not a comment" > /h.txt')}`,
  },
  {
    name: 'whitespace-and-stage-names',
    dockerfile: `${BB}FROM bb as my.stage-1_x\n${L(
      '   RUN echo a \\  ',
      '\t  b > /ab.txt',
      'LABEL a=1 \\\t',
      '      b=2',
      'CMD [""]',
      'FROM my.stage-1_x',
      'ENTRYPOINT ["sh", "-c"]',
      'CMD echo "$HOME"',
    )}`,
  },
  {
    name: 'copy-from-special-files',
    dockerfile: `${BB}${L(
      'FROM bb AS src',
      'RUN mkdir /sp && mkfifo -m 640 /sp/fifo && mknod -m 600 /sp/null c 1 3 && mkdir /sp/sub && mkfifo /sp/sub/f2',
      'FROM bb',
      'COPY --from=src /sp /copied',
      'COPY --from=src /sp/fifo /single-fifo',
      'COPY --from=src --chown=3:3 /sp/ /owned/',
    )}`,
  },
  c('copy-context-special-files', 'COPY . /ctx/\nCOPY d /d\n', {
    files: { 'a.txt': 'a' },
    prepare: 'mkdir d && mkfifo d/fifo && mkfifo topfifo && echo x > d/x',
  }),
  c(
    'env-home-path-interplay',
    `${PASSWD}${L(
      'ARG P=$PATH',
      'RUN mkdir -m 777 /o && echo "$P" > /o/p.txt',
      'ENV HOME=/custom',
      'USER app',
      'RUN echo "$HOME $PATH" > /o/home.txt',
      'USER root',
      'ENV PATH=',
      'RUN ["/bin/busybox", "sh", "-c", "echo [$PATH] > /o/empty-path.txt"]',
    )}`,
  ),
  c(
    'wildcard-matching-nothing',
    L(
      'COPY nomatch* a.txt /x/',
      'COPY nomatch* /y/',
      'COPY --from=bb /nomatch* /z/',
      'ADD nomatch*.tar /w/',
      'COPY nomatch* /single',
    ),
    { files: { 'a.txt': 'a' } },
  ),
  {
    name: 'target-case-insensitive',
    dockerfile: `${BB}${L('FROM bb AS Builder', 'RUN echo b > /b', 'FROM bb', 'RUN echo last > /last')}`,
    target: 'BUILDER',
  },
  {
    name: 'copy-from-relative-source',
    dockerfile: `${BB}${L(
      'FROM bb AS src',
      'WORKDIR /w',
      'RUN mkdir -p rel && echo r > rel/file && mkdir -p /rel && echo root > /rel/file',
      'FROM bb',
      'WORKDIR /dst',
      'COPY --from=src rel/file ./',
      'COPY --from=src ./rel /tree',
    )}`,
  },
  c(
    'run-mount-secret-and-ssh-absent',
    L(
      'RUN --mount=type=secret,id=s,target=/sec/s (cat /sec/s || echo none) > /secret.txt',
      'RUN --mount=type=cache,target=/var/cache/x,id=conf-x ls /var/cache > /cache-ls.txt',
    ),
  ),
  c(
    'add-archive-chmod-and-linked-dest',
    L(
      'RUN mkdir /real && ln -s /real /lnk',
      'ADD --chmod=700 a.tar /chm/',
      'ADD a.tar /lnk/',
      'ADD a.tar /lnk/deeper',
    ),
    {
      prepare:
        'mkdir t && echo f > t/f && mkdir t/d && tar --owner=0 --group=0 -C t -cf a.tar f d && rm -rf t',
    },
  ),
  c(
    'quoted-keys',
    L('LABEL \'d e\'="f g" h\\ i=j', 'ENV "K"=1 \'L\'=2', 'ARG "Q"=3', 'RUN echo "$K$L$Q" > /k.txt'),
  ),
  c(
    'duplicate-keys',
    L(
      'ENV K=1 K=2 J=$K',
      'LABEL a=1 a=2',
      'EXPOSE 80 80/tcp',
      'VOLUME /a /a',
      'ARG A=1 A=2',
      'RUN echo "$A $K $J" > /d.txt',
    ),
  ),
  c(
    'quoted-and-expanded-words',
    L(
      'ARG K=name',
      'ENV $K=v ${K}2=w',
      'VOLUME "/a" \'/c\'',
      'EXPOSE "80" \'81/udp\'',
      'WORKDIR "/w d"',
      'USER "1:2"',
      'STOPSIGNAL "SIGTERM"',
    ),
  ),
  c(
    'not-expanded-words',
    L(
      'ENV A=one X=/bin/sh',
      'MAINTAINER $A',
      'SHELL ["$X", "-c"]',
      'HEALTHCHECK CMD echo $A',
      'ENTRYPOINT ["echo", "$A"]',
      'ENV B=$B:x',
      'ARG C=$C-y',
      'ENV C=$C',
    ),
  ),
  c(
    'proxy-build-args',
    L(
      'RUN echo "[$HTTP_PROXY][$no_proxy][$FTP_PROXY]" > /p.txt',
      'ARG HTTP_PROXY',
      'RUN echo "$HTTP_PROXY" > /p2.txt',
    ),
    {
      buildArgs: { HTTP_PROXY: 'http://proxy.invalid:3128', no_proxy: 'localhost' },
    },
  ),
  {
    name: 'build-arg-empty-and-env-shadow',
    dockerfile: `${BB}${L(
      'FROM bb AS p',
      'ENV A=fromenv',
      'FROM p',
      'ARG A=fromarg',
      'ARG V=dflt',
      'ARG W',
      'RUN echo "[$A][$V][$W]" > /o.txt',
      'LABEL v=[$V] w=[$W]',
    )}`,
    buildArgs: { V: '', W: '' },
  },
  c(
    'expansion-corners',
    L(
      'ENV A="a b" E=',
      'ENV R1="${A:-x y}" R2=${NOPE:-"q r"} R3="${E:-}" R4=${A:+"set $A"} R5=\\${A} R6="\\$A" R7=\'${A}\'',
      'ENV R8="a\\\\b" R9=a\\\\b R10="tab\\\\t" R11=$A$A R12=${A}${NOPE}${A}',
      'LABEL l1="${A}" l2=\\$A l3="$NOPE-x"',
      'RUN echo "$R1|$R2|$R3|$R4|$R5|$R6|$R7|$R8|$R9|$R10|$R11|$R12" > /r.txt',
    ),
  ),
  c('copy-src-dot-segments', L('COPY sub/../a.txt /x/', 'COPY ./sub/./b.txt /y/', 'COPY sub/.. /whole/'), {
    files: { 'a.txt': 'a', 'sub/b.txt': 'b' },
  }),
];
