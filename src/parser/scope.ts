import { type EnvLookup, expandWord, expandWords, type LexOptions } from './shell-lexer.js';
import type { ArgInstruction, EscapeToken, Instruction, KeyValue } from './types.js';

export interface PlatformSpec {
  os: string;
  architecture: string;
  variant?: string;
}

export interface PredefinedArgsOptions {
  targetPlatform: PlatformSpec;
  buildPlatform: PlatformSpec;
}

/** The platform args BuildKit puts in the global scope. */
export const PREDEFINED_ARG_NAMES = [
  'TARGETPLATFORM',
  'TARGETOS',
  'TARGETARCH',
  'TARGETVARIANT',
  'BUILDPLATFORM',
  'BUILDOS',
  'BUILDARCH',
  'BUILDVARIANT',
] as const;

/** Proxy args: usable in RUN through `--build-arg` without an ARG, never in the cache key or history. */
export const PROXY_ARG_NAMES = [
  'HTTP_PROXY',
  'http_proxy',
  'HTTPS_PROXY',
  'https_proxy',
  'FTP_PROXY',
  'ftp_proxy',
  'NO_PROXY',
  'no_proxy',
  'ALL_PROXY',
  'all_proxy',
] as const;

const formatPlatform = (p: PlatformSpec) => [p.os, p.architecture, p.variant].filter((x) => x).join('/');

/** TARGETPLATFORM, TARGETOS, TARGETARCH, TARGETVARIANT, BUILDPLATFORM, BUILDOS, BUILDARCH, BUILDVARIANT. */
export function predefinedArgs(opts: PredefinedArgsOptions): Map<string, string> {
  const t = opts.targetPlatform;
  const b = opts.buildPlatform;
  return new Map([
    ['TARGETPLATFORM', formatPlatform(t)],
    ['TARGETOS', t.os],
    ['TARGETARCH', t.architecture],
    ['TARGETVARIANT', t.variant ?? ''],
    ['BUILDPLATFORM', formatPlatform(b)],
    ['BUILDOS', b.os],
    ['BUILDARCH', b.architecture],
    ['BUILDVARIANT', b.variant ?? ''],
  ]);
}

export interface ScopeOptions extends PredefinedArgsOptions {
  /** `--build-arg K=V` values. */
  buildArgs?: Record<string, string>;
  escapeToken?: EscapeToken;
}

/**
 * The ARG/ENV values one stage's instructions can see, stepped through in order (BuildKit's dispatch
 * state). Expand an instruction's raw words with `lookup`/`expand` BEFORE calling `apply` for it: an
 * instruction sees only values from before it (`ENV a=b c=$a` gives c the old a).
 */
export class StageScope {
  /** Everything a word can expand to: base image ENV, then ARG and ENV in order (later wins). */
  private readonly state = new Map<string, string>();
  private readonly envVars = new Map<string, string>();
  private readonly argVars = new Map<string, string | undefined>();

  constructor(
    private readonly parent: BuildArgScope,
    baseEnv: KeyValue[],
  ) {
    for (const { key, value } of baseEnv) {
      this.state.set(key, value);
      this.envVars.set(key, value);
    }
  }

  lookup = (name: string): string | undefined => this.state.get(name);

  private lexOpts(extra: LexOptions = {}): LexOptions {
    return { escapeToken: this.parent.escapeToken, ...extra };
  }
  /** One word (COPY source/dest, WORKDIR, USER, ENV value …), quotes removed. */
  expand(word: string, extra: LexOptions = {}): string {
    return expandWord(word, this.lookup, this.lexOpts(extra));
  }
  /** Split into words after expansion (EXPOSE, VOLUME …). */
  expandWords(word: string, extra: LexOptions = {}): string[] {
    return expandWords(word, this.lookup, this.lexOpts(extra));
  }

  /** Records what an instruction declares (ENV, ARG); other kinds do not change the scope. */
  apply(ins: Instruction): void {
    if (ins.kind === 'ENV') {
      const opts = this.lexOpts({ range: ins.range });
      // All pairs expand against the values from before the instruction.
      const pairs = ins.pairs.map((p) => ({
        key: expandWord(p.key, this.lookup, opts),
        value: expandWord(p.value, this.lookup, opts),
      }));
      for (const p of pairs) {
        this.state.set(p.key, p.value);
        this.envVars.set(p.key, p.value);
      }
    } else if (ins.kind === 'ARG') {
      for (const d of ins.args) {
        const v = this.parent.resolveStageArg(d.name, d.default, (w) =>
          expandWord(w, this.lookup, this.lexOpts({ range: ins.range })),
        );
        this.argVars.set(d.name, v);
        if (v !== undefined) this.state.set(d.name, v);
      }
    }
  }

  /** ENV for the image config, in order (base image ENV first). */
  env(): KeyValue[] {
    return [...this.envVars].map(([key, value]) => ({ key, value }));
  }

  /** Declared ARGs that have a value (they are in RUN's environment and its cache key). */
  args(): KeyValue[] {
    return [...this.argVars]
      .filter((e): e is [string, string] => e[1] !== undefined)
      .map(([key, value]) => ({ key, value }));
  }

  /** The environment of a RUN: ENV and ARG values, plus proxy build args (not in the cache key). */
  runEnv(): { env: KeyValue[]; proxy: KeyValue[] } {
    const env = [...this.state].map(([key, value]) => ({ key, value }));
    const proxy = this.parent.proxyArgs().filter((p) => !this.state.has(p.key));
    return { env, proxy };
  }
}

/** Global (meta) ARGs, build-arg overrides and predefined args; makes StageScopes. */
export class BuildArgScope {
  private readonly globals = new Map<string, string | undefined>();
  private readonly buildArgs: Map<string, string>;
  private readonly consumed = new Set<string>();
  readonly escapeToken: EscapeToken;

  constructor(metaArgs: ArgInstruction[], opts: ScopeOptions) {
    this.escapeToken = opts.escapeToken ?? '\\';
    this.buildArgs = new Map(Object.entries(opts.buildArgs ?? {}));
    for (const [k, v] of predefinedArgs(opts)) this.globals.set(k, v);
    const lookup: EnvLookup = (n) => this.globals.get(n);
    for (const ins of metaArgs) {
      for (const d of ins.args) {
        let v: string | undefined;
        if (this.buildArgs.has(d.name)) {
          v = this.buildArgs.get(d.name);
          this.consumed.add(d.name);
        } else if (d.default !== undefined) {
          v = expandWord(d.default, lookup, { escapeToken: this.escapeToken, range: ins.range });
        } else v = this.globals.get(d.name);
        this.globals.set(d.name, v);
      }
    }
  }

  /** Lookup for FROM lines (global ARGs + predefined args, overridden by --build-arg). */
  meta(): EnvLookup {
    return (n) => this.globals.get(n);
  }

  /** Expands a FROM word (image or --platform) in the global scope. */
  expandMeta(word: string, extra: LexOptions = {}): string {
    return expandWord(word, this.meta(), { escapeToken: this.escapeToken, ...extra });
  }

  /** A scope for a stage whose base image has this ENV. */
  stage(baseEnv: KeyValue[] = []): StageScope {
    return new StageScope(this, baseEnv);
  }

  /** BuildKit's dispatchArg: --build-arg wins, then the default, then the global value of that name. */
  resolveStageArg(name: string, def: string | undefined, expand: (w: string) => string): string | undefined {
    if (this.buildArgs.has(name)) {
      this.consumed.add(name);
      return this.buildArgs.get(name);
    }
    if (def !== undefined) return expand(def);
    return this.globals.get(name);
  }

  proxyArgs(): KeyValue[] {
    return PROXY_ARG_NAMES.filter((n) => this.buildArgs.has(n)).map((key) => ({
      key,
      value: this.buildArgs.get(key)!,
    }));
  }

  /** --build-arg keys no ARG consumed (BuildKit warns about them); proxy args never count. */
  unusedBuildArgs(): string[] {
    const proxy = new Set<string>(PROXY_ARG_NAMES);
    return [...this.buildArgs.keys()].filter((k) => !this.consumed.has(k) && !proxy.has(k));
  }
}
