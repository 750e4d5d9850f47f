// Generators of the randomized differential builds (differential.ts): the filesystem families.
import type { ConformanceCase } from './kit.js';
import type { R } from './rng.js';

export const BB = 'FROM localhost:5000/busybox:latest AS bb\n';

export const CONTEXT = {
  a: 'A',
  b: 'B',
  'x.txt': 'X',
  'y.md': 'Y',
  '.hid': 'H',
  'd1/x': 'd1x',
  'd1/sub/k': 'k',
  'd2/deep/z': 'z',
  // a hyphen in a wildcard match (a unicode-mode RegExp once refused `my-*`)
  'my-f.txt': 'M',
};

/** A COPY line; several sources get a directory destination (the frontend refuses them otherwise). */
function copyLine(flags: string, srcs: string[], dest: string): string {
  return `COPY ${flags}${srcs.join(' ')} ${srcs.length > 1 && !dest.endsWith('/') ? `${dest}/` : dest}`;
}

/** COPY from the context: random sources, destinations and flags, over a tree a RUN may have made. */
export function copyCase(r: R): Partial<ConformanceCase> {
  const lines = ['FROM bb'];
  if (r.next() < 0.3) lines.push('RUN mkdir -p /t/d1 && echo pre > /t/a');
  for (let i = r.int(2, 4); i > 0; i--) {
    const srcs = r.sample(
      [
        'a',
        'b',
        'x.txt',
        '*.txt',
        'd1',
        'd1/',
        'd2/deep',
        '.',
        'd?',
        'hl*',
        '.hid',
        'lnk',
        'my-*',
        '[l-n]?-f.txt',
      ],
      r.int(1, 3),
    );
    const dest = r.pick(['/t/', '/t', '/t/n', '/', 'rel/', '/t/d1/', '/t/a', '/deep/a/b/']);
    lines.push(copyLine(r.pick(['', '--chown=7:8 ', '--chmod=640 ']), srcs, dest));
  }
  return {
    dockerfile: `${BB}${lines.join('\n')}\n`,
    files: { ...CONTEXT, hl1: 'hard', lnk: `->${r.pick(['a', 'd1', 'x.txt'])}` },
    prepare: 'ln hl1 hl2 && ln hl1 d1/hl3',
  };
}

/** Files, directories and symlinks meeting at one destination across layers. */
export function collideCase(r: R): Partial<ConformanceCase> {
  const lines = [
    'FROM bb AS s',
    'RUN mkdir -p /s/dd && echo f > /s/f && echo g > /s/dd/g && ln -s dd /s/ln',
    'FROM bb',
    'RUN mkdir /t',
  ];
  for (let i = r.int(2, 5); i > 0; i--) {
    const name = r.pick(['x', 'y', 'x/y', 'l', 'd']);
    const k = r.next();
    if (k < 0.25) lines.push(`RUN mkdir -p /t/${name}`);
    else if (k < 0.35) lines.push(`RUN echo r > /t/${r.pick(['x', 'y', 'l'])} || true`);
    else if (k < 0.45)
      lines.push(`RUN ln -sfn ${r.pick(['/etc', 'x', '../t/y', 'nowhere'])} /t/${r.pick(['l', 'x', 'y'])}`);
    else if (k < 0.5) lines.push(`RUN rm -rf /t/${r.pick(['x', 'y', 'l'])}`);
    else {
      const from = r.next() < 0.2;
      const src = from
        ? `--from=s /s/${r.pick(['f', 'dd', 'ln', 'dd/'])}`
        : r.pick(['a', 'd1', 'd1/', 'a b', 'd1 a', 'd?']);
      const dest = `/t/${r.pick(['', 'x', 'x/', 'y', 'l', 'l/', 'l/z', 'x/y', 'd', 'd/'])}`;
      lines.push(copyLine('', from ? [src] : src.split(' '), dest));
    }
  }
  return { dockerfile: `${BB}${lines.join('\n')}\n`, files: CONTEXT };
}

/** RUN steps that delete, move, link, chmod, chown and empty directories across layers. */
export function runCase(r: R): Partial<ConformanceCase> {
  const P = ['/w/a', '/w/b', '/w/d', '/w/d/e', '/w/d/f', '/w/g/h', '/w/g'];
  const op = () => {
    const [p, q] = [r.pick(P), r.pick(P)];
    return r.pick([
      `mkdir -p ${p}`,
      `rm -rf ${p}`,
      `echo ${r.int(0, 9)} > ${p}`,
      `mv ${p} ${q}`,
      `ln ${p} ${q}`,
      `ln -sfn ${q} ${p}`,
      `chmod ${r.pick(['700', '644', '4755', '1777'])} ${p}`,
      `chown ${r.pick(['1:2', '33:33'])} ${p}`,
      `touch ${p}`,
      `rmdir ${p}`,
      `mkfifo ${p}`,
      `cp -a /w/d ${p}`,
      'rm -rf /w/d/* && touch /w/d/only',
    ]);
  };
  const lines = [
    'FROM bb',
    'RUN mkdir -p /w/d /w/g && echo 1 > /w/a && echo 2 > /w/d/e && ln -s ../a /w/d/f && echo 3 > /w/g/h',
  ];
  for (let i = r.int(2, 6); i > 0; i--) {
    const ops = Array.from({ length: r.int(1, 3) }, () => `${op()} 2>/dev/null`);
    lines.push(`RUN ${ops.join('; ')}; true`);
  }
  return { dockerfile: `${BB}${lines.join('\n')}\n` };
}

/** COPY --from a stage with hard links, symlinks, a FIFO, setuid and owned dirs. */
export function fromCase(r: R): Partial<ConformanceCase> {
  const stage =
    'FROM bb AS s\nRUN mkdir -p /s/d/e /s/o && echo f > /s/f && echo g > /s/d/g && ln /s/f /s/d/hf && ln -s ../f /s/d/lf ' +
    '&& ln -s d /s/ld && ln -s /s/d/e /s/abs && chmod 4755 /s/d/g && chown 5:6 /s/d/e && mkfifo /s/d/fifo ' +
    '&& echo x > /s/o/x.txt && chmod 700 /s/o && touch /s/.hid\n';
  const lines = ['FROM bb'];
  if (r.next() < 0.4)
    lines.push(
      r.pick(['RUN mkdir -p /t/d && echo old > /t/f', 'RUN mkdir -p /t && ln -s /etc /t/d', 'WORKDIR /w']),
    );
  for (let i = r.int(1, 3); i > 0; i--) {
    const srcs = r.sample(
      ['/s/f', '/s/d', '/s/d/', '/s/d/*', '/s/ld', '/s/abs', '/s/o/*.txt', '/s/*', '/s/d/hf', '/s/.', '/s/?'],
      r.int(1, 2),
    );
    const dest = r.pick(['/t/', '/t', '/t/n', '/', '/t/d/', '/t/f', './']);
    lines.push(copyLine(`${r.pick(['', '--chown=1:2 ', '--chmod=600 '])}--from=s `, srcs, dest));
  }
  return { dockerfile: `${BB}${stage}${lines.join('\n')}\n` };
}

/** Random .dockerignore files (patterns, exceptions, anchors, classes, escapes) over a fixed tree. */
export function ignoreCase(r: R): Partial<ConformanceCase> {
  const paths = [
    'a.txt',
    'b.md',
    'c',
    'd/a.txt',
    'd/e/f.txt',
    'd/e/g.md',
    'x/y/z',
    '.hid',
    'd/.hid',
    'a b.txt',
    'deep/1/2/a.txt',
    'Dir/A.TXT',
    '[x]',
    'm*n',
  ];
  const atoms = [
    '*',
    '**',
    '?',
    'a',
    'd',
    'e',
    'x',
    '*.txt',
    '*.md',
    'a*',
    '[a-c]',
    '[!a]',
    '.hid',
    'deep',
    '1',
    'Dir',
    '\\[x]',
    'm\\*n',
  ];
  const pattern = () => {
    let p = Array.from({ length: r.int(1, 3) }, () => r.pick(atoms)).join('/');
    if (r.next() < 0.2) p = `/${p}`;
    if (r.next() < 0.15) p = `${p}/`;
    return r.next() < 0.3 ? `!${p}` : p;
  };
  const files: Record<string, string> = Object.fromEntries(paths.map((p) => [p, p]));
  files['.dockerignore'] = `${Array.from({ length: r.int(1, 5) }, pattern).join('\n')}\n`;
  return { dockerfile: `${BB}FROM bb\nCOPY . /c/\n`, files };
}
