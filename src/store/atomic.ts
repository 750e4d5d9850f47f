export async function writeFileAtomic(_path: string, _data: Uint8Array | string): Promise<void> {
  throw new Error('not implemented');
}
