/**
 * Differential cases: each is built by tsbuild and (when recording) by BuildKit; the normalized
 * images must match the golden files in ./golden (see README "Conformance"). Every case starts from
 * the same busybox stage (`bb`), made from the host's busybox-static, so no registry is needed.
 */
import { MORE_CASES } from './cases-b.js';
import { MORE_CASES_3, MORE_CASES_4 } from './cases-c.js';
import { MORE_CASES_5, MORE_CASES_6, MORE_CASES_7, MORE_CASES_8 } from './cases-d.js';
import { MORE_CASES_9, MORE_CASES_10 } from './cases-e.js';
import { MORE_CASES_11 } from './cases-f.js';
import { MORE_CASES_12 } from './cases-g.js';
import { MORE_CASES_13 } from './cases-h.js';
import { BB, type ConformanceCase, c, PASSWD } from './kit.js';

export type { ConformanceCase } from './kit.js';

const FIRST: ConformanceCase[] = [
  c('env-basic', 'ENV A=1 B="two words" C=3\nENV LEGACY value with spaces\n'),
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Dockerfile variables, not JS placeholders
  c('env-expansion', "ENV A=1\nENV B=$A C=${A}-${B:-z} D=${UNSET:-dflt} E='$A'\n"),
  c('env-path-override', 'ENV PATH=/opt/bin:$PATH\nRUN echo $PATH > /path.txt\n'),
  c('arg-default', 'ARG V=1.0\nRUN echo $V > /v.txt\n'),
  c('arg-build-arg', 'ARG V=1.0\nARG W\nRUN echo "$V-$W" > /v.txt\n', { buildArgs: { V: '2.0', W: 'w' } }),
  {
    name: 'arg-meta-from',
    dockerfile: `ARG STAGE=bb\n${BB}FROM \${STAGE}\nARG STAGE\nRUN echo $STAGE > /stage.txt\n`,
  },
  c('arg-not-env', 'ARG SECRETISH=x\nRUN env | grep -c SECRETISH > /count.txt || true\n'),
  c('label-multi', 'LABEL a=1 "b c"=2\nLABEL d="multi word" e=$HOME\n'),
  c('workdir-relative', 'WORKDIR /a\nWORKDIR b\nWORKDIR ../c\nRUN pwd > /pwd.txt\n'),
  c('workdir-user-owner', `${PASSWD}USER app\nWORKDIR /home/app/work\nUSER root\n`),
  c('user-config', `${PASSWD}USER app:staff\nRUN id -u > /dev/null\n`),
  c('expose-ports', 'EXPOSE 80 443/tcp 53/udp\nEXPOSE 8000-8002\n'),
  c('volume', 'VOLUME /data\nVOLUME ["/a", "/b"]\n'),
  c('stopsignal', 'STOPSIGNAL SIGQUIT\n'),
  c(
    'healthcheck-cmd',
    'HEALTHCHECK --interval=30s --timeout=5s --retries=2 CMD wget -q -O- localhost || exit 1\n',
  ),
  c('healthcheck-none', 'HEALTHCHECK NONE\n'),
  c('shell-instruction', 'SHELL ["/bin/sh", "-ec"]\nRUN echo shell > /shell.txt\nCMD echo cmd\n'),
  c('cmd-shell-form', 'CMD echo "hello world"\n'),
  c('cmd-exec-form', 'CMD ["echo", "hello"]\n'),
  c('entrypoint-resets-cmd', 'CMD ["a"]\nENTRYPOINT ["/bin/echo"]\n'),
  c('entrypoint-then-cmd', 'ENTRYPOINT /bin/echo x\nCMD ["b"]\n'),
  c('maintainer', 'MAINTAINER Jane Doe <jane@example.com>\n'),
  c('onbuild-recorded', 'ONBUILD RUN echo hi\nONBUILD COPY . /app\n'),
  {
    name: 'onbuild-trigger',
    dockerfile: `${BB}FROM bb AS parent\nONBUILD RUN echo triggered > /trig.txt\nFROM parent\nRUN cat /trig.txt > /copy.txt\n`,
  },
  c('copy-file-to-dir', 'COPY a.txt /dest/\n', { files: { 'a.txt': 'a\n' } }),
  c('copy-file-rename', 'COPY a.txt /dest/renamed.txt\n', { files: { 'a.txt': 'a\n' } }),
  c('copy-dir-contents', 'COPY src /app/src\n', { files: { 'src/a.txt': 'a', 'src/sub/b.txt': 'b' } }),
  c('copy-wildcard', 'COPY *.js /js/\nCOPY s?c/*.txt /txt/\n', {
    files: { 'a.js': '1', 'b.js': '2', 'c.txt': '3', 'src/x.txt': 'x' },
  }),
  c('copy-multiple-sources', 'COPY a.txt b.txt dir /multi/\n', {
    files: { 'a.txt': 'a', 'b.txt': 'b', 'dir/c.txt': 'c' },
  }),
  c('copy-chown-numeric', 'COPY --chown=1000:1000 a.txt /owned/\nCOPY --chown=33 a.txt /owned2/\n', {
    files: { 'a.txt': 'a' },
  }),
  c('copy-chown-names', `${PASSWD}COPY --chown=app:staff a.txt /owned/\nCOPY --chown=app dir /owneddir\n`, {
    files: { 'a.txt': 'a', 'dir/x': 'x' },
  }),
  c('copy-chmod', 'COPY --chmod=750 a.txt /m/\nCOPY --chmod=600 dir /mdir\n', {
    files: { 'a.txt': 'a', 'dir/x': 'x' },
  }),
  {
    name: 'copy-from-stage',
    dockerfile: `${BB}FROM bb AS build\nRUN mkdir -p /out/sub && echo built > /out/sub/file && chmod 700 /out/sub\nFROM bb\nCOPY --from=build /out /app\nCOPY --from=build /out/sub/file /single\n`,
  },
  {
    name: 'copy-from-index',
    dockerfile: `${BB}FROM bb\nRUN echo zero > /zero.txt\nFROM bb\nCOPY --from=1 /zero.txt /from-index.txt\n`,
  },
  c('copy-dest-symlink', 'RUN mkdir /real && ln -s /real /link\nCOPY a.txt /link/\n', {
    files: { 'a.txt': 'a' },
  }),
  c('copy-context-symlink', 'COPY dir /dir\n', {
    files: { 'dir/target.txt': 't', 'dir/link': '->target.txt' },
  }),
  c('copy-deep-parents', 'COPY a.txt /very/deep/path/to/a.txt\n', { files: { 'a.txt': 'a' } }),
  c('copy-relative-dest', 'WORKDIR /w\nCOPY a.txt .\nCOPY a.txt rel/\nCOPY a.txt ./b.txt\n', {
    files: { 'a.txt': 'a' },
  }),
  c('copy-overwrite', 'RUN mkdir /d && echo old > /d/f\nCOPY f /d/f\n', { files: { f: 'new' } }),
  c('copy-dot', 'COPY . /ctx/\n', { files: { 'x/y.txt': 'y', 'z.txt': 'z' } }),
  c('add-local-file', 'ADD a.txt /added/\n', { files: { 'a.txt': 'a' } }),
  c('add-tar-extract', 'ADD arch.tar.gz /unpacked/\nADD plain.tar /unpacked-plain\n', {
    prepare:
      'mkdir -p t/inner && echo t > t/inner/f && chmod 640 t/inner/f && tar --owner=0 --group=0 -C t -czf arch.tar.gz inner && tar --owner=0 --group=0 -C t -cf plain.tar inner && rm -rf t',
  }),
  c('run-exec-form', 'RUN ["/bin/sh", "-c", "echo exec > /exec.txt"]\n'),
  c(
    'run-modes-owners',
    'RUN mkdir -p /m && touch /m/a && chmod 4755 /m/a && chown 12:34 /m/a && ln -s a /m/l && mkdir -m 1777 /m/t\n',
  ),
  c('run-delete-base-file', 'RUN rm /bin/ls && mkdir -p /x && rm -rf /x\n'),
  c('run-env-visible', 'ENV FOO=bar\nARG BAZ=qux\nRUN echo "$FOO $BAZ" > /env.txt\n'),
  c('dockerignore', 'COPY . /ctx/\n', {
    files: {
      '.dockerignore': '*.log\nsecret/\n!secret/public.txt\n',
      'a.txt': 'a',
      'b.log': 'b',
      'secret/key': 'k',
      'secret/public.txt': 'p',
    },
  }),
  {
    name: 'target-stage',
    dockerfile: `${BB}FROM bb AS one\nRUN echo one > /one\nFROM bb AS two\nRUN echo two > /two\nFROM one\nRUN echo three > /three\n`,
    target: 'two',
  },
  {
    name: 'multistage-parallel',
    dockerfile: `${BB}FROM bb AS a\nRUN echo a > /a\nFROM bb AS b\nRUN echo b > /b\nFROM bb\nCOPY --from=a /a /a\nCOPY --from=b /b /b\nRUN cat /a /b > /ab\n`,
  },
  c('empty-run-layer', 'RUN true\n'),
];

export const CASES: ConformanceCase[] = [
  ...FIRST,
  ...MORE_CASES,
  ...MORE_CASES_3,
  ...MORE_CASES_4,
  ...MORE_CASES_5,
  ...MORE_CASES_6,
  ...MORE_CASES_7,
  ...MORE_CASES_8,
  ...MORE_CASES_9,
  ...MORE_CASES_10,
  ...MORE_CASES_11,
  ...MORE_CASES_12,
  ...MORE_CASES_13,
];
