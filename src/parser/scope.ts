import type { ArgInstruction, Instruction, KeyValue } from './types.js';

export interface PlatformSpec {
  os: string;
  architecture: string;
  variant?: string;
}

export interface PredefinedArgsOptions {
  targetPlatform: PlatformSpec;
  buildPlatform: PlatformSpec;
}

/** TARGETPLATFORM, TARGETOS, TARGETARCH, TARGETVARIANT, BUILDPLATFORM, BUILDOS, BUILDARCH, BUILDVARIANT. */
export function predefinedArgs(_opts: PredefinedArgsOptions): Map<string, string> {
  throw new Error('not implemented yet');
}

export interface ScopeOptions extends PredefinedArgsOptions {
  /** `--build-arg K=V` values. */
  buildArgs?: Record<string, string>;
}

/**
 * The ARG/ENV values one stage's instructions can see, stepped through in order. Construct with the
 * base image's ENV; call `apply(instruction)` after each instruction is dispatched.
 */
export class StageScope {
  lookup(_name: string): string | undefined {
    throw new Error('not implemented yet');
  }
  apply(_instruction: Instruction): void {
    throw new Error('not implemented yet');
  }
  /** ENV for the image config / RUN environment, in order. */
  env(): KeyValue[] {
    throw new Error('not implemented yet');
  }
  /** Declared ARGs with their values (for RUN env and cache keys). */
  args(): KeyValue[] {
    throw new Error('not implemented yet');
  }
}

/** Global (meta) ARGs, build-arg overrides and predefined args; makes StageScopes. */
export class BuildArgScope {
  constructor(_metaArgs: ArgInstruction[], _opts: ScopeOptions) {
    throw new Error('not implemented yet');
  }
  /** Lookup for FROM lines (global ARGs + predefined args, overridden by --build-arg). */
  meta(): (name: string) => string | undefined {
    throw new Error('not implemented yet');
  }
  /** A scope for a stage whose base image has this ENV. */
  stage(_baseEnv: KeyValue[]): StageScope {
    throw new Error('not implemented yet');
  }
  /** --build-arg keys no ARG consumed (BuildKit warns about them). */
  unusedBuildArgs(): string[] {
    throw new Error('not implemented yet');
  }
}
