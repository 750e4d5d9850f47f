// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Dockerfile variables, not JS placeholders
/** Differential cases, batch 13: what a RUN bind mount of the context shows. */
import { BB, type ConformanceCase } from './kit.js';

const STAT = "stat -c '%n %u:%g %a %F %s'";

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
];
