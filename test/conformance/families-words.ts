/** biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Dockerfile words, not templates */
// Generators of the randomized differential builds (differential.ts): words, build args, mounts.

import { BB, CONTEXT } from './families-fs.js';
import type { ConformanceCase } from './kit.js';
import type { R } from './rng.js';

/** ARG/ENV/LABEL/WORKDIR/EXPOSE/CMD words: quoting, escapes and ${x:-y} forms, in the config and in a RUN. */
export function wordsCase(r: R): Partial<ConformanceCase> {
  const value = () =>
    r.pick([
      'plain',
      '"a b"',
      "'s q'",
      '$A',
      '${A}',
      '${A:-dflt}',
      '${A:+alt}',
      '${U:-d}',
      '${U:+d}',
      '\\$A',
      'x\\ y',
      '"$A"',
      "'$A'",
      '${A}x',
      '$A$B',
      'a=b',
      '"q \\" in"',
      '"${A:-a b}"',
      '$',
      'ü',
      '${G}',
      '$G/$A',
    ]);
  const name = () => r.pick(['A', 'B', 'C', 'G']);
  const lines = ['FROM bb'];
  if (r.next() < 0.5) lines.push('ARG G');
  for (let i = r.int(3, 7); i > 0; i--) {
    const k = r.next();
    if (k < 0.2) lines.push(`ARG ${name()}${r.next() < 0.7 ? `=${value()}` : ''}`);
    else if (k < 0.4) lines.push(`ENV ${name()}=${value()}${r.next() < 0.4 ? ` ${name()}=${value()}` : ''}`);
    else if (k < 0.45) lines.push(`ENV ${name()} ${value()} ${value()}`);
    else if (k < 0.6) lines.push(`LABEL l${i}=${value()}${r.next() < 0.3 ? ` "m ${i}"=${value()}` : ''}`);
    else if (k < 0.7) lines.push(`WORKDIR ${r.pick(['/w/', 'w2', '/w/$A', '${A:-d}', '$G'])}`);
    else if (k < 0.75) lines.push(`EXPOSE ${r.pick(['80', '${P:-81}/udp', '$A', '90/tcp 91'])}`);
    else if (k < 0.85) lines.push(`RUN printf '%s|' "$A" "$B" "$C" "$G" "$PWD" > /o${i}`);
    else if (k < 0.92)
      lines.push(
        r.pick([
          `COPY a ${r.pick(['${A:-/cp}/', '/c/$B', '$G/', '"/q d/"'])}`,
          `USER ${r.pick(['${U:-1}:${A:-2}', '$A', '0'])}`,
          `STOPSIGNAL ${r.pick(['${S:-SIGTERM}', '$A', '9'])}`,
          `HEALTHCHECK --interval=${r.pick(['5s', '1m30s', '0s'])} CMD echo ${value()}`,
          `ONBUILD RUN echo ${value()}`,
          `ENV ${name()}=${value()} \\\n  ${name()}=${value()}`,
          'SHELL ["/bin/sh", "-ec"]',
        ]),
      );
    else
      lines.push(
        r.pick([
          `CMD echo ${value()}`,
          `CMD ["echo", "${value().replace(/"/g, '\\"')}"]`,
          `ENTRYPOINT ${value()}`,
        ]),
      );
  }
  return { dockerfile: `ARG G=${value()}\n${BB}${lines.join('\n')}\n`, files: CONTEXT };
}

/** ARG scoping: global ARGs in FROM, redeclared in stages, --build-arg values, ENV over ARG, --target. */
export function argsCase(r: R): Partial<ConformanceCase> {
  const v = () => r.pick(['1', '"x y"', '', '$A', '${B:-b}', 'latest']);
  const lines = [`ARG A=${v()}`, 'ARG B', `ARG TAG=${r.pick(['latest', ''])}`];
  lines.push('FROM localhost:5000/busybox:${TAG:-latest} AS bb');
  const stages = ['bb'];
  for (let s = r.int(1, 3); s > 0; s--) {
    const name = `s${s}`;
    lines.push(`FROM ${r.pick(stages)} AS ${name}`);
    for (let i = r.int(1, 4); i > 0; i--) {
      lines.push(
        r.pick([
          'ARG A',
          `ARG A=${v()}`,
          'ARG B',
          `ARG C=${v()}`,
          `ENV A=${v()}`,
          'ARG TARGETARCH',
          'ARG BUILDPLATFORM',
          'ARG TARGETPLATFORM=x',
          `RUN echo "A=$A B=$B C=$C T=$TARGETARCH P=$BUILDPLATFORM" >> /${name}`,
          'RUN env | grep -E "^(A|B|C|TAG)=" | sort >> /env-$A || true',
          `LABEL ${name}=$A-$B-$C`,
          'WORKDIR /w$C',
        ]),
      );
    }
    stages.push(name);
  }
  const args: Record<string, string> = {};
  for (const n of r.sample(['A', 'B', 'C', 'TAG', 'UNUSED'], r.int(0, 3)))
    args[n] = n === 'TAG' ? 'latest' : r.pick(['cli', 'c l i', '']);
  return {
    dockerfile: `${lines.join('\n')}\n`,
    ...(Object.keys(args).length ? { buildArgs: args } : {}),
    ...(r.next() < 0.3 ? { target: r.pick(stages) } : {}),
  };
}

const RUN_ID = `r${Date.now().toString(36)}`;

/** RUN --mount: bind (context, stage, rw), tmpfs, cache with owners and modes; what the step sees. */
export function mountsCase(r: R): Partial<ConformanceCase> {
  // Cache mounts outlive a build in both builders: ids fresh to this run keep earlier runs out.
  const name = RUN_ID;
  const stage =
    'FROM bb AS s\nRUN mkdir -p /s/d/e && echo f > /s/f && echo g > /s/d/g && chmod 700 /s/d/e && ln -s f /s/l\n';
  const show = (t: string, i: number) =>
    `(ls -lan ${t} | sed 1d | awk '{print $1,$3,$4,$NF}'; stat -c '%a %u:%g' ${t}; touch ${t}/new 2>&1 | sed 's/.*: //'; echo rc=$?) > /o${i} 2>&1 || true`;
  const mount = () =>
    r.pick([
      `type=bind,source=${r.pick(['d1', 'd1/sub', '.', 'a'])},target=${r.pick(['/m', '/t/m', '/etc/m'])}`,
      `type=bind,source=${r.pick(['d1', '.'])},target=/m,rw`,
      `type=bind,from=s,source=${r.pick(['/s', '/s/d', '/s/f', '/s/l'])},target=${r.pick(['/m', '/x/y'])}`,
      `type=tmpfs,target=${r.pick(['/m', '/tmp', '/t/n'])}`,
      `type=cache,target=${r.pick(['/m', '/c/d'])},id=${name}-${r.int(1, 2)}${r.pick(['', ',uid=7,gid=8', ',mode=0700', ',sharing=private', ',sharing=locked'])}`,
      `type=cache,from=s,source=/s/d,target=/m,id=${name}-f`,
    ]);
  const lines = ['FROM bb'];
  if (r.next() < 0.3) lines.push('RUN mkdir -p /t/m && echo pre > /t/m/pre');
  for (let i = r.int(1, 3); i > 0; i--) {
    const ms = Array.from({ length: r.int(1, 2) }, mount);
    const targets = ms.map((m) => /target=([^,]+)/.exec(m)?.[1] ?? '/m');
    if (new Set(targets).size < targets.length) ms.pop();
    lines.push(`RUN ${ms.map((m) => `--mount=${m} `).join('')}${show(targets[0] as string, i)}`);
  }
  // No listing of the targets after: BuildKit 0.8 leaves mount-point stubs in the layer (README).
  return { dockerfile: `${BB}${stage}${lines.join('\n')}\n`, files: CONTEXT };
}

/** USER names and ids, COPY/ADD --chown by name and id, WORKDIR made under a user, what RUN sees. */
export function usersCase(r: R): Partial<ConformanceCase> {
  const passwd =
    "RUN printf 'root:x:0:0:root:/root:/bin/sh\\napp:x:1000:1000::/home/app:/bin/sh\\nweb:x:33:33::/var/www:/bin/sh\\n' > /etc/passwd && " +
    "printf 'root:x:0:\\napp:x:1000:\\nstaff:x:50:app,web\\nweb:x:33:\\n' > /etc/group";
  const who = () =>
    r.pick([
      'app',
      'web',
      '1000',
      '1000:50',
      'app:staff',
      'web:app',
      '33:0',
      '0',
      'root',
      '4242',
      'app:nogroup',
    ]);
  // Now and then no files at all: a name in --chown or under WORKDIR must then fail (readUser).
  const lines = ['FROM bb', r.next() < 0.2 ? 'RUN rm -f /etc/passwd /etc/group' : passwd];
  for (let i = r.int(2, 5); i > 0; i--) {
    const k = r.next();
    if (k < 0.3) lines.push(`USER ${who()}`);
    else if (k < 0.55)
      lines.push(
        `COPY --chown=${r.pick(['app', 'app:staff', '1000:50', ':50', 'web', '7', 'root:web', 'ghost', 'app:nogroup', 'ghost:staff'])} ${r.pick(['a', 'd1', 'd1/'])} /c${i}/`,
      );
    else if (k < 0.7) lines.push(`WORKDIR /w${i}/${r.pick(['x', 'x/y'])}`);
    else
      lines.push(
        `RUN (id; stat -c '%u:%g %a' . /c* 2>/dev/null; echo ~; touch f${i} && echo ok${i}) > /tmp/o${i} 2>&1; cp /tmp/o${i} /o${i} 2>/dev/null || true`,
      );
  }
  return { dockerfile: `${BB}${lines.join('\n')}\n`, files: CONTEXT };
}

/** Image config across stages: what a child stage inherits (CMD reset by ENTRYPOINT, SHELL, ONBUILD). */
export function configCase(r: R): Partial<ConformanceCase> {
  const instr = () =>
    r.pick([
      'CMD ["run", "x"]',
      'CMD run x',
      'CMD []',
      'ENTRYPOINT ["/bin/ep"]',
      'ENTRYPOINT ep --flag',
      'ENTRYPOINT []',
      'SHELL ["/bin/sh", "-xc"]',
      'SHELL ["/bin/ash", "-c"]',
      'USER 1000:1000',
      'USER nobody',
      'WORKDIR /srv',
      'WORKDIR rel',
      'VOLUME /data',
      'VOLUME ["/a", "/b"]',
      'EXPOSE 8080',
      'STOPSIGNAL SIGINT',
      'HEALTHCHECK CMD true',
      'HEALTHCHECK --retries=2 --start-period=3s CMD ["true"]',
      'HEALTHCHECK NONE',
      'ENV K=v L="two words"',
      'LABEL k=v',
      'ONBUILD ENV FROM_ONBUILD=1',
      'ONBUILD LABEL onbuild=yes',
      'ONBUILD RUN echo triggered > /trig',
      'ONBUILD WORKDIR /ob',
      'RUN',
    ]);
  // A RUN's output names the shell it ran with ($0) and what it saw; a per-case name keeps each.
  let runs = 0;
  const next = () => {
    const i = instr();
    return i === 'RUN' ? `RUN echo "$0 $K $FROM_ONBUILD" > /shell-${runs++} 2>/dev/null; true` : i;
  };
  const lines = [BB.trimEnd()];
  const stages = ['bb'];
  for (let s = 1; s <= r.int(2, 3); s++) {
    lines.push(`FROM ${r.pick(stages)} AS s${s}`);
    for (let i = r.int(1, 4); i > 0; i--) lines.push(next());
    stages.push(`s${s}`);
  }
  lines.push(`FROM ${r.pick(stages.slice(1))}`);
  for (let i = r.int(0, 3); i > 0; i--) lines.push(next());
  return { dockerfile: `${lines.join('\n')}\n`, files: CONTEXT };
}
