import type { Mount } from './types.js';

export async function mount(_mounts: Mount[], _target: string): Promise<void> {
  throw new Error('not implemented');
}
export async function unmount(_target: string): Promise<void> {
  throw new Error('not implemented');
}
export async function withMount<T>(
  mounts: Mount[],
  target: string,
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  await mount(mounts, target);
  try {
    return await fn(target);
  } finally {
    await unmount(target);
  }
}
