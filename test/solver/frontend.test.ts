import { describe, expect, it } from 'vitest';
import { DockerfileSyntaxError, TsbuildError } from '../../src/errors.js';
import type { ImageConfig } from '../../src/oci/index.js';
import { toStages } from '../../src/parser/index.js';
import { type ConvertOptions, convert } from '../../src/solver/frontend/convert.js';
import { urlFileName } from '../../src/solver/frontend/dispatch-copy.js';
import { goDuration, goRune } from '../../src/solver/frontend/image-config.js';
import { type ExecOp, type FileOp, keyedOp, type Vertex } from '../../src/solver/graph.js';

const baseConfig: ImageConfig = {
  architecture: 'amd64',
  os: 'linux',
  config: {
    Env: ['PATH=/bin', 'BASE=1'],
    Cmd: ['/bin/sh'],
    WorkingDir: '/base',
    OnBuild: ['RUN echo from-base'],
  },
  rootfs: { type: 'layers', diff_ids: [`sha256:${'a'.repeat(64)}`] },
  history: [{ created_by: 'base layer' }],
};

function opts(extra: Partial<ConvertOptions> = {}): ConvertOptions {
  return {
    targetPlatform: { os: 'linux', architecture: 'amd64' },
    buildPlatform: { os: 'linux', architecture: 'amd64' },
    resolveImage: async (ref) => ({
      ref: `${ref}@sha256:${'b'.repeat(64)}`,
      config: structuredClone(baseConfig),
    }),
    ...extra,
  };
}

async function conv(df: string, extra: Partial<ConvertOptions> = {}) {
  return convert(toStages(df).value, opts(extra));
}

function chain(v: Vertex | undefined): Vertex[] {
  const out: Vertex[] = [];
  const seen = new Set<string>();
  const walk = (x: Vertex) => {
    if (seen.has(x.digest)) return;
    seen.add(x.digest);
    for (const i of x.inputs) walk(i);
    out.push(x);
  };
  if (v) walk(v);
  return out;
}

describe('frontend: stages → op graph', () => {
  it('FROM scratch gets BuildKit’s empty image; config-only steps add no vertex', async () => {
    const r = await conv('FROM scratch\nENV A=1\nLABEL b=2\nCMD ["x"]\n');
    expect(r.vertex).toBeUndefined();
    expect(r.image.config.Env).toEqual([
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'A=1',
    ]);
    expect(r.image.config.WorkingDir).toBe('/');
    expect(r.image.history.map((h) => [h.created_by, h.empty_layer])).toEqual([
      ['ENV A=1', true],
      ['LABEL b=2', true],
      ['CMD ["x"]', true],
    ]);
  });

  it('runs base image ONBUILD triggers first and clears them; keeps base history and env', async () => {
    const r = await conv('FROM img\nRUN echo child\n');
    const execs = chain(r.vertex).filter((v) => v.op.kind === 'exec');
    expect(execs.map((v) => (v.op as ExecOp).args.at(-1))).toEqual(['echo from-base', 'echo child']);
    expect(r.image.config.OnBuild).toBeUndefined();
    expect(r.image.history[0]?.created_by).toBe('base layer');
    const child = execs[1] as Vertex;
    expect((child.op as ExecOp).env).toEqual(['PATH=/bin', 'BASE=1']);
    expect((child.op as ExecOp).cwd).toBe('/base');
  });

  it('an ONBUILD trigger that does not parse is kept as text and fails only the stage that runs it, as BuildKit', async () => {
    // dockerd 20.10 builds `ONBUILD FOO bar` and `ONBUILD COPY a`; a child stage fails on them
    const bad = 'FROM scratch AS b\nONBUILD FOO bar\nONBUILD COPY a\n';
    const base = await conv(bad);
    expect(base.image.config.OnBuild).toEqual(['FOO bar', 'COPY a']);
    await expect(conv(`${bad}FROM scratch\nCOPY --from=b / /\n`)).resolves.toBeDefined();
    await expect(conv(`${bad}FROM b\nRUN true\n`)).rejects.toThrow('unknown instruction: FOO');
  });

  it('ARG scoping: only declared args reach RUN env and its key; build args override defaults', async () => {
    const df = 'ARG GLOBAL=g\nFROM scratch\nARG GLOBAL\nARG LOCAL=l\nRUN echo $GLOBAL $LOCAL\n';
    const a = await conv(df);
    const b = await conv(df, { buildArgs: { UNRELATED: 'x' } });
    const c = await conv(df, { buildArgs: { LOCAL: 'override' } });
    expect(a.vertex?.digest).toBe(b.vertex?.digest);
    expect(c.vertex?.digest).not.toBe(a.vertex?.digest);
    const run = a.vertex?.op as ExecOp;
    expect(run.env).toContain('GLOBAL=g');
    expect(run.env).toContain('LOCAL=l');
    expect(a.image.history.at(-1)?.created_by).toBe(
      'RUN |2 GLOBAL=g LOCAL=l /bin/sh -c echo $GLOBAL $LOCAL # buildkit',
    );
    expect(a.image.config.Env?.some((e) => e.startsWith('LOCAL'))).toBe(false);
    expect(b.warnings.map((w) => w.message)).toEqual([
      'One or more build-args [UNRELATED] were not consumed',
    ]);
    expect(c.warnings).toEqual([]);
  });

  it('solves only what --target needs; unknown targets and --from variables fail loudly', async () => {
    const df = 'FROM scratch AS a\nRUN echo a\nFROM scratch AS b\nRUN echo b\nFROM a\nCOPY --from=b /x /x\n';
    const t = await conv(df, { target: 'b' });
    expect(chain(t.vertex).filter((v) => v.op.kind === 'exec')).toHaveLength(1);
    await expect(conv(df, { target: 'nope' })).rejects.toThrow(/target stage "nope" could not be found/);
    await expect(conv('FROM scratch\nARG S=a\nCOPY --from=$S /x /x\n')).rejects.toThrow(
      /variable expansion is not supported/,
    );
    // A later stage: an error only where the stage using it is built (BuildKit dispatches no other)
    const later = 'FROM scratch AS a\nCOPY --from=b /x /x\nFROM scratch AS b\n';
    await expect(conv(later)).resolves.toBeDefined();
    await expect(conv(later, { target: 'a' })).rejects.toThrow(
      'cannot copy from stage "b", it needs to be defined before current stage "a"',
    );
    await expect(
      conv('FROM scratch AS a\nRUN --mount=from=b,target=/m true\nFROM scratch AS b\nFROM a\n'),
    ).rejects.toThrow(
      'cannot mount from stage "b" to "/m", stage needs to be defined before current command',
    );
    // A stage of its own, built or not: BuildKit's cycle check names the stage its walk started from
    await expect(conv('FROM scratch AS a\nCOPY --from=0 /x /x\n')).rejects.toThrow(
      'circular dependency detected on stage: a',
    );
    await expect(conv('FROM scratch\nCOPY --from=0 /x /x\nFROM scratch\n')).rejects.toThrow(
      'circular dependency detected on stage: stage-0',
    );
    await expect(
      conv(
        'FROM scratch AS x\nCOPY --from=b /x /x\nFROM scratch AS b\nCOPY --from=c /y /y\nFROM scratch AS c\nCOPY --from=b /z /z\nFROM scratch\n',
      ),
    ).rejects.toThrow('circular dependency detected on stage: x');
  });

  it('ENTRYPOINT resets an inherited CMD; shell form wraps with SHELL', async () => {
    const r = await conv('FROM img\nSHELL ["/bin/bash", "-c"]\nENTRYPOINT run me\n');
    expect(r.image.config.Entrypoint).toEqual(['/bin/bash', '-c', 'run me']);
    expect(r.image.config.Cmd).toBeNull();
  });

  it('COPY: dest relative to WORKDIR, multiple sources to a dest without a slash (as BuildKit), --link/--chmod recorded', async () => {
    const r = await conv('FROM scratch\nWORKDIR /app\nCOPY --chmod=755 a b ./\n');
    const file = r.vertex?.op as FileOp;
    expect(file.actions[0]).toMatchObject({ type: 'copy', dest: '/app/', chmod: '755', fromContext: true });
    // the classic builder's "must be a directory and end with a /" is not BuildKit's: each source
    // is copied to the destination in turn (the conformance case copy-many-to-no-slash)
    const many = await conv('FROM scratch\nCOPY a b /dest\n');
    expect((many.vertex!.op as FileOp).actions[0]).toMatchObject({ type: 'copy', dest: '/dest' });
    await expect(conv('FROM scratch\nCOPY --chmod=99999 a /x\n')).rejects.toThrow(/invalid chmod/);
  });

  it('a word that fails to expand is the error of its instruction, at its line (as BuildKit locates it)', async () => {
    const at = async (df: string) => {
      const e = await conv(df).then(
        () => undefined,
        (x: unknown) => x as DockerfileSyntaxError,
      );
      expect(e).toBeInstanceOf(DockerfileSyntaxError);
      return { line: e!.range.start.line, message: e!.message };
    };
    expect(await at('FROM scratch\nENV A=1\nENV H="${NOPE:?is required}"\n')).toEqual({
      line: 3,
      message: 'failed to process "\\"${NOPE:?is required}\\"": NOPE: is required',
    });
    expect((await at('FROM scratch\n\nWORKDIR ${W:?no workdir}\n')).line).toBe(3);
    expect((await at('FROM scratch\nRUN true\nCOPY ${S:?no source} /x\n')).line).toBe(3);
    expect((await at('FROM scratch\nRUN true\nRUN --mount=type=tmpfs,target=${T:?x} true\n')).line).toBe(3);
    expect((await at('FROM scratch\nLABEL a=1\nLABEL b="${B:?x}"\n')).line).toBe(3);
    // a stage used before it is defined: the COPY's line, not its stage's FROM
    expect(
      await at('FROM scratch AS a\nRUN true\nCOPY --from=b /x /y\nFROM scratch AS b\nFROM a\n'),
    ).toMatchObject({
      line: 3,
    });
    expect(await at('FROM scratch\nRUN true\nCOPY --from=$S /x /y\n')).toMatchObject({ line: 3 });
    // other errors of an instruction's words carry its line for the CLI's excerpt
    const port = await conv('FROM scratch\nRUN true\nEXPOSE 80-70\n').catch(
      (e: unknown) => e as TsbuildError,
    );
    expect(port).toMatchObject({ code: 'INVALID_PORT', line: 3 });
  });

  it('WORKDIR: an absolute path is recorded as written, a relative one joined and cleaned (BuildKit 0.8)', async () => {
    const r = await conv('FROM scratch\nWORKDIR //x//y/\nRUN pwd\n');
    expect(r.image.config.WorkingDir).toBe('//x//y/');
    expect(r.image.history?.at(-2)?.created_by).toBe('WORKDIR //x//y/');
    const run = r.vertex?.op as ExecOp;
    expect(run.cwd).toBe('/x/y');
    const mkdir = (r.vertex!.inputs[0]!.op as FileOp).actions[0];
    expect(mkdir).toMatchObject({ type: 'mkdir', path: '/x/y' });
    const rel = await conv('FROM scratch\nWORKDIR /a/b/\nWORKDIR ./c/../d/.\n');
    expect(rel.image.config.WorkingDir).toBe('/a/b/d');
  });

  it('a base image’s relative WorkingDir is joined onto itself, as BuildKit dispatches it (dockerd 20.10)', async () => {
    const relBase = (wd: string) => ({
      resolveImage: async (ref: string) => ({
        ref: `${ref}@sha256:${'b'.repeat(64)}`,
        config: { ...structuredClone(baseConfig), config: { WorkingDir: wd } },
      }),
    });
    const r = await conv('FROM base\nRUN pwd\n', relBase('rel/dir'));
    expect(r.image.config.WorkingDir).toBe('/rel/dir/rel/dir');
    expect((r.vertex!.op as ExecOp).cwd).toBe('/rel/dir/rel/dir');
    const w = await conv('FROM base\nWORKDIR x\n', relBase('rel/dir/'));
    expect(w.image.config.WorkingDir).toBe('/rel/dir/rel/dir/x');
    // an absolute one stays as written
    expect((await conv('FROM base\nLABEL a=b\n', relBase('/a/../b/'))).image.config.WorkingDir).toBe(
      '/a/../b/',
    );
  });

  it('ARG: one line (keys too) is expanded before any of it is set; USER to nothing leaves no User', async () => {
    const r = await conv('FROM scratch\nARG X=10\nARG X=20 Y=$X\nENV Y=$Y\nUSER $NOPE\n');
    expect(r.image.config.Env).toContain('Y=10');
    expect(r.image.history?.at(-3)?.created_by).toBe('ARG X=20 Y=10');
    expect('User' in r.image.config).toBe(false);
    const q = await conv('FROM scratch\nARG "Q"=3\nENV E=$Q\n');
    expect(q.image.config.Env).toContain('E=3');
    expect(q.image.history?.at(-2)?.created_by).toBe('ARG Q=3');
  });

  it('a stage from a stage keeps its ARG values in the env but not as RUN history args', async () => {
    const r = await conv('FROM scratch AS a\nARG V=1\nRUN one\nFROM a\nRUN two\n');
    const runs = r.image.history?.map((h) => h.created_by).filter((h) => h?.startsWith('RUN'));
    expect(runs).toEqual(['RUN |1 V=1 /bin/sh -c one # buildkit', 'RUN /bin/sh -c two # buildkit']);
    // each declaration is listed, repeats too (dockerd 20.10's BuildKit)
    const d = await conv('FROM scratch\nARG A=1 A=2\nARG A\nRUN x\n');
    expect(d.image.history?.at(-1)?.created_by).toBe('RUN |3 A=2 A=2 A=2 /bin/sh -c x # buildkit');
    expect((r.vertex!.op as ExecOp).env).toContain('V=1');
  });

  it('WORKDIR to nothing keeps the current dir; EXPOSE rejects what go-connections/nat rejects', async () => {
    const r = await conv('FROM scratch\nWORKDIR /a\nWORKDIR $NOPE\n');
    expect(r.image.config.WorkingDir).toBe('/a');
    expect(r.image.history?.at(-1)?.created_by).toBe('WORKDIR /a');
    await expect(conv('FROM scratch\nEXPOSE 80-70\n')).rejects.toThrow('Invalid containerPort: 80-70');
    await expect(conv('FROM scratch\nEXPOSE 80/foo\n')).rejects.toThrow('Invalid proto: foo');
    await expect(conv('FROM scratch\nEXPOSE abc\n')).rejects.toThrow('Invalid containerPort: abc');
    await expect(conv('FROM scratch\nSTOPSIGNAL ["SIGTERM"]\n')).rejects.toThrow('Invalid signal: [SIGTERM]');
    const ok = await conv('FROM scratch\nEXPOSE 80/ 81/SCTP\n');
    expect(Object.keys(ok.image.config.ExposedPorts ?? {})).toEqual(['80/tcp', '81/sctp']);
  });

  it('proxy build args reach RUN in both spellings, undeclared, and stay out of config and history', async () => {
    const r = await conv('FROM scratch\nRUN x\n', {
      buildArgs: { http_proxy: 'http://p:1', NO_PROXY: 'lo' },
    });
    const op = r.vertex!.op as ExecOp;
    const env = [...op.env, ...(op.proxyEnv ?? [])];
    expect(op.env.some((e) => /proxy/i.test(e))).toBe(false);
    expect(env).toEqual(
      expect.arrayContaining([
        'HTTP_PROXY=http://p:1',
        'http_proxy=http://p:1',
        'NO_PROXY=lo',
        'no_proxy=lo',
      ]),
    );
    expect(env.some((e) => e.startsWith('HTTPS_PROXY='))).toBe(false);
    expect(r.image.config.Env?.some((e) => /proxy/i.test(e))).toBe(false);
    expect(r.image.history?.at(-1)?.created_by).toBe('RUN /bin/sh -c x # buildkit');
    // BuildKit's execOp.CacheMap: no proxy in the key, and extra hosts by name only.
    expect(keyedOp({ ...op, extraHosts: ['db:10.0.0.1'] })).toEqual({
      ...op,
      proxyEnv: undefined,
      extraHosts: ['db:'],
    });
    expect(JSON.stringify(keyedOp(op))).not.toMatch(/proxy/i);
  });

  it('formats Go values as BuildKit’s history does', () => {
    expect(goDuration(30e9)).toBe('30s');
    expect(goDuration(90e9)).toBe('1m30s');
    expect(goDuration(1.5e9)).toBe('1.5s');
    expect(goDuration(0)).toBe('0s');
    expect(goRune(2)).toBe("'\\x02'");
    expect(goRune(65)).toBe("'A'");
  });
  it('RUN heredocs as BuildKit runs them: a shebang file at /dev/pipes/ through the SHELL, else the content', async () => {
    const df =
      'FROM base\nSHELL ["/bin/ash", "-ec"]\nRUN <<EOF\n#!/bin/sh\necho s\nEOF\nRUN <<EOF\necho plain\nEOF\nRUN cat <<A >/a && cat <<B\none\nA\ntwo\nB\n';
    const r = await conv(df);
    // (the first RUN is the base image's ONBUILD trigger)
    const execs = chain(r.vertex)
      .filter((v) => v.op.kind === 'exec')
      .slice(1);
    const ops = execs.map((v) => v.op as ExecOp);
    expect(ops.map((o) => o.args)).toEqual([
      ['/bin/ash', '-ec', '/dev/pipes/EOF'],
      ['/bin/ash', '-ec', 'echo plain\n'],
      ['/bin/ash', '-ec', 'cat <<A >/a && cat <<B\none\nA\ntwo\nB'],
    ]);
    expect(ops.map((o) => o.inlineFiles)).toEqual([
      [{ path: '/dev/pipes/EOF', data: '#!/bin/sh\necho s\n', mode: 0o755 }],
      undefined,
      undefined,
    ]);
    const runs = r.image.history.map((h) => h.created_by ?? '').filter((c) => c.startsWith('RUN'));
    expect(runs.slice(1)).toEqual([
      'RUN /bin/ash -ec /dev/pipes/EOF # buildkit',
      'RUN /bin/ash -ec echo plain\n # buildkit',
      'RUN /bin/ash -ec cat <<A >/a && cat <<B\none\nA\ntwo\nB # buildkit',
    ]);
    expect(execs[0]?.name).toContain('(#!/bin/sh');
  });
  it('names an ADDed URL as dockerfile2llb does: the base of the percent-decoded path', async () => {
    expect(urlFileName('http://h:1/a%20b.txt')).toBe('a b.txt');
    expect(urlFileName('http://h/p/f.txt?x=1#y')).toBe('f.txt');
    expect(urlFileName('http://h/dir/')).toBe('dir');
    expect(urlFileName('http://h/')).toBe('__unnamed__');
    expect(urlFileName('http://h')).toBe('__unnamed__');
    expect(urlFileName('http://h/a%2Fb')).toBe('b');
    expect(urlFileName('http://h/x%2F..')).toBe('__unnamed__');
    expect(urlFileName('http://h/bad%E0%A4')).toBe('__unnamed__');
    const r = await conv('FROM base\nADD http://h/a%20b.txt /dl/\n');
    const file = chain(r.vertex).find((v) => v.op.kind === 'file')?.op as FileOp;
    expect(file.actions[0]).toMatchObject({ sources: ['/a b.txt'], dest: '/dl/' });
  });
  it('build checks made while converting obey # check=; the unused build-arg notice is no check', async () => {
    const undefinedVar = 'FROM base\nCOPY a$nope /x\n';
    expect((await conv(undefinedVar)).warnings.map((w) => w.code)).toEqual(['UndefinedVar']);
    expect((await conv(`# check=skip=UndefinedVar\n${undefinedVar}`)).warnings).toEqual([]);
    await expect(conv(`# check=error=true\n${undefinedVar}`)).rejects.toThrow(/UndefinedVar/);
    const r = await conv('# check=error=true\nFROM base\n', { buildArgs: { X: '1' } });
    expect(r.warnings.map((w) => w.code)).toEqual(['UnusedBuildArgs']);
  });
});

describe('frontend: a base image config read as BuildKit reads it', () => {
  it('keeps only the fields of its structs, drops null, empty and false ones, keeps os.version', async () => {
    const odd = {
      ...structuredClone(baseConfig),
      'os.version': '10.0',
      'os.features': ['win32k'],
      container: 'abc',
      docker_version: '20.10',
      container_config: { Hostname: 'x' },
      config: {
        Hostname: 'h1',
        Tty: true,
        MacAddress: '02:42:ac:11:00:02',
        'x-custom': 'y',
        Env: ['PATH=/bin'],
        Entrypoint: null,
        Volumes: null,
        ArgsEscaped: false,
        User: '',
        StopTimeout: 0,
        Healthcheck: { Test: ['CMD', 'true'], Interval: 0, Retries: 3, Extra: 1 },
      },
      history: [
        {
          created: '2020-01-01T00:00:00.000000000Z',
          created_by: 'base',
          empty_layer: false,
          comment: '',
          extra: 'x',
        },
      ],
    } as unknown as ImageConfig;
    const r = await conv('FROM base\nLABEL a=1\n', {
      resolveImage: async (ref) => ({ ref: `${ref}@sha256:${'b'.repeat(64)}`, config: structuredClone(odd) }),
    });
    expect(r.image.config).toEqual({
      Env: ['PATH=/bin'],
      StopTimeout: 0,
      Healthcheck: { Test: ['CMD', 'true'], Retries: 3 },
      Labels: { a: '1' },
    });
    expect(r.image['os.version']).toBe('10.0');
    expect(r.image['os.features']).toEqual(['win32k']);
    expect(r.image.history[0]).toEqual({ created: '2020-01-01T00:00:00Z', created_by: 'base' });
    expect(Object.keys(r.image)).not.toContain('container');
  });

  it('takes what is no JSON object where one belongs as nothing, without a TypeError', async () => {
    const odd = {
      ...structuredClone(baseConfig),
      config: { Healthcheck: 'x', Env: ['A=1'] },
      history: [null, 5],
    };
    const r = await conv('FROM base\n', {
      resolveImage: async (ref) => ({
        ref: `${ref}@sha256:${'b'.repeat(64)}`,
        config: structuredClone(odd) as unknown as ImageConfig,
      }),
    });
    expect(r.image.config.Healthcheck).toBeUndefined();
    expect(r.image.config.Env?.[0]).toBe('A=1');
    expect(r.image.history).toEqual([{}, {}]);
  });
});

describe('frontend: a base that cannot be resolved', () => {
  const failing = (): Partial<ConvertOptions> => ({
    resolveImage: async (ref) => {
      throw new TsbuildError('IMAGE_NOT_FOUND', `${ref}: not found`, { hint: 'check the name' });
    },
  });

  it('is placed at the line that names it, with the stage a near name was meant as', async () => {
    const df = 'FROM scratch AS build\nCOPY x /x\nFROM scratch\nCOPY --from=biuld /x /y\n';
    const e = await conv(df, failing()).catch((x) => x);
    expect(e).toBeInstanceOf(TsbuildError);
    expect([e.code, e.line, e.message]).toEqual(['IMAGE_NOT_FOUND', 4, 'biuld: not found']);
    expect(e.hint).toBe(
      'no stage is named "biuld" (did you mean "build"?), so it was taken for an image; check the name',
    );
    const f = await conv('FROM scratch AS base\nFROM bsae\n', failing()).catch((x) => x);
    expect([f.line, f.hint]).toEqual([
      2,
      'no stage is named "bsae" (did you mean "base"?), so it was taken for an image; check the name',
    ]);
  });

  it('a stage index out of range is placed too', async () => {
    const e = await conv('FROM scratch\nCOPY x /x\nFROM scratch\nCOPY --from=5 /x /y\n').catch((x) => x);
    expect([e.code, e.message, e.line]).toEqual(['INVALID_STAGE_INDEX', 'invalid stage index 5', 4]);
  });

  it('names no stage when none is near, or when the name is a registry path', async () => {
    const e = await conv('FROM scratch AS build\nFROM alpine\n', failing()).catch((x) => x);
    expect([e.line, e.hint]).toEqual([2, 'check the name']);
    const f = await conv('FROM scratch AS build\nFROM reg/build\n', failing()).catch((x) => x);
    expect(f.hint).toBe('check the name');
  });
});

describe('frontend: --no-cache-filter', () => {
  const ignored = async (df: string, noCacheFilter: string[]) =>
    chain((await conv(df, { noCacheFilter })).vertex)
      .filter((v) => v.ignoreCache)
      .map((v) => v.name);

  it('matches stage names case-insensitively, as BuildKit (EqualFold); never an unnamed stage', async () => {
    const df =
      'FROM scratch AS Gen\nWORKDIR /g\nFROM scratch\nWORKDIR /u\nFROM scratch\nCOPY --from=Gen /g /x\nCOPY --from=1 /u /y\n';
    const byName = await ignored(df, ['GEN']);
    expect(byName.some((n) => n?.includes('WORKDIR /g'))).toBe(true);
    expect(byName.some((n) => n?.includes('WORKDIR /u'))).toBe(false);
    // the generated name of an unnamed stage (or its index) selects nothing
    expect(await ignored(df, ['stage-1', '1'])).toEqual([]);
  });
});
