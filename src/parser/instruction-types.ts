import type { SourceRange } from '../errors.js';
import type { CheckConfig, Directive, EscapeToken, Heredoc } from './types.js';

// ---------------------------------------------------------------------------------------------------
// Typed instructions. Every value is raw (see the module comment) unless said otherwise.

interface InstructionBase {
  range: SourceRange;
  /** Original text (see AstNode.original). */
  original: string;
  /** Comment lines directly above. */
  comments: string[];
}

/** Shell form (`RUN echo hi`) or exec form (`RUN ["echo","hi"]`). */
export type CommandForm = { form: 'shell'; command: string } | { form: 'exec'; args: string[] };

export interface FromInstruction extends InstructionBase {
  kind: 'FROM';
  /** Raw image word, e.g. `alpine:$VER` or a stage name or `scratch`. Expand with the meta scope. */
  image: string;
  /** `AS name`, lowercased (BuildKit lowercases stage names). */
  stageName?: string;
  /** Raw `--platform` value. */
  platform?: string;
}

export type MountType = 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';
export type CacheSharing = 'shared' | 'private' | 'locked';

/** A parsed `RUN --mount=...` spec. String values are raw (expanded only when a lookup is given to
 * `parseMount`). Defaults are applied as BuildKit does (see parseMount). */
export interface RunMount {
  type: MountType;
  /** `from=`: a stage name, an image, or absent (the build context for bind, scratch for cache). */
  from?: string;
  /** `source=`/`src=`. */
  source?: string;
  /** `target=`/`dst=`/`destination=`. Secrets default to /run/secrets/<id>, ssh to the agent socket. */
  target?: string;
  readOnly: boolean;
  /** secret/ssh: `required`. */
  required: boolean;
  /** cache: `sharing=`; default 'shared'. */
  sharing?: CacheSharing;
  /** cache/secret/ssh: `id=`. */
  id?: string;
  uid?: number;
  gid?: number;
  /** `mode=` (octal in the Dockerfile), as a number. */
  mode?: number;
  /** tmpfs: `size=` in bytes. */
  size?: number;
  /** secret: `env=`: expose the secret as this env variable. */
  env?: string;
  /** The spec as written. */
  original: string;
}

export type NetworkMode = 'default' | 'none' | 'host';
export type SecurityMode = 'sandbox' | 'insecure';

export type RunInstruction = InstructionBase &
  CommandForm & {
    kind: 'RUN';
    heredocs: Heredoc[];
    mounts: RunMount[];
    network?: NetworkMode;
    security?: SecurityMode;
  };

export type CmdInstruction = InstructionBase & CommandForm & { kind: 'CMD' };
export type EntrypointInstruction = InstructionBase & CommandForm & { kind: 'ENTRYPOINT' };

export interface ShellInstruction extends InstructionBase {
  kind: 'SHELL';
  /** Always exec form. */
  args: string[];
}

/** A key/value pair from ENV or LABEL: raw key and value (quotes kept; expansion removes them). */
export interface KeyValue {
  key: string;
  value: string;
}

export interface EnvInstruction extends InstructionBase {
  kind: 'ENV';
  pairs: KeyValue[];
}

export interface LabelInstruction extends InstructionBase {
  kind: 'LABEL';
  pairs: KeyValue[];
}

export interface ArgDeclaration {
  name: string;
  /** Raw default; absent for `ARG name`. */
  default?: string;
}

export interface ArgInstruction extends InstructionBase {
  kind: 'ARG';
  args: ArgDeclaration[];
}

export interface MaintainerInstruction extends InstructionBase {
  kind: 'MAINTAINER';
  name: string;
}

export interface ExposeInstruction extends InstructionBase {
  kind: 'EXPOSE';
  /** Raw words, e.g. `80/tcp`, `$PORT`. */
  ports: string[];
}

/** COPY and ADD sources/destination: raw words; heredocs replace sources named `<<EOF`. */
interface CopyLike extends InstructionBase {
  /** Raw source words (after JSON decoding in exec form). */
  sources: string[];
  /** Raw destination word. */
  dest: string;
  /** True when written as a JSON array. */
  json: boolean;
  /** Heredocs used as source files (their `name` is the file name). */
  heredocs: Heredoc[];
  chown?: string;
  chmod?: string;
  link: boolean;
  /** `--exclude` patterns (repeatable). */
  exclude: string[];
}

export interface CopyInstruction extends CopyLike {
  kind: 'COPY';
  /** `--from`: stage name or index or image. */
  from?: string;
  parents: boolean;
}

export interface AddInstruction extends CopyLike {
  kind: 'ADD';
  /** `--checksum=sha256:...` for URL/git sources. */
  checksum?: string;
  /** `--keep-git-dir` (git sources). */
  keepGitDir: boolean;
  /** `--unpack` (true/false) if given. */
  unpack?: boolean;
}

export interface VolumeInstruction extends InstructionBase {
  kind: 'VOLUME';
  paths: string[];
}

export interface UserInstruction extends InstructionBase {
  kind: 'USER';
  /** Raw `user[:group]`. */
  user: string;
}

export interface WorkdirInstruction extends InstructionBase {
  kind: 'WORKDIR';
  path: string;
}

export interface StopSignalInstruction extends InstructionBase {
  kind: 'STOPSIGNAL';
  signal: string;
}

/** HEALTHCHECK: durations in MILLISECONDS (fractional when the Dockerfile says e.g. `1500us`; the
 * image config wants nanoseconds: multiply by 1e6). BuildKit parses them at parse time; absent = not set. */
export type HealthcheckInstruction = InstructionBase & {
  kind: 'HEALTHCHECK';
} & (
    | { test: 'NONE' }
    | (CommandForm & {
        test: 'CMD';
        /** The image-config form: ['CMD-SHELL', cmd] or ['CMD', ...args]. */
        testArgs: string[];
        interval?: number;
        timeout?: number;
        startPeriod?: number;
        startInterval?: number;
        retries?: number;
      })
  );

export type OnbuildInstruction = InstructionBase & {
  kind: 'ONBUILD';
  /** The trigger's raw text, e.g. `RUN echo hi` (what goes into the image config). */
  expression: string;
} & (
    | {
        /** The trigger, parsed. */
        trigger: Instruction;
      }
    | {
        /**
         * Why the trigger does not parse (`ONBUILD FOO bar`): BuildKit's parseOnBuild checks only the
         * trigger's first word, so the image builds and the error is met where the trigger fires.
         */
        triggerError: string;
      }
  );

export type Instruction =
  | FromInstruction
  | RunInstruction
  | CmdInstruction
  | EntrypointInstruction
  | ShellInstruction
  | EnvInstruction
  | LabelInstruction
  | ArgInstruction
  | MaintainerInstruction
  | ExposeInstruction
  | CopyInstruction
  | AddInstruction
  | VolumeInstruction
  | UserInstruction
  | WorkdirInstruction
  | StopSignalInstruction
  | HealthcheckInstruction
  | OnbuildInstruction;

export type InstructionKind = Instruction['kind'];

/** FROM and everything up to the next FROM. */
export interface Stage {
  /** 0-based position in the file. */
  index: number;
  /** `AS name`, lowercased; absent for unnamed stages. */
  name?: string;
  /** Raw base image word (expand with `BuildArgScope.meta()`); may name an earlier stage. */
  base: string;
  /** Raw `--platform`. */
  platform?: string;
  from: FromInstruction;
  /** The instructions after FROM (FROM itself not included). */
  instructions: Instruction[];
  /** Comment lines above FROM (BuildKit uses them as the stage description). */
  comments: string[];
}

export interface StagesResult {
  stages: Stage[];
  /** ARGs before the first FROM: global, visible to FROM lines and to stages that redeclare them. */
  metaArgs: ArgInstruction[];
  directives: Directive[];
  escapeToken: EscapeToken;
  checks: CheckConfig;
}

export interface ParseOptions {
  /** Override the escape token (normally taken from the `# escape=` directive). */
  escapeToken?: EscapeToken;
  /** Override the `# check=` directive (e.g. from a `BUILDKIT_DOCKERFILE_CHECK` build arg). */
  checks?: Partial<CheckConfig>;
}
