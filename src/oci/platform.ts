import { TsbuildError } from '../errors.js';

/** An OCI platform (image-spec image-index.md). */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

const ARCH_ALIASES: Record<string, string> = {
  x86_64: 'amd64',
  'x86-64': 'amd64',
  aarch64: 'arm64',
  armhf: 'arm',
  armel: 'arm',
  i386: '386',
  i686: '386',
};

/** Normalizes like containerd's platforms.Normalize: aliases, arm64/v8 → arm64, arm → arm/v7. */
export function normalizePlatform(p: Platform): Platform {
  const os = p.os.toLowerCase();
  let architecture = p.architecture.toLowerCase();
  let variant = p.variant?.toLowerCase();
  if (architecture === 'armhf') variant = 'v7';
  if (architecture === 'armel') variant = 'v6';
  architecture = ARCH_ALIASES[architecture] ?? architecture;
  if (architecture === 'arm64' && (variant === 'v8' || variant === '8')) variant = undefined;
  if (architecture === 'amd64' && variant === 'v1') variant = undefined;
  if (architecture === 'arm' && (variant === undefined || variant === '')) variant = 'v7';
  if (architecture === 'arm' && variant && /^\d+$/.test(variant)) variant = `v${variant}`;
  if (variant === '') variant = undefined;
  const out: Platform = { os, architecture };
  if (variant) out.variant = variant;
  if (p['os.version']) out['os.version'] = p['os.version'];
  return out;
}

// Go's GOOS and GOARCH lists (containerd platforms/database.go isKnownOS, isKnownArch).
const KNOWN_OS = new Set(
  'aix android darwin dragonfly freebsd hurd illumos ios js linux nacl netbsd openbsd plan9 solaris windows zos'.split(
    ' ',
  ),
);
const KNOWN_ARCH = new Set(
  '386 amd64 amd64p32 arm armbe arm64 arm64be ppc64 ppc64le loong64 mips mipsle mips64 mips64le mips64p32 mips64p32le ppc riscv riscv64 s390 s390x sparc sparc64 wasm'.split(
    ' ',
  ),
);

/**
 * Parses as containerd's platforms.Parse: `linux/amd64`, `linux/arm64/v8`; one word is an OS (with
 * the host's architecture) if Go knows it, else an architecture (on linux), else an error.
 */
export function parsePlatform(s: string): Platform {
  const parts = s.trim().split('/');
  if (parts.length > 3 || parts.some((x) => !/^[A-Za-z0-9_.-]+$/.test(x))) {
    throw new TsbuildError('INVALID_PLATFORM', `invalid platform "${s}"`, {
      hint: 'use OS/ARCH[/VARIANT], e.g. linux/amd64 or linux/arm64/v8',
    });
  }
  const [os, arch, variant] = parts as [string, string | undefined, string | undefined];
  if (arch === undefined && !KNOWN_OS.has(os.toLowerCase())) {
    const only = normalizePlatform({ os: 'linux', architecture: os });
    if (KNOWN_ARCH.has(only.architecture)) return only;
    throw new TsbuildError(
      'INVALID_PLATFORM',
      `"${s}": unknown operating system or architecture: invalid argument`,
      { hint: 'use OS/ARCH[/VARIANT], e.g. linux/amd64 or linux/arm64/v8' },
    );
  }
  return normalizePlatform({
    os,
    architecture: arch ?? hostPlatform().architecture,
    ...(variant ? { variant } : {}),
  });
}

export function formatPlatform(p: Platform): string {
  const n = normalizePlatform(p);
  return `${n.os}/${n.architecture}${n.variant ? `/${n.variant}` : ''}`;
}

/** The platform of this machine, normalized (Node's `process.arch` names are close to Go's). */
export function hostPlatform(): Platform {
  const map: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm' };
  return normalizePlatform({ os: 'linux', architecture: map[process.arch] ?? process.arch });
}

/** True if `candidate` (from an index entry) runs as `wanted`. Unknown/unknown entries never match. */
export function platformMatches(wanted: Platform, candidate: Platform | undefined): boolean {
  if (!candidate) return false;
  const w = normalizePlatform(wanted);
  const c = normalizePlatform(candidate);
  return w.os === c.os && w.architecture === c.architecture && (w.variant ?? '') === (c.variant ?? '');
}
