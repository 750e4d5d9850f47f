import {
  chmodSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  rmSync,
  type Stats,
  symlinkSync,
  unlinkSync,
} from 'node:fs';
import { nameBytes } from '../../fs-names.js';
import { boundTime } from '../../fs-times.js';

/**
 * fs calls on byte-string paths ('latin1': one char per byte). Layer entries may have names that are
 * not UTF-8; as byte strings they reach the disk unchanged, as Node's default strings would not.
 */
export const bytes = (p: string): Buffer => Buffer.from(p, 'latin1');
/** A JS string path (escapes where a name is not UTF-8, see fs-names.ts) as a byte string. */
export const toByteString = (p: string): string => nameBytes(p).toString('latin1');

export const bfs = {
  lstat: (p: string): Stats => lstatSync(bytes(p)),
  lstatOrUndefined: (p: string): Stats | undefined => {
    try {
      return lstatSync(bytes(p));
    } catch {
      return undefined;
    }
  },
  mkdir: (p: string, mode: number): void => void mkdirSync(bytes(p), mode),
  chmod: (p: string, mode: number): void => chmodSync(bytes(p), mode),
  lchown: (p: string, uid: number, gid: number): void => lchownSync(bytes(p), uid, gid),
  // Layer entries' times, as containerd's applier bounds them (fs-times.ts)
  lutimes: (p: string, t: number): void => lutimesSync(bytes(p), boundTime(t), boundTime(t)),
  rm: (p: string): void => rmSync(bytes(p), { recursive: true, force: true }),
  unlink: (p: string): void => unlinkSync(bytes(p)),
  open: (p: string, flags: number, mode: number): number => openSync(bytes(p), flags, mode),
  symlink: (target: string, p: string): void => symlinkSync(bytes(target), bytes(p)),
  link: (existing: string, p: string): void => linkSync(bytes(existing), bytes(p)),
  readdir: (p: string): string[] =>
    readdirSync(bytes(p), { encoding: 'buffer' }).map((n) => n.toString('latin1')),
  readlink: (p: string): string => readlinkSync(bytes(p), { encoding: 'buffer' }).toString('latin1'),
};
