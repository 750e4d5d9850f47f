/**
 * A seccomp profile for build containers, in the spirit of Docker's default: everything a build
 * needs is allowed; what Docker's default withholds from a container without CAP_SYS_ADMIN and
 * friends fails with EPERM. Docker's profile is an allowlist of ~350 names kept in step with the
 * kernel; a denylist of the dangerous ones gives the same protection here without going stale on
 * new harmless syscalls. clone3 gets ENOSYS (as in Docker) so libc falls back to clone, whose
 * namespace flags can then be filtered.
 */
const DENIED = [
  // kernel keyring, BPF, perf, userfaultfd: not namespaced, a classic escape/leak surface
  'add_key',
  'keyctl',
  'request_key',
  'bpf',
  'perf_event_open',
  'userfaultfd',
  'lookup_dcookie',
  // new namespaces (an unprivileged user namespace would hand the step a full capability set)
  'unshare',
  'setns',
  // mounts and the root: only with CAP_SYS_ADMIN in Docker
  'mount',
  'umount',
  'umount2',
  'pivot_root',
  'fsopen',
  'fsconfig',
  'fsmount',
  'fspick',
  'move_mount',
  'open_tree',
  'mount_setattr',
  'name_to_handle_at',
  'open_by_handle_at',
  // the host itself: time, modules, reboot, swap, accounting, quotas
  'settimeofday',
  'clock_settime',
  'clock_adjtime',
  'adjtimex',
  'stime',
  'init_module',
  'finit_module',
  'delete_module',
  'kexec_load',
  'kexec_file_load',
  'reboot',
  'swapon',
  'swapoff',
  'acct',
  'quotactl',
  'quotactl_fd',
  'vhangup',
  'syslog',
  'nfsservctl',
  'iopl',
  'ioperm',
  'uselib',
  // io_uring bypasses seccomp for the operations it performs (removed from Docker's default)
  'io_uring_setup',
  'io_uring_enter',
  'io_uring_register',
];

/** CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET. */
const CLONE_NS_FLAGS = [0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000];

export function seccompArchitectures(arch: string = process.arch): string[] {
  switch (arch) {
    case 'x64':
      return ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'];
    case 'arm64':
      return ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'];
    case 'arm':
      return ['SCMP_ARCH_ARM'];
    case 's390x':
      return ['SCMP_ARCH_S390X', 'SCMP_ARCH_S390'];
    case 'ppc64':
      return ['SCMP_ARCH_PPC64LE'];
    case 'riscv64':
      return ['SCMP_ARCH_RISCV64'];
    default:
      return [];
  }
}

/** The OCI `linux.seccomp` object (pure data). */
export function buildSeccomp(arch: string = process.arch): Record<string, unknown> {
  // x86's clone(flags, …) and s390's clone(stack, flags, …) differ; the flags are arg 0 elsewhere.
  const flagsArg = arch === 's390x' ? 1 : 0;
  return {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: seccompArchitectures(arch),
    syscalls: [
      { names: DENIED, action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
      // one rule per flag: (flags & F) == F; the rules of a syscall are OR-ed
      ...CLONE_NS_FLAGS.map((f) => ({
        names: ['clone'],
        action: 'SCMP_ACT_ERRNO',
        errnoRet: 1,
        args: [{ index: flagsArg, value: f, valueTwo: f, op: 'SCMP_CMP_MASKED_EQ' }],
      })),
    ],
  };
}
