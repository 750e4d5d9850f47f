// Randomized differential builds against BuildKit: generated Dockerfiles and contexts, built by
// dockerd 20.10's BuildKit and by tsbuild, compared as the conformance suite compares (normalized
// docker archives, `explain`ed). Needs the peers (`source ../shared/bench/peers.sh`). Run:
//   npx tsx test/conformance/differential.ts FAMILY SEED [COUNT]    families: copy collide run from ignore words args mounts users probe config archive layers layersx syntax
//   npx tsx test/conformance/differential.ts dir CONTEXT_DIR...     hand-made cases: each dir holds its Dockerfile
// A DIFF prints the lines only one side has; a case both builders refuse prints both errors. The
// families found real bugs (hard links lost by COPY, a file hiding a lower directory); errors
// worded differently and the README's listed differences are expected.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { build } from '../../src/build.js';
import { makeCaseContext } from './context.js';
import { explain } from './explain.js';
import { archiveCase } from './families-archive.js';
import { collideCase, copyCase, fromCase, ignoreCase, runCase } from './families-fs.js';
import { layersCase, layersXCase } from './families-layers.js';
import { syntaxCase } from './families-syntax.js';
import { argsCase, configCase, mountsCase, usersCase, wordsCase } from './families-words.js';
import type { ConformanceCase } from './kit.js';
import { listDockerArchiveLayers, normalizeDockerArchive } from './normalize.js';
import { probeCase } from './probes.js';
import { type R, rng } from './rng.js';

const FAMILIES: Record<string, (r: R) => Partial<ConformanceCase>> = {
  copy: copyCase,
  collide: collideCase,
  run: runCase,
  from: fromCase,
  ignore: ignoreCase,
  words: wordsCase,
  args: argsCase,
  mounts: mountsCase,
  users: usersCase,
  probe: probeCase,
  config: configCase,
  archive: archiveCase,
  layers: layersCase,
  layersx: layersXCase,
  syntax: syntaxCase,
};

/**
 * DIFF_LAYERS=1: each layer's entries too, so a difference the flattened rootfs hides (a parent
 * directory one layer repeats, a whiteout the other does not write) shows. BuildKit 0.8's runtime
 * mount stubs (explain.ts) are dropped from each layer while nothing else in it is under them.
 */
function layerLines(archive: string, dockerfile: string): string[] {
  // A mount target and the parents BuildKit 0.8 made for it.
  const targets = new Set(
    [...dockerfile.matchAll(/--mount=\S*(?:target|dst|destination)=([^,\s]+)/g)].flatMap((m) => {
      const parts = m[1]!.split('/').filter(Boolean);
      return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    }),
  );
  const stubFile = (l: string) => {
    const [path, type, , , size] = l.split(' ');
    return (
      type === 'File' && size === '0' && ['etc/hosts', 'etc/resolv.conf', 'etc/hostname'].includes(path!)
    );
  };
  const stubDir = (l: string, all: string[]) => {
    const [path, type] = l.split(' ');
    const alone = !all.some((o) => o.startsWith(`${path}/`));
    return (
      type === 'Directory' && alone && (['dev', 'proc', 'sys', 'etc'].includes(path!) || targets.has(path!))
    );
  };
  return listDockerArchiveLayers(archive).flatMap((layer, i) => {
    let files = layer.filter((l) => !stubFile(l));
    // Deepest first: a parent is a stub once the stubs under it are gone.
    for (let n = -1; n !== files.length; ) {
      n = files.length;
      files = files.filter((l) => !stubDir(l, files));
    }
    return files.map((l) => `L${i} ${l}`);
  });
}

async function compare(k: ConformanceCase, ctx = makeCaseContext(k)): Promise<string[]> {
  const side = async (run: (out: string) => Promise<void> | void) => {
    const out = join(mkdtempSync(join(tmpdir(), 'tsb-diff-')), 'img.tar');
    try {
      await run(out);
      const lines = JSON.stringify(explain(normalizeDockerArchive(out, true), k.dockerfile), null, 1).split(
        '\n',
      );
      return process.env.DIFF_LAYERS ? [...lines, ...layerLines(out, k.dockerfile)] : lines;
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

function report(k: ConformanceCase, diff: string[]): void {
  const status = diff.length === 0 ? 'SAME' : diff[0]?.startsWith('  both failed') ? 'BOTH FAILED' : 'DIFF';
  process.stdout.write(`${k.name}: ${status}\n`);
  if (diff.length > 0)
    process.stdout.write(`${k.dockerfile.replace(/^/gm, '  | ')}${diff.slice(0, 12).join('\n')}\n`);
}

const [family = '', seedArg = '1', countArg = '10'] = process.argv.slice(2);
const gen = FAMILIES[family];
if (family === 'dir') {
  for (const dir of process.argv.slice(3)) {
    const k = { name: basename(dir), dockerfile: readFileSync(join(dir, 'Dockerfile'), 'utf8') };
    report(k, await compare(k, resolve(dir)));
  }
} else if (!gen) {
  process.stderr.write(`usage: differential.ts ${Object.keys(FAMILIES).join('|')}|dir SEED [COUNT]\n`);
  process.exit(2);
} else {
  const r = rng(Number(seedArg));
  for (let i = 0; i < Number(countArg); i++) {
    const k = { name: `${family}${seedArg}-${i}`, dockerfile: '', ...gen(r) } as ConformanceCase;
    report(k, await compare(k));
  }
}
