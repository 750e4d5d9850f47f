// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile variables, not JS placeholders
/** Differential cases, batch 11 (same rules as cases.ts): probes of less common corners. */
import { BB, type ConformanceCase, c, L } from './kit.js';

/** /etc/passwd and /etc/group with a user and a named group, and a world-writable /tmp. */
const USERS =
  "RUN mkdir -p /etc /tmp && chmod 1777 /tmp && printf 'root:x:0:0:root:/root:/bin/sh\\napp:x:1000:1000::/home/app:/bin/sh\\n' > /etc/passwd && printf 'root:x:0:\\napp:x:1000:\\nstaff:x:50:app\\n' > /etc/group\n";

/** A `prepare` that writes t.tar with Python's tarfile (links and names GNU tar will not write). */
const pyTar = (...lines: string[]) =>
  `python3 -c "import tarfile,io\nt=tarfile.open('t.tar','w')\n${lines.join('\n')}\nt.close()"`;

/** Two stages: `s` (built by `stage`), then the final one (`body`) from `bb`, or from `s` itself. */
const twoStage = (
  name: string,
  stage: string,
  body: string,
  extra: Partial<ConformanceCase> & { on?: 's' } = {},
) => {
  const { on, ...rest } = extra;
  return { name, dockerfile: `${BB}FROM bb AS s\n${stage}FROM ${on ?? 'bb'}\n${body}`, ...rest };
};

/** Eleventh batch: ownership, modes and links in RUN diffs and COPY/ADD, names, ignore rules. */
export const MORE_CASES_11: ConformanceCase[] = [
  c('chmod-dir-source', L('COPY --chmod=751 d /d', 'COPY --chmod=640 d/ /e/'), {
    files: { 'd/a': 'a', 'd/sub/b': 'b' },
  }),
  c(
    'workdir-through-symlink',
    L('RUN mkdir -p /real && ln -s /real /link', 'WORKDIR /link/sub', 'RUN touch here', 'COPY f .'),
    {
      files: { f: 'x' },
    },
  ),
  c(
    'user-name-group-name',
    `${USERS}${L('USER app:staff', 'RUN id > /tmp/id; touch /tmp/mine', 'USER root', 'RUN cp /tmp/id /id')}`,
  ),
  twoStage(
    'copy-from-dot-and-hardlinks',
    L('RUN mkdir -p /d/x && echo 1 > /d/x/a && ln /d/x/a /d/x/b && ln -s a /d/x/c'),
    L('COPY --from=s /d/. /dst/', 'COPY --from=s /d/x/* /flat/'),
  ),
  c(
    'env-multi-and-arg-env',
    L('ENV A=1 A=2 B=${A}', 'ARG C=${B}x', 'ENV D=$C', 'RUN echo "$A $B $C $D" > /out'),
  ),
  c(
    'add-archive-chmod-existing',
    L('RUN mkdir -p /x && chmod 700 /x', 'ADD --chmod=600 t.tar /x/', 'ADD --chmod=600 t.tar /n/'),
    {
      prepare:
        'mkdir src && echo f > src/f && chmod 755 src/f && tar -cf t.tar --owner=0 --group=0 -C src . && rm -rf src',
    },
  ),
  twoStage(
    'copy-chown-name-only',
    L('RUN mkdir /d && echo 1 > /d/a'),
    `${USERS}${L('COPY --from=s --chown=app /d /d', 'COPY --chown=app:staff f /f', 'COPY --chown=1000 f /g')}`,
    { files: { f: 'x' } },
  ),
  c('copy-symlink-dir-trailing', L('COPY lnk /a/', 'COPY lnk /b', 'COPY lnk/ /c/'), {
    files: { 'dir/x': 'x', 'dir/sub/y': 'y', lnk: '->dir' },
  }),
  twoStage(
    'run-opaque-and-whiteouts',
    L('RUN mkdir -p /o/a /o/b && echo 1 > /o/a/f && echo 2 > /o/b/g && echo 3 > /keep'),
    L('RUN rm -rf /o && mkdir -p /o/c && echo 4 > /o/c/h && rm /keep && rm /bin/ls /bin/cat'),
    { on: 's' },
  ),
  {
    name: 'healthcheck-options',
    dockerfile: `${BB}FROM bb AS one\nHEALTHCHECK CMD wget -q localhost || exit 1\nFROM bb\nHEALTHCHECK --interval=5s --timeout=3s --start-period=2s --retries=4 CMD ["true"]\n`,
  },
  c(
    'shell-cmd-entrypoint',
    L('SHELL ["/bin/sh", "-ec"]', 'RUN echo hi > /hi', 'CMD echo cmd', 'ENTRYPOINT echo ep'),
  ),
  c(
    'run-in-symlinked-dir',
    L(
      'RUN mkdir -p /usr/lib && ln -s usr/lib /lib',
      'RUN echo x > /lib/added && mkdir /lib/newdir',
      'COPY f /lib/copied',
    ),
    {
      files: { f: 'f' },
    },
  ),
  {
    name: 'inherit-env-workdir-user',
    dockerfile: `${BB}FROM bb AS base\nENV A=1\nWORKDIR /w\nUSER 5:6\nFROM base\nRUN id > /w/id 2>&1 || true\nENV B=\${A}2\n`,
  },
  twoStage(
    'mount-bind-from-and-tmpfs',
    L('RUN mkdir /data && echo d > /data/f'),
    L(
      'RUN --mount=type=bind,from=s,source=/data,target=/m cat /m/f > /out',
      'RUN --mount=type=tmpfs,target=/t echo x > /t/y && ls /t > /tls',
    ),
  ),
  c('copy-single-glob-no-slash', L('COPY *.txt /one', 'COPY dir/*.md /mds/'), {
    files: { 'a.txt': 'a', 'dir/x.md': 'x', 'dir/y.md': 'y' },
  }),
  c('odd-names', L('COPY . /ctx/', 'RUN ls /ctx > /list'), {
    files: { 'with space.txt': 's', 'ünï.txt': 'u', 'a#b': 'h', '-dash': 'd' },
  }),
  twoStage(
    'run-metadata-only-changes',
    L('RUN mkdir -p /d/sub && echo a > /d/a && echo b > /d/b && echo c > /d/sub/c && echo t > /t'),
    L('RUN chmod 600 /d/a && chown 5:6 /d/b && chmod 700 /d/sub && touch /t'),
    { on: 's' },
  ),
  twoStage(
    'run-delete-recreate-and-mv',
    L('RUN mkdir -p /m/x && echo 1 > /m/x/f && echo same > /s'),
    L('RUN rm /s && echo same > /s && mv /m/x /m/y && echo tmp > /gone && rm /gone'),
    { on: 's' },
  ),
  twoStage(
    'copy-from-toplevel-symlink',
    L(
      'RUN mkdir -p /real/d && echo r > /real/d/f && ln -s /real/d /ld && ln -s real/d/f /lf && ln -s /nowhere /dangling',
    ),
    L('COPY --from=s /ld /a', 'COPY --from=s /lf /b', 'COPY --from=s /ld/ /c/', 'COPY --from=s /real /r'),
  ),
  c('context-symlink-outside-and-loop', L('COPY . /ctx/'), {
    files: { out: '->/etc/passwd', up: '->../../x', 'loop/self': '->../loop', 'ok/f': 'f' },
  }),
  c('add-archive-symlink-confined', L('RUN mkdir /sub && echo orig > /sub/f', 'ADD t.tar /z/'), {
    // moby's Untar is chrooted into the destination: `abs -> /sub` means /z/sub, not the image's /sub.
    prepare:
      "python3 -c \"import tarfile,io\nt=tarfile.open('t.tar','w')\ni=tarfile.TarInfo('sub'); i.type=tarfile.DIRTYPE; i.mode=0o755; t.addfile(i)\ni=tarfile.TarInfo('abs'); i.type=tarfile.SYMTYPE; i.linkname='/sub'; t.addfile(i)\nd=b'new\\\\n'; i=tarfile.TarInfo('abs/f'); i.size=len(d); i.mode=0o644; t.addfile(i, io.BytesIO(d))\nt.close()\"",
  }),
  c('add-archive-root-link-and-climb', L('RUN mkdir -p /tmp', 'ADD t.tar /x/'), {
    // `evil -> /` is the destination itself in the chroot; `../../m2` stops at its top.
    prepare: pyTar(
      "s=tarfile.TarInfo('evil'); s.type=tarfile.SYMTYPE; s.linkname='/'; t.addfile(s)",
      "f=tarfile.TarInfo('evil/tmp/m'); f.size=1; t.addfile(f, io.BytesIO(b'x'))",
      "g=tarfile.TarInfo('../../m2'); g.size=1; t.addfile(g, io.BytesIO(b'y'))",
    ),
  }),
  c('add-archive-deep-through-link', L('ADD t.tar /x/'), {
    prepare: pyTar(
      "s=tarfile.TarInfo('real'); s.type=tarfile.DIRTYPE; s.mode=0o755; t.addfile(s)",
      "s=tarfile.TarInfo('l'); s.type=tarfile.SYMTYPE; s.linkname='real'; t.addfile(s)",
      "f=tarfile.TarInfo('l/a/b/c'); f.size=1; t.addfile(f, io.BytesIO(b'x'))",
    ),
  }),
  c(
    'copy-into-setgid-dir',
    L(
      'RUN mkdir -p /app/sub && chown 0:50 /app /app/sub && chmod 2775 /app /app/sub',
      'COPY f /app/',
      'COPY d /app/d',
      'COPY d/ /app/sub/',
      'COPY --chown=7 f /app/owned',
    ),
    { files: { f: 'f', 'd/x/y': 'y' } },
  ),
  twoStage(
    'copy-from-keeps-owner-and-setgid',
    L('RUN mkdir -p /d/s && chown 3:4 /d /d/s && chmod 2750 /d/s && echo 1 > /d/s/f && chown 5:6 /d/s/f'),
    L(
      'RUN mkdir -p /t && chown 0:60 /t && chmod 2777 /t',
      'COPY --from=s /d /t/d',
      'COPY --from=s /d/s/f /t/',
    ),
  ),
  // The dirs WORKDIR makes below a setgid dir keep its group and bit (no chown without USER).
  c(
    'workdir-in-setgid',
    L('RUN mkdir /g && chown 0:70 /g && chmod 2777 /g', 'WORKDIR /g/a/b', 'RUN touch x'),
  ),
  c(
    'copy-context-through-linked-dir',
    L('COPY ldir/file /a', 'COPY ldir/ /b/', 'COPY ldir /c', 'COPY ldir/*.txt /d/', 'COPY abs/sub/g /e'),
    {
      files: { 'dir/file': 'f', 'dir/sub/g': 'g', 'dir/t.txt': 't', ldir: '->dir', abs: '->/dir' },
    },
  ),
  c('dockerignore-dir-reinclude-child', L('COPY . /ctx/'), {
    files: {
      '.dockerignore': 'dir\n!dir/keep\n**/*.log\n!important.log\nDockerfile\n',
      'dir/keep': 'k',
      'dir/drop': 'd',
      'dir/sub/x.log': 'l',
      'important.log': 'i',
      'a.log': 'a',
      'other/b.log': 'b',
    },
  }),
];
