import { execFileSync } from 'node:child_process';

/**
 * Tests that need root or a host tool call these at the top of the file. They throw (the test fails
 * loudly) instead of skipping: a skipped test proves nothing, and CI installs everything they need.
 */
export function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new Error('this test needs root (run the suite as root, as CI does)');
}

export function requireBinary(name: string, debianPackage = name): string {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(`this test needs \`${name}\`: apt-get install -y ${debianPackage} (.ci/run does)`);
  }
}
