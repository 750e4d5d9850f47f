// Randomized cache scenarios against BuildKit: a generated Dockerfile and context is built by
// dockerd 20.10's BuildKit and by tsbuild (its CLI, as a user runs it), one random edit is made to
// both contexts (or the second build gets a --build-arg), and both build
// again; the steps each builder took from its cache must be the same.
// Needs the peers (`source ../shared/bench/peers.sh`). Run:
//   npx tsx test/conformance/differential-cache.ts SEED [COUNT]
// A DIFF prints each step as `bk|tsb` with CACHED or RAN (DIFF_VERBOSE=1: every case's). Expected differences are in the README
// (a directory's mode change re-runs a COPY in tsbuild, not in docker 20.10).
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCaseContext } from './context.js';
import type { ConformanceCase } from './kit.js';
import { type R, rng } from './rng.js';

const EDITS = [
  'echo "changed $MUT" > a',
  'touch a',
  'chmod 600 x.txt',
  'chmod 755 d1/sub/k',
  'echo new > d1/newfile',
  'rm -f d1/sub/k',
  'mv y.md y2.md',
  'touch d2',
  'echo same > tmpf && mv tmpf b',
  'cp -p x.txt x2 && mv x2 x.txt',
  'mkdir -p d2/emptydir',
  'ln -sfn x.txt lnk',
  'echo "# comment $MUT" >> Dockerfile',
  'echo "ARG UNUSED=1" >> Dockerfile',
  'echo z2 > d2/deep/er/z',
  'echo k2 > d1/sub/k',
  'touch d1/f',
  'sed -i "s/| wc -l >/| wc -l | cat >/" Dockerfile',
  'echo extra > d1/extra',
  'rm d1/f',
  'touch -d "2001-01-01" d1/sub/k',
  'echo "x.txt" > .dockerignore',
  'echo "d2" > .dockerignore',
  'printf "a1" > a',
  'chown 7:7 b',
  'ln -sfn y.md lnk',
  'sed -i "s/^LABEL l=1/LABEL l=2/" Dockerfile',
  'sed -i "s/^ENV E=2/ENV E=3/" Dockerfile',
  'sed -i "s/^RUN echo run1/RUN   echo run1/" Dockerfile',
  'sed -i "s/echo run1 >/echo run1  >/" Dockerfile',
  'sed -i "s/^WORKDIR \\/w$/WORKDIR \\/w\\//" Dockerfile',
  'sed -i "s/^FROM bb$/FROM bb AS final/" Dockerfile',
  'echo "LABEL added=1" >> Dockerfile',
  'sed -i "s/^COPY \\(.*\\) \\(\\/t[0-9]\\/\\)$/COPY \\1 \\2.\\//" Dockerfile',
  // Flags of the second build instead of an edit:
  '--build-arg HTTP_PROXY=http://p:1',
  '--add-host h:10.1.1.1',
  '--build-arg V=2',
  '--build-arg UNUSED=1',
  '--build-arg E=9',
  '--build-arg V=1',
  // Second round: archives, secrets, ONBUILD, copy flags.
  'echo q3 > arcsrc/q && tar -cf arc.tar -C arcsrc .',
  'cp arc.tar t && mv t arc.tar',
  'touch arc.tar',
  'echo s2 > "$CTX.secret"',
  'touch "$CTX.secret"',
  'sed -i "s/^ONBUILD RUN echo onb/ONBUILD RUN echo onb2/" Dockerfile',
  'echo b2 > b',
  'chown 5:6 a',
  'chmod 700 d2/q',
  '--target s1',
  '--build-arg S=2',
];

const RUN_ID = Date.now().toString(36);

interface CacheCase extends ConformanceCase {
  edit: string;
}

function cacheCase(r: R, name: string): CacheCase {
  // The first step is unique to the case: no step hits a record an earlier case (or run) left.
  const lines = ['FROM localhost:5000/busybox:latest AS bb', `RUN echo ${RUN_ID}-${name} > /id`];
  lines.push('FROM bb AS ob', 'ONBUILD COPY a /onb-a', 'ONBUILD RUN echo onb > /onb');
  lines.push('FROM bb AS s1', 'COPY d1 /d1');
  lines.push('RUN ls -laR /d1 | wc -l > /count', r.next() < 0.3 ? 'FROM ob' : 'FROM bb');
  for (let i = r.int(3, 6); i > 0; i--) {
    const k = r.next();
    if (k < 0.45) {
      const srcs = r.sample(
        ['a', 'b', 'x.txt', '*.txt', 'd1', 'd1/sub', 'd2/deep', '.', 'd?', 'y.md', 'lnk'],
        r.int(1, 2),
      );
      lines.push(`COPY ${srcs.join(' ')} /t${r.int(0, 9)}/`);
    } else if (k < 0.6)
      lines.push(
        r.pick([
          'COPY --from=s1 /count /c',
          'COPY --from=s1 /d1 /fromd1',
          'RUN --mount=type=bind,source=d1,target=/m ls /m > /mls',
          'RUN --mount=type=bind,from=s1,source=/d1,target=/m cat /m/sub/k > /k2 || true',
        ]),
      );
    else if (k < 0.62) lines.push(r.pick(['ARG V=1', 'ENV E=2', 'WORKDIR /w', 'LABEL l=1', 'ARG S']));
    else if (k < 0.75)
      lines.push(
        r.pick([
          'ADD arc.tar /arc/',
          'COPY --chown=1:2 a d2 /o1/',
          'COPY --chmod=600 b /o2/',
          'RUN --mount=type=secret,id=s cat /run/secrets/s > /sec',
          `RUN --mount=type=cache,target=/cc,id=${RUN_ID}-${name} ls /cc > /ccls; touch /cc/x`,
          'RUN echo "$S" > /s',
        ]),
      );
    else
      lines.push(
        r.pick(['RUN echo run1 > /r1', 'RUN ls -la /t* > /ls 2>/dev/null || true', 'RUN echo "$V" > /v']),
      );
  }
  return {
    name,
    dockerfile: `${lines.join('\n')}\n`,
    files: {
      a: 'a1',
      b: 'same\n',
      'x.txt': 'xx',
      'y.md': 'yy',
      'd1/sub/k': 'k',
      'd1/f': 'f',
      'd2/deep/er/z': 'z',
      'd2/q': 'q',
      lnk: '->a',
      'arcsrc/q': 'q',
    },
    prepare: 'tar -cf arc.tar -C arcsrc . && echo s1 > "$PWD.secret"',
    edit: r.pick(EDITS),
  };
}

/** Each step of a `--progress plain` log (not FROM or [internal]) as `CACHED name` or `RAN name`. */
function steps(log: string): string[] {
  const names = new Map<string, string>();
  const cached = new Set<string>();
  for (const m of log.matchAll(/^#(\d+) (\[.*)$/gm)) {
    const name = (m[2] as string).replace(/\s+/g, ' ');
    if (/internal|load |\] FROM /.test(name)) continue;
    names.set(m[1] as string, name.replace(/^\[[^\]]*\] /, '').slice(0, 70));
  }
  for (const m of log.matchAll(/^#(\d+) CACHED/gm)) cached.add(m[1] as string);
  return [...names]
    .map(([id, name]) => `${cached.has(id) ? 'CACHED' : 'RAN   '} ${name}`)
    .sort((x, y) => x.slice(7).localeCompare(y.slice(7)));
}

const docker = process.env.PEER_DOCKER ?? '/usr/bin/docker';
const bin = join(import.meta.dirname, '..', '..', 'bin', 'run.js');
const root = join(tmpdir(), 'tsb-diff-cache-root');

function buildLog(who: 'bk' | 'tsb', ctx: string, tag: string, flags: string[] = []): string {
  const args = ['--progress', 'plain', '--secret', `id=s,src=${ctx}.secret`, ...flags, '-t', tag, ctx];
  const r =
    who === 'bk'
      ? spawnSync(docker, ['build', '--network', 'host', ...args], {
          env: { ...process.env, DOCKER_BUILDKIT: '1' },
          encoding: 'utf8',
        })
      : spawnSync('node', [bin, 'build', '--root', root, ...args], { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}${r.status === 0 ? '' : `\nBUILD FAILED (${r.status})`}`;
}

async function compare(k: CacheCase): Promise<string[]> {
  const ctx = { bk: makeCaseContext(k), tsb: makeCaseContext(k) };
  const tag = `tsb-diff-${k.name}`;
  for (const who of ['bk', 'tsb'] as const) buildLog(who, ctx[who], tag);
  // Past the clock tick of the first builds' reads (a same-tick edit is "racily clean" to a stat cache).
  await new Promise((r) => setTimeout(r, 1100));
  const mut = String(Math.floor(Math.random() * 1e9));
  const flags = k.edit.startsWith('--') ? k.edit.split(' ') : [];
  if (flags.length === 0)
    for (const who of ['bk', 'tsb'] as const)
      execFileSync('sh', ['-c', k.edit], { cwd: ctx[who], env: { ...process.env, MUT: mut, CTX: ctx[who] } });
  const logs = { bk: buildLog('bk', ctx.bk, tag, flags), tsb: buildLog('tsb', ctx.tsb, tag, flags) };
  const [a, b] = [steps(logs.bk), steps(logs.tsb)];
  const failed = [logs.bk, logs.tsb].map((l) => l.includes('BUILD FAILED'));
  if (failed[0] !== failed[1]) return [`  one failed: bk ${failed[0]} tsb ${failed[1]}`];
  // Both refused it (a source the edit removed): BuildKit may have run other steps first.
  if (failed[0]) return ['  both failed'];
  if (process.env.DIFF_VERBOSE) process.stdout.write(`${a.join('\n')}\n--\n${b.join('\n')}\n`);
  if (a.length === b.length && a.every((x, i) => x.slice(0, 6) === b[i]?.slice(0, 6))) return [];
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => `  ${a[i] ?? '-'} | ${b[i] ?? '-'}`);
}

const [seedArg = '1', countArg = '10'] = process.argv.slice(2);
const r = rng(Number(seedArg));
for (let i = 0; i < Number(countArg); i++) {
  const k = cacheCase(r, `cache${seedArg}-${i}`);
  const diff = await compare(k);
  const both = diff[0] === '  both failed';
  const status = diff.length === 0 ? 'SAME' : both ? 'BOTH FAILED' : 'DIFF';
  process.stdout.write(`${k.name}: ${status} (edit: ${k.edit})\n`);
  if (diff.length > 0 && !both)
    process.stdout.write(`${k.dockerfile.replace(/^/gm, '  | ')}${diff.join('\n')}\n`);
}
