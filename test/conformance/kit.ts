/** Shared pieces of the conformance cases (cases.ts, cases-more.ts). */
export interface ConformanceCase {
  name: string;
  dockerfile: string;
  files?: Record<string, string>;
  buildArgs?: Record<string, string>;
  target?: string;
  /** Shell run in the context dir before building (e.g. to make a tarball). */
  prepare?: string;
}

export const BB =
  'FROM scratch AS bb\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n';
export const PASSWD =
  "RUN mkdir -p /etc && printf 'root:x:0:0:root:/root:/bin/sh\\napp:x:1000:1000::/home/app:/bin/sh\\n' > /etc/passwd && printf 'root:x:0:\\napp:x:1000:\\nstaff:x:50:app\\n' > /etc/group\n";

export const c = (
  name: string,
  body: string,
  extra: Omit<ConformanceCase, 'name' | 'dockerfile'> = {},
): ConformanceCase => ({
  name,
  dockerfile: `${BB}FROM bb\n${body}`,
  ...extra,
});

/** Dockerfile lines, newline-terminated. */
export const L = (...lines: string[]): string => `${lines.join('\n')}\n`;
