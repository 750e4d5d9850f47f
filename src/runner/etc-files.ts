import { readFileSync } from 'node:fs';

/**
 * The files bind-mounted over /etc/hosts, /etc/resolv.conf and /etc/hostname. They are never written
 * into the rootfs: a step's changes to them go to these copies and are dropped with the bundle.
 */
export function hostsFile(hostname: string, extraHosts: string[] = []): string {
  // BuildKit's executor/oci/hosts.go: the hostname on the 127.0.0.1 line, no 127.0.1.1 entry.
  const lines = [`127.0.0.1\tlocalhost ${hostname}`, '::1\tlocalhost ip6-localhost ip6-loopback'];
  for (const h of extraHosts) {
    const i = h.lastIndexOf(':');
    // `name:ip`; an IPv6 ip contains colons, so split at the first one (Docker's --add-host form).
    const first = h.indexOf(':');
    if (first < 0 || i < 0) continue;
    lines.push(`${h.slice(first + 1)}\t${h.slice(0, first)}`);
  }
  return `${lines.join('\n')}\n`;
}

const LOCAL_NS = /^\s*nameserver\s+(127\.|::1\b)/;

/**
 * resolv.conf for the container. With `host` networking the host's file is used as is (its local
 * resolvers are reachable); with `none` there is no network, but tools still read the file, so the
 * host's search/options lines stay and loopback nameservers are dropped, as Docker does.
 */
export function resolvConf(network: 'host' | 'none', hostText?: string): string {
  let text = hostText;
  if (text === undefined) {
    try {
      text = readFileSync('/etc/resolv.conf', 'utf8');
    } catch {
      text = '';
    }
  }
  if (network === 'host') return text.endsWith('\n') || text === '' ? text : `${text}\n`;
  const kept = text.split('\n').filter((l) => l.trim() !== '' && !LOCAL_NS.test(l));
  return kept.length ? `${kept.join('\n')}\n` : '';
}
