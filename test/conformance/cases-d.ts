// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile variables, not JS placeholders
/** Differential cases, batches 5 to 8 (same rules as cases.ts). */
import { BB, type ConformanceCase, c, L, PASSWD } from './kit.js';

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
