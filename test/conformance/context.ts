import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConformanceCase } from './cases.js';

/** A case's context dir: its files, the host's busybox-static binary, its Dockerfile. */
export function makeCaseContext(k: ConformanceCase): string {
  const dir = mkdtempSync(join(tmpdir(), `tsb-conf-${k.name}-`));
  for (const [p, content] of Object.entries(k.files ?? {})) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    if (content.startsWith('->')) symlinkSync(content.slice(2), join(dir, p));
    else writeFileSync(join(dir, p), content);
  }
  copyFileSync('/bin/busybox', join(dir, 'busybox'));
  writeFileSync(join(dir, 'Dockerfile'), k.dockerfile);
  if (k.prepare) execFileSync('sh', ['-c', k.prepare], { cwd: dir });
  return dir;
}
