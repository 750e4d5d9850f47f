/** biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are shell words, not templates */
import { describe, expect, it } from 'vitest';
import { DockerfileSyntaxError } from '../../src/errors.js';
import { BuildArgScope, type Instruction, predefinedArgs, toStages } from '../../src/parser/index.js';

const platforms = {
  targetPlatform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
  buildPlatform: { os: 'linux', architecture: 'amd64' },
};

function scopeFor(text: string, buildArgs: Record<string, string> = {}) {
  const { value } = toStages(text);
  const scope = new BuildArgScope(value.metaArgs, { ...platforms, buildArgs });
  return { value, scope };
}

/** Walks a stage like the solver does: expand with the scope, then apply. */
function walk(scope: BuildArgScope, instructions: Instruction[], baseEnv = [{ key: 'PATH', value: '/bin' }]) {
  const st = scope.stage(baseEnv);
  const seen: Record<string, string> = {};
  for (const ins of instructions) {
    if (ins.kind === 'WORKDIR') seen[ins.path] = st.expand(ins.path);
    st.apply(ins);
  }
  return { st, seen };
}

describe('predefined args', () => {
  it('describes the target and build platforms like BuildKit', () => {
    const m = predefinedArgs(platforms);
    expect(Object.fromEntries(m)).toEqual({
      TARGETPLATFORM: 'linux/arm64/v8',
      TARGETOS: 'linux',
      TARGETARCH: 'arm64',
      TARGETVARIANT: 'v8',
      BUILDPLATFORM: 'linux/amd64',
      BUILDOS: 'linux',
      BUILDARCH: 'amd64',
      BUILDVARIANT: '',
    });
  });
});

describe('BuildArgScope', () => {
  it('global ARGs are visible to FROM, with --build-arg overriding defaults', () => {
    const { value, scope } = scopeFor('ARG IMG=alpine\nARG TAG=3.$MINOR\nARG MINOR=19\nFROM $IMG:${TAG}\n', {
      IMG: 'busybox',
    });
    expect(scope.expandMeta(value.stages[0]!.base)).toBe('busybox:3.');
    expect(scope.meta()('TARGETARCH')).toBe('arm64');
    expect(scope.meta()('MINOR')).toBe('19');
  });

  it('global ARGs are not visible in a stage unless redeclared', () => {
    const { value, scope } = scopeFor('ARG V=1\nFROM a\nWORKDIR /$V\nARG V\nWORKDIR /again/$V\n');
    const { seen } = walk(scope, value.stages[0]!.instructions);
    expect(seen['/$V']).toBe('/');
    expect(seen['/again/$V']).toBe('/again/1');
  });

  it('predefined platform args need an ARG in the stage', () => {
    const { value, scope } = scopeFor(
      'FROM a\nWORKDIR /$TARGETARCH\nARG TARGETARCH\nWORKDIR /b/$TARGETARCH\n',
    );
    const { seen } = walk(scope, value.stages[0]!.instructions);
    expect(seen['/$TARGETARCH']).toBe('/');
    expect(seen['/b/$TARGETARCH']).toBe('/b/arm64');
  });

  it('stage ARG: --build-arg beats the default; the default expands with what came before', () => {
    const { value, scope } = scopeFor(
      'FROM a\nENV BASE=/opt\nARG DIR=$BASE/app\nARG OTHER=x\nWORKDIR $DIR\nWORKDIR /o/$OTHER\n',
      {
        OTHER: 'from-cli',
      },
    );
    const { st, seen } = walk(scope, value.stages[0]!.instructions);
    expect(seen.$DIR).toBe('/opt/app');
    expect(seen['/o/$OTHER']).toBe('/o/from-cli');
    expect(st.args()).toEqual([
      { key: 'DIR', value: '/opt/app' },
      { key: 'OTHER', value: 'from-cli' },
    ]);
  });

  it('ENV pairs see the values from before the instruction', () => {
    const { value, scope } = scopeFor('FROM a\nENV abc=hello\nENV abc=bye def=$abc\nENV ghi=$abc\n');
    const { st } = walk(scope, value.stages[0]!.instructions);
    expect(st.env()).toEqual([
      { key: 'PATH', value: '/bin' },
      { key: 'abc', value: 'bye' },
      { key: 'def', value: 'hello' },
      { key: 'ghi', value: 'bye' },
    ]);
  });

  it('base image ENV is visible; quotes in ENV values are removed by expansion', () => {
    const { value, scope } = scopeFor('FROM a\nENV P="$PATH:/usr/local/bin" Q=\'$PATH\'\n');
    const { st } = walk(scope, value.stages[0]!.instructions);
    expect(st.lookup('P')).toBe('/bin:/usr/local/bin');
    expect(st.lookup('Q')).toBe('$PATH');
  });

  it('unused build args are reported, proxy args never; proxies reach RUN without an ARG', () => {
    const { value, scope } = scopeFor('ARG USED\nFROM a\nARG ALSO\n', {
      USED: '1',
      ALSO: '2',
      NOPE: '3',
      HTTP_PROXY: 'http://proxy:3128',
    });
    const { st } = walk(scope, value.stages[0]!.instructions);
    expect(scope.unusedBuildArgs()).toEqual(['NOPE']);
    expect(st.runEnv().proxy).toEqual([{ key: 'HTTP_PROXY', value: 'http://proxy:3128' }]);
    expect(st.runEnv().env).toContainEqual({ key: 'ALSO', value: '2' });
  });

  it('an expansion error carries the instruction range', () => {
    const { value, scope } = scopeFor('FROM a\nENV X=${NOPE:?gone}\n');
    const st = scope.stage([]);
    try {
      st.apply(value.stages[0]!.instructions[0]!);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DockerfileSyntaxError);
      expect((e as DockerfileSyntaxError).range.start.line).toBe(2);
      expect((e as Error).message).toMatch(/NOPE: gone/);
    }
  });

  it('the backtick escape applies to expansion', () => {
    const { value } = toStages('# escape=`\nFROM a\nWORKDIR C:\\dir`$X\n');
    const scope = new BuildArgScope(value.metaArgs, { ...platforms, escapeToken: value.escapeToken });
    const ins = value.stages[0]!.instructions[0]!;
    expect(ins.kind === 'WORKDIR' && scope.stage([]).expand(ins.path)).toBe('C:\\dir$X');
  });
});
