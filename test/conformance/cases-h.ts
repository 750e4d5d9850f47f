// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile variables, not JS placeholders
/** Differential cases, batch 13: what a RUN bind mount of the context shows. */
import { BB, type ConformanceCase } from './kit.js';

const STAT = "stat -c '%n %u:%g %a %F'"; // no %s: a dir's size depends on the filesystem

export const MORE_CASES_13: ConformanceCase[] = [
  {
    // BuildKit mounts the context it was sent: .dockerignore applied, every id reset to 0:0.
    name: 'run-bind-context-ignored-and-owners',
    dockerfile:
      BB +
      'FROM bb\n' +
      `RUN --mount=type=bind,target=/ctx cd /ctx && find . | sort | xargs ${STAT} > /all\n` +
      `RUN --mount=type=bind,source=sub,target=/s cd /s && find . | sort | xargs ${STAT} > /sub\n` +
      `RUN --mount=type=bind,source=sub/b,target=/f ${STAT} /f > /file\n` +
      'RUN --mount=type=bind,source=sub,target=/s,rw echo x > /s/new && rm /s/b && ls /s > /rw\n',
    files: {
      'a.txt': 'a',
      'secret.txt': 's',
      'sub/b': 'bb',
      'sub/deep/c': 'c',
      '.dockerignore': 'secret.txt\n**/c\n',
    },
    prepare: 'chown 1234:1234 a.txt sub/b && chown 5:6 sub && chmod 640 sub/b && chmod 750 sub',
  },
  {
    name: 'run-bind-stage-rw-and-linked-source',
    dockerfile:
      BB +
      'FROM bb AS s\nRUN mkdir -p /d/sub && echo 1 > /d/f && chown 7:8 /d/f && chmod 600 /d/f && ln -s sub /d/l\n' +
      `FROM bb\nRUN --mount=type=bind,from=s,source=/d,target=/m,rw cd /m && echo new > n && rm f && find . | sort | xargs ${STAT} > /o\n` +
      `RUN --mount=type=bind,from=s,source=/d/l,target=/m2 ls -a /m2 > /o2 && ${STAT} /m2 >> /o2\n`,
  },
  {
    name: 'run-bind-context-symlink-source',
    dockerfile:
      BB +
      `FROM bb\nRUN --mount=type=bind,source=link,target=/m cd /m && find . | sort | xargs ${STAT} > /o\n` +
      `RUN --mount=type=bind,source=link/f,target=/m2 ${STAT} /m2 > /o2\n`,
    files: { 'sub/f': 'ff', link: '->sub' },
  },
  {
    name: 'run-bind-context-rw-discarded',
    dockerfile:
      BB +
      'FROM bb\nRUN --mount=type=bind,target=/m,rw echo x > /m/new && rm /m/a && ls /m > /o\nRUN --mount=type=bind,target=/m ls /m > /o2\n',
    files: { a: 'a', b: 'b' },
  },
  {
    name: 'run-cache-mount-from-stage',
    dockerfile:
      BB +
      'FROM bb AS s\nRUN mkdir /c && echo seed > /c/seed\nFROM bb\nRUN --mount=type=cache,from=s,source=/c,target=/cache,id=x1 ls /cache > /o\n',
  },
  {
    name: 'copy-from-stage-through-linked-dir',
    dockerfile:
      BB +
      'FROM bb AS s\nRUN mkdir -p /real/in && echo 1 > /real/in/f && ln -s real /lnk\nFROM bb\nCOPY --from=s /lnk /a\nCOPY --from=s /lnk/in /b\nCOPY --from=s /lnk/ /c/\n',
  },
  {
    name: 'run-bind-context-dir-modes',
    dockerfile:
      BB + `FROM bb\nRUN --mount=type=bind,source=d,target=/m cd /m && find . | sort | xargs ${STAT} > /o\n`,
    files: { 'd/x': 'x', 'd/e/y': 'y' },
    prepare: 'chmod 700 d/e && chmod 4755 d/x',
  },
];
