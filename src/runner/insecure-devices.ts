import { readdirSync, statSync } from 'node:fs';
import { rdevMajor, rdevMinor } from '../store/index.js';

/** An OCI `linux.devices` entry: runc makes the node in the container's /dev. */
export interface LinuxDevice {
  path: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
}

// BuildKit's insecure mode (util/entitlements/security WithInsecureSpec) also hands the step these
// host devices, when they exist (not in a user namespace, where tsbuild never runs): FUSE, KVM,
// TUN, the kernel log and the loop devices, so `RUN --security=insecure` can mount images.
const NAMED = ['/dev/kmsg', '/dev/cuse', '/dev/fuse', '/dev/kvm', '/dev/net/tun', '/dev/loop-control'];

let found: LinuxDevice[] | undefined;

/** The host's devices an insecure step gets (looked up once per process). */
export function insecureDevices(): LinuxDevice[] {
  if (found) return found;
  let loops: string[] = [];
  try {
    loops = readdirSync('/dev')
      .filter((n) => /^loop\d+$/.test(n))
      .map((n) => `/dev/${n}`);
  } catch {
    // no /dev to read: the named ones only
  }
  found = [...NAMED, ...loops].flatMap((path) => {
    try {
      const st = statSync(path);
      if (!st.isCharacterDevice() && !st.isBlockDevice()) return [];
      const [major, minor] = [rdevMajor(st.rdev), rdevMinor(st.rdev)];
      const type = st.isCharacterDevice() ? ('c' as const) : ('b' as const);
      return [{ path, type, major, minor, fileMode: st.mode & 0o777, uid: 0, gid: 0 }];
    } catch {
      return [];
    }
  });
  return found;
}
