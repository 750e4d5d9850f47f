import { TsbuildError } from '../../errors.js';

/** nat.ParsePortSpecs for EXPOSE: `80`, `80/udp`, `8000-8002/tcp`. */
export function parsePorts(spec: string): string[] {
  const m = /^(?:(?:\d+\.){3}\d+:)?(?:\d*:)?(\d+)(?:-(\d+))?(?:\/([^/]*))?$/.exec(spec);
  // go-connections/nat's messages: "Invalid containerPort", "Invalid proto" (as BuildKit prints them).
  if (!m) throw new TsbuildError('INVALID_PORT', `Invalid containerPort: ${spec}`);
  const proto = (m[3] || 'tcp').toLowerCase();
  if (!['tcp', 'udp', 'sctp'].includes(proto))
    throw new TsbuildError('INVALID_PORT', `Invalid proto: ${m[3]}`);
  const start = Number(m[1]);
  const end = m[2] ? Number(m[2]) : start;
  if (end < start || end > 65535) throw new TsbuildError('INVALID_PORT', `Invalid containerPort: ${spec}`);
  const out: string[] = [];
  for (let p = start; p <= end; p++) out.push(`${p}/${proto}`);
  return out;
}

const SIGNALS = new Set(
  (
    'ABRT ALRM BUS CHLD CLD CONT FPE HUP ILL INT IO IOT KILL PIPE POLL PROF PWR QUIT SEGV STKFLT ' +
    'STOP SYS TERM TRAP TSTP TTIN TTOU URG USR1 USR2 VTALRM WINCH XCPU XFSZ RTMIN RTMAX'
  )
    .split(' ')
    .concat(Array.from({ length: 15 }, (_, i) => [`RTMIN+${i + 1}`, `RTMAX-${i + 1}`]).flat()),
);

/**
 * moby's signal.ParseSignal, which BuildKit's STOPSIGNAL checks (the raw word is what is stored): a
 * non-zero number, or a Linux signal name with or without `SIG`, in any case.
 */
export function isSignal(s: string): boolean {
  if (/^[+-]?\d+$/.test(s)) return Number(s) !== 0;
  return SIGNALS.has(s.toUpperCase().replace(/^SIG/, ''));
}
