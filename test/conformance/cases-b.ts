// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile variables, not JS placeholders
/**
 * Second batch of differential cases: parser corners (escape directive, continuations, quoting),
 * variable scoping and expansion in every instruction that expands, COPY/ADD of unusual trees, RUN
 * diffs that replace or empty directories, and stage selection. Same rules as cases.ts.
 */
import { BB, type ConformanceCase, c, L, PASSWD } from './kit.js';

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
