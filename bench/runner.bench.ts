// Overhead of a `RUN true` step: tsbuild's runContainer (user/stub lookups in the layers + bundle +
// spec + runc + capture + teardown) vs `runc run` of the same, already prepared bundle by hand, and vs the same
// step in BuildKit when the peers (../shared/bench/peers.sh) are up. Medians of N runs; ratios only.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runContainer } from '../src/runner/index.js';
import { buildSpec } from '../src/runner/spec.js';
import { makeBusyboxRootfs } from '../test/helpers/busybox.js';

const N = Number(process.env.RUNNER_BENCH_N ?? 30);
const dir = mkdtempSync(join(tmpdir(), 'tsb-bench-runner-'));
const lower = makeBusyboxRootfs(join(dir, 'lower'));
const root = join(dir, 'root');

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function freshLayer(i: number) {
  const base = join(dir, `l${i}`);
  mkdirSync(join(base, 'upper'), { recursive: true });
  mkdirSync(join(base, 'work'), { recursive: true });
  return [
    {
      type: 'overlay' as const,
      source: 'overlay',
      options: [`lowerdir=${lower}`, `upperdir=${base}/upper`, `workdir=${base}/work`],
    },
  ];
}

async function tsbuildOnce(i: number): Promise<number> {
  const t = process.hrtime.bigint();
  const r = await runContainer({
    root,
    rootfs: { mounts: freshLayer(i) },
    process: { args: ['true'] },
    onStdout: () => {},
  });
  if (r.exitCode !== 0) throw new Error(`RUN true failed: ${r.outputTail.join('\n')}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

/**
 * The same bundle by hand: what tsbuild writes for this step (config.json with the overlay as the
 * root mount that runc performs, the /etc files, an empty rootfs dir; a fresh upper each time),
 * prepared beforehand and not timed; only `runc run` is timed, as a person would run it.
 */
function bareBundle(i: number): string {
  const b = join(dir, `bare-${i}`);
  mkdirSync(join(b, 'rootfs'), { recursive: true });
  mkdirSync(join(b, 'etc'), { recursive: true });
  for (const f of ['hosts', 'resolv.conf', 'hostname']) writeFileSync(join(b, 'etc', f), '');
  const m = freshLayer(1000 + i)[0]!;
  const spec = buildSpec({
    args: ['true'],
    env: ['PATH=/bin'],
    cwd: '/',
    user: { uid: 0, gid: 0, additionalGids: [0], home: '/root' },
    hostname: 'bare',
    network: 'host',
    etcFiles: {
      hosts: join(b, 'etc/hosts'),
      resolvConf: join(b, 'etc/resolv.conf'),
      hostname: join(b, 'etc/hostname'),
    },
    mounts: [],
    limits: {},
    cgroupsPath: `tsbuild-bench/bare-${i}`,
    limitsInSpec: false,
    rootPath: join(b, 'rootfs'),
    rootMount: { destination: '/', type: 'overlay', source: 'overlay', options: m.options },
  });
  writeFileSync(join(b, 'config.json'), JSON.stringify(spec));
  return b;
}

function bareOnce(i: number): Promise<number> {
  const bundle = bareBundle(i);
  const t = process.hrtime.bigint();
  return new Promise<number>((ok, fail) => {
    const c = spawn('runc', ['run', '--bundle', bundle, `tsb-bare-${process.pid}-${i}`], { stdio: 'ignore' });
    c.on('exit', (code) =>
      code === 0 ? ok(Number(process.hrtime.bigint() - t) / 1e6) : fail(new Error(`runc ${code}`)),
    );
  });
}

/**
 * BuildKit (dockerd 20.10 of the peers): the cost of the same `RUN true` step, as the difference of
 * median wall times of a no-cache build with the step and one without it (a LABEL), interleaved.
 * Undefined when the peers are not up; this never starts them.
 */
function buildkitStepMs(runs: number): number | undefined {
  const docker = '/usr/bin/docker';
  const env = {
    ...process.env,
    DOCKER_HOST: 'unix:///var/tmp/tsb-peers/dockerd/docker.sock',
    DOCKER_BUILDKIT: '1',
  };
  try {
    execFileSync(docker, ['version'], { env, stdio: 'ignore', timeout: 5000 });
  } catch {
    return undefined;
  }
  const ctx = join(dir, 'bk');
  mkdirSync(ctx, { recursive: true });
  const build = (line: string): number => {
    writeFileSync(join(ctx, 'Dockerfile'), `FROM localhost:5000/busybox:latest\n${line}\n`);
    const t = process.hrtime.bigint();
    execFileSync(docker, ['build', '-q', '--no-cache', '--network', 'host', ctx], { env, stdio: 'ignore' });
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
  try {
    build('LABEL warm=1');
  } catch {
    return undefined; // base image not in the peers' registry
  }
  const withRun: number[] = [];
  const without: number[] = [];
  for (let i = 0; i < runs; i++) {
    withRun.push(build(`RUN true # ${process.pid}-${i}`));
    without.push(build(`LABEL nonce=${process.pid}-${i}`));
  }
  return median(withRun) - median(without);
}

try {
  await tsbuildOnce(-2); // warm-up (runtime detection, page cache)
  await bareOnce(-1);
  // Interleaved, so load from anything else on the machine hits both sides alike.
  const ours: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < N; i++) {
    ours.push(await tsbuildOnce(i));
    bare.push(await bareOnce(i));
  }
  const o = median(ours);
  const b = median(bare);
  console.log(`RUN true, median of ${N}:`);
  console.log(`  tsbuild runContainer (prepare + bundle + runc + capture + teardown): ${o.toFixed(1)} ms`);
  console.log(`  bare \`runc run\` of the same bundle (as tsbuild writes it), by hand:  ${b.toFixed(1)} ms`);
  console.log(
    `  ratio tsbuild / bare runc: ${(o / b).toFixed(2)}x (target < 1.3x); overhead ${(o - b).toFixed(1)} ms`,
  );
  const bk = buildkitStepMs(5);
  if (bk === undefined) console.log('  BuildKit: peers not up (../shared/bench/peers.sh), skipped');
  else
    console.log(
      `  BuildKit RUN true step: ${bk.toFixed(1)} ms; ratio tsbuild / BuildKit: ${(o / bk).toFixed(2)}x`,
    );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
