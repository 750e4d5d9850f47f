// Records BuildKit's results as golden files. Needs the peers: `source ../shared/bench/peers.sh`
// (dockerd 20.10 with its BuildKit). Run: `npx tsx test/conformance/record.ts [case...]`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CASES } from './cases.js';
import { makeCaseContext } from './context.js';
import { normalizeDockerArchive } from './normalize.js';

const docker = process.env.PEER_DOCKER ?? '/usr/bin/docker';
const only = process.argv.slice(2);
const written: string[] = [];
for (const k of CASES.filter((x) => only.length === 0 || only.includes(x.name))) {
  const ctx = makeCaseContext(k);
  const tag = `tsb-conf-${k.name}`;
  const args = ['build', '-q', '--network', 'host', '-t', tag];
  for (const [a, v] of Object.entries(k.buildArgs ?? {})) args.push('--build-arg', `${a}=${v}`);
  if (k.target) args.push('--target', k.target);
  args.push(ctx);
  try {
    execFileSync(docker, args, {
      env: { ...process.env, DOCKER_BUILDKIT: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (e) {
    process.stdout.write(
      `${k.name}: BuildKit failed: ${(e as { stderr?: Buffer }).stderr?.toString().trim().split('\n').pop()}\n`,
    );
    continue;
  }
  const out = join(mkdtempSync(join(tmpdir(), 'tsb-conf-rec-')), 'img.tar');
  execFileSync(docker, ['save', '-o', out, tag]);
  const norm = normalizeDockerArchive(out);
  const file = join(import.meta.dirname, 'golden', `${k.name}.json`);
  writeFileSync(file, `${JSON.stringify(norm, null, 1)}\n`);
  written.push(file);
  process.stdout.write(`${k.name}: recorded (${norm.files.length} files, ${norm.layers} layers)\n`);
}
// The goldens are linted like the sources (`npm run lint`): format what was written.
if (written.length > 0) execFileSync('npx', ['biome', 'format', '--write', ...written], { stdio: 'ignore' });
