/** biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Dockerfile words, not templates */
// Randomized differential builds against BuildKit: generated Dockerfiles and contexts, built by
// dockerd 20.10's BuildKit and by tsbuild, compared as the conformance suite compares (normalized
// docker archives, `explain`ed). Needs the peers (`source ../shared/bench/peers.sh`). Run:
//   npx tsx test/conformance/differential.ts FAMILY SEED [COUNT]    families: copy collide run from ignore words args
// A DIFF prints the lines only one side has; a case both builders refuse prints both errors. The
// families found real bugs (hard links lost by COPY, a file hiding a lower directory); errors
// worded differently and the README's listed differences are expected.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from '../../src/build.js';
import { makeCaseContext } from './context.js';
import { explain } from './explain.js';
import type { ConformanceCase } from './kit.js';
import { normalizeDockerArchive } from './normalize.js';
import { type R, rng } from './rng.js';

const BB = 'FROM localhost:5000/busybox:latest AS bb\n';

const CONTEXT = {
  a: 'A',
  b: 'B',
  'x.txt': 'X',
  'y.md': 'Y',
  '.hid': 'H',
  'd1/x': 'd1x',
  'd1/sub/k': 'k',
  'd2/deep/z': 'z',
};

/** A COPY line; several sources get a directory destination (the frontend refuses them otherwise). */
function copyLine(flags: string, srcs: string[], dest: string): string {
  return `COPY ${flags}${srcs.join(' ')} ${srcs.length > 1 && !dest.endsWith('/') ? `${dest}/` : dest}`;
}

/** COPY from the context: random sources, destinations and flags, over a tree a RUN may have made. */
function copyCase(r: R): Partial<ConformanceCase> {
  const lines = ['FROM bb'];
  if (r.next() < 0.3) lines.push('RUN mkdir -p /t/d1 && echo pre > /t/a');
  for (let i = r.int(2, 4); i > 0; i--) {
    const srcs = r.sample(
      ['a', 'b', 'x.txt', '*.txt', 'd1', 'd1/', 'd2/deep', '.', 'd?', 'hl*', '.hid', 'lnk'],
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
function collideCase(r: R): Partial<ConformanceCase> {
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
function runCase(r: R): Partial<ConformanceCase> {
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
function fromCase(r: R): Partial<ConformanceCase> {
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
function ignoreCase(r: R): Partial<ConformanceCase> {
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

/** ARG/ENV/LABEL/WORKDIR/EXPOSE/CMD words: quoting, escapes and ${x:-y} forms, in the config and in a RUN. */
function wordsCase(r: R): Partial<ConformanceCase> {
  const value = () =>
    r.pick([
      'plain',
      '"a b"',
      "'s q'",
      '$A',
      '${A}',
      '${A:-dflt}',
      '${A:+alt}',
      '${U:-d}',
      '${U:+d}',
      '\\$A',
      'x\\ y',
      '"$A"',
      "'$A'",
      '${A}x',
      '$A$B',
      'a=b',
      '"q \\" in"',
      '"${A:-a b}"',
      '$',
      'ü',
      '${G}',
      '$G/$A',
    ]);
  const name = () => r.pick(['A', 'B', 'C', 'G']);
  const lines = ['FROM bb'];
  if (r.next() < 0.5) lines.push('ARG G');
  for (let i = r.int(3, 7); i > 0; i--) {
    const k = r.next();
    if (k < 0.2) lines.push(`ARG ${name()}${r.next() < 0.7 ? `=${value()}` : ''}`);
    else if (k < 0.4) lines.push(`ENV ${name()}=${value()}${r.next() < 0.4 ? ` ${name()}=${value()}` : ''}`);
    else if (k < 0.45) lines.push(`ENV ${name()} ${value()} ${value()}`);
    else if (k < 0.6) lines.push(`LABEL l${i}=${value()}${r.next() < 0.3 ? ` "m ${i}"=${value()}` : ''}`);
    else if (k < 0.7) lines.push(`WORKDIR ${r.pick(['/w/', 'w2', '/w/$A', '${A:-d}', '$G'])}`);
    else if (k < 0.75) lines.push(`EXPOSE ${r.pick(['80', '${P:-81}/udp', '$A', '90/tcp 91'])}`);
    else if (k < 0.85) lines.push(`RUN printf '%s|' "$A" "$B" "$C" "$G" "$PWD" > /o${i}`);
    else if (k < 0.92)
      lines.push(
        r.pick([
          `COPY a ${r.pick(['${A:-/cp}/', '/c/$B', '$G/', '"/q d/"'])}`,
          `USER ${r.pick(['${U:-1}:${A:-2}', '$A', '0'])}`,
          `STOPSIGNAL ${r.pick(['${S:-SIGTERM}', '$A', '9'])}`,
          `HEALTHCHECK --interval=${r.pick(['5s', '1m30s', '0s'])} CMD echo ${value()}`,
          `ONBUILD RUN echo ${value()}`,
          `ENV ${name()}=${value()} \\\n  ${name()}=${value()}`,
          'SHELL ["/bin/sh", "-ec"]',
        ]),
      );
    else
      lines.push(
        r.pick([
          `CMD echo ${value()}`,
          `CMD ["echo", "${value().replace(/"/g, '\\"')}"]`,
          `ENTRYPOINT ${value()}`,
        ]),
      );
  }
  return { dockerfile: `ARG G=${value()}\n${BB}${lines.join('\n')}\n`, files: CONTEXT };
}

/** ARG scoping: global ARGs in FROM, redeclared in stages, --build-arg values, ENV over ARG, --target. */
function argsCase(r: R): Partial<ConformanceCase> {
  const v = () => r.pick(['1', '"x y"', '', '$A', '${B:-b}', 'latest']);
  const lines = [`ARG A=${v()}`, 'ARG B', `ARG TAG=${r.pick(['latest', ''])}`];
  lines.push('FROM localhost:5000/busybox:${TAG:-latest} AS bb');
  const stages = ['bb'];
  for (let s = r.int(1, 3); s > 0; s--) {
    const name = `s${s}`;
    lines.push(`FROM ${r.pick(stages)} AS ${name}`);
    for (let i = r.int(1, 4); i > 0; i--) {
      lines.push(
        r.pick([
          'ARG A',
          `ARG A=${v()}`,
          'ARG B',
          `ARG C=${v()}`,
          `ENV A=${v()}`,
          'ARG TARGETARCH',
          'ARG BUILDPLATFORM',
          'ARG TARGETPLATFORM=x',
          `RUN echo "A=$A B=$B C=$C T=$TARGETARCH P=$BUILDPLATFORM" >> /${name}`,
          'RUN env | grep -E "^(A|B|C|TAG)=" | sort >> /env-$A || true',
          `LABEL ${name}=$A-$B-$C`,
          'WORKDIR /w$C',
        ]),
      );
    }
    stages.push(name);
  }
  const args: Record<string, string> = {};
  for (const n of r.sample(['A', 'B', 'C', 'TAG', 'UNUSED'], r.int(0, 3)))
    args[n] = n === 'TAG' ? 'latest' : r.pick(['cli', 'c l i', '']);
  return {
    dockerfile: `${lines.join('\n')}\n`,
    ...(Object.keys(args).length ? { buildArgs: args } : {}),
    ...(r.next() < 0.3 ? { target: r.pick(stages) } : {}),
  };
}

const FAMILIES: Record<string, (r: R) => Partial<ConformanceCase>> = {
  copy: copyCase,
  collide: collideCase,
  run: runCase,
  from: fromCase,
  ignore: ignoreCase,
  words: wordsCase,
  args: argsCase,
};

async function compare(k: ConformanceCase): Promise<string[]> {
  const ctx = makeCaseContext(k);
  const side = async (run: (out: string) => Promise<void> | void) => {
    const out = join(mkdtempSync(join(tmpdir(), 'tsb-diff-')), 'img.tar');
    try {
      await run(out);
      return JSON.stringify(explain(normalizeDockerArchive(out), k.dockerfile), null, 1).split('\n');
    } catch (e) {
      // dockerd names paths in its overlay mount; tsbuild names them in the image
      const msg = String((e as { stderr?: Buffer }).stderr ?? (e as Error).message).replace(
        /\S*\/overlay2\/\w+\/merged/g,
        '',
      );
      return [`error: ${msg.trim().split('\n').pop()}`];
    }
  };
  const docker = process.env.PEER_DOCKER ?? '/usr/bin/docker';
  const theirs = await side((out) => {
    const tag = `tsb-diff-${k.name}`;
    const args = Object.entries(k.buildArgs ?? {}).flatMap(([n, v]) => ['--build-arg', `${n}=${v}`]);
    if (k.target) args.push('--target', k.target);
    execFileSync(docker, ['build', '-q', '--network', 'host', ...args, '-t', tag, ctx], {
      env: { ...process.env, DOCKER_BUILDKIT: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    execFileSync(docker, ['save', '-o', out, tag]);
  });
  const ours = await side(async (out) => {
    await build({
      root: join(tmpdir(), 'tsb-diff-root'),
      context: ctx,
      outputs: [`type=docker,dest=${out}`],
      ...(k.buildArgs ? { buildArgs: k.buildArgs } : {}),
      ...(k.target ? { target: k.target } : {}),
    });
  });
  // Both refused the build: the wording differs by design (README); report it, but not as a DIFF.
  if (
    theirs.length === 1 &&
    ours.length === 1 &&
    theirs[0]?.startsWith('error: ') &&
    ours[0]?.startsWith('error: ')
  )
    return theirs[0] === ours[0] ? [] : [`  both failed: bk ${theirs[0]} / tsb ${ours[0]}`];
  const [a, b] = [new Set(theirs), new Set(ours)];
  return [
    ...theirs.filter((l) => !b.has(l)).map((l) => `  bk-only  ${l.trim()}`),
    ...ours.filter((l) => !a.has(l)).map((l) => `  tsb-only ${l.trim()}`),
  ];
}

const [family = '', seedArg = '1', countArg = '10'] = process.argv.slice(2);
const gen = FAMILIES[family];
if (!gen) {
  process.stderr.write(`usage: differential.ts ${Object.keys(FAMILIES).join('|')} SEED [COUNT]\n`);
  process.exit(2);
}
const r = rng(Number(seedArg));
for (let i = 0; i < Number(countArg); i++) {
  const k = { name: `${family}${seedArg}-${i}`, dockerfile: '', ...gen(r) } as ConformanceCase;
  const diff = await compare(k);
  const status = diff.length === 0 ? 'SAME' : diff[0]?.startsWith('  both failed') ? 'BOTH FAILED' : 'DIFF';
  process.stdout.write(`${k.name}: ${status}\n`);
  if (diff.length > 0)
    process.stdout.write(`${k.dockerfile.replace(/^/gm, '  | ')}${diff.slice(0, 12).join('\n')}\n`);
}
