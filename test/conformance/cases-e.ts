// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile variables, not JS placeholders
/** Differential cases, batches 9 and 10 (same rules as cases.ts). */
import { BB, type ConformanceCase, c, L, PASSWD } from './kit.js';

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
  c('env-legacy-forms', L('ENV A B=C  D', 'ENV E "quoted  value"', 'ENV F=1', 'ENV G $F-x', 'LABEL l=$A')),
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
  // Supplementary groups of a RUN as `id` shows them: memberships by name only, none with a group.
  c(
    'run-id-supplementary-groups',
    `${PASSWD}${L(
      'RUN mkdir -p /ids /tmp && chmod 1777 /tmp && id > /ids/none.txt',
      'USER app',
      'RUN id > /tmp/app.txt',
      'USER app:staff',
      'RUN id > /tmp/app-staff.txt',
      'USER 1000',
      'RUN id > /tmp/uid.txt',
      'USER 4242:4343',
      'RUN id > /tmp/ids.txt',
      'USER root',
      'RUN id > /ids/root.txt && cat /tmp/*.txt >> /ids/root.txt && rm /tmp/*.txt',
    )}`,
  ),
];
