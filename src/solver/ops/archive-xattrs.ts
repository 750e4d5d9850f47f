import { toByteString, writeXattrs } from '../../store/index.js';
import { lstatOrUndefined } from './copy-io.js';
import { XATTR } from './tar-blocks.js';

// ADD's archive xattrs (unpack.ts): gathered per entry, set once at the end.

const CAP = 'security.capability';

/**
 * The entries' xattrs (`SCHILY.xattr.*`, as GNU tar --xattrs writes them), set at the end with one
 * setfattr, as moby's Unpack sets each entry's: `security.capability` of an `ADD rootfs.tar /` keeps
 * ping working. overlayfs's own attributes are never taken from an archive.
 */
export class PendingXattrs {
  readonly #byHost = new Map<string, [string, string][]>();
  constructor(private readonly base: string) {}

  set(host: string, pax: Record<string, string>): void {
    const list = Object.entries(pax)
      .filter(([k]) => k.startsWith(XATTR))
      .map(([k, v]): [string, string] => [k.slice(XATTR.length), v])
      .filter(([n]) => !n.startsWith('trusted.overlay.') && !n.startsWith('user.overlay.'));
    if (list.length > 0) this.#byHost.set(host, list);
    else this.#byHost.delete(host);
  }

  /** `host` was chowned: every pending `security.capability` of its inode is gone. */
  chowned(host: string): void {
    const ino = lstatOrUndefined(host)?.ino;
    if (ino === undefined) return;
    for (const [k, list] of this.#byHost) {
      if (!list.some(([n]) => n === CAP) || lstatOrUndefined(k)?.ino !== ino) continue;
      const rest = list.filter(([n]) => n !== CAP);
      if (rest.length > 0) this.#byHost.set(k, rest);
      else this.#byHost.delete(k);
    }
  }

  /** An entry replaced what was at `host`, and everything below it. */
  removed(host: string): void {
    for (const k of this.#byHost.keys()) if (k === host || k.startsWith(`${host}/`)) this.#byHost.delete(k);
  }

  async apply(): Promise<void> {
    const entries = [...this.#byHost]
      .filter(([host]) => lstatOrUndefined(host))
      .flatMap(([host, list]) =>
        list.map(([name, value]) => ({
          // writeXattrs takes byte-string (latin1) names, as the layer code names entries
          rel: toByteString(host.slice(this.base.length + 1)),
          name,
          value: Buffer.from(value, 'latin1'),
        })),
      );
    // Best effort, as moby's Unpack, which skips what the filesystem refuses (EPERM, ENOTSUP: a
    // user.* attribute on a symlink, an SELinux label without SELinux); setfattr sets the rest.
    await writeXattrs(this.base, entries).catch(() => undefined);
  }
}
