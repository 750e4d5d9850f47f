import type { SourceRange } from '../errors.js';

/**
 * The parser's data model, in three layers (all plain JSON-serializable data):
 *  1. AST (`DockerfileAst`, `AstNode`): one node per instruction, keyword + raw args + flags + heredocs.
 *  2. Typed instructions (`Instruction`): one interface per keyword with the fields the solver needs.
 *  3. Stages (`Stage`): FROM + the instructions up to the next FROM.
 *
 * Design decision (matches BuildKit): instructions keep their RAW words, quotes and `$vars` included.
 * Variable expansion happens at dispatch time in the solver, with `expandWord`/`expandWords` and the
 * `BuildArgScope`, because the values a step sees come partly from the base image's config (its ENV),
 * which the parser cannot know. Fields documented as "raw" must be expanded by the solver for the
 * instructions BuildKit expands: ADD, COPY, ENV, EXPOSE, FROM, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR
 * (and ONBUILD's trigger when it runs). RUN/CMD/ENTRYPOINT/SHELL/HEALTHCHECK words are never expanded
 * by the builder (the shell in the container does it).
 */

export type { SourceRange } from '../errors.js';

/** A build check finding (BuildKit's linter): never an error unless `# check=error=true`. */
export interface Warning {
  /** BuildKit's check name, e.g. 'StageNameCasing', 'JSONArgsRecommended', 'MaintainerDeprecated',
   * 'LegacyKeyValueFormat', 'NoEmptyContinuation', 'DuplicateStageName', 'UndefinedVar',
   * 'FromAsCasing', 'ConsistentInstructionCasing', 'MultipleInstructionsDisallowed',
   * 'ReservedStageName', 'InvalidDefaultArgInFrom', 'UndefinedArgInFrom', 'WorkdirRelativePath',
   * 'FromPlatformFlagConstDisallowed', 'SecretsUsedInArgOrEnv', 'InvalidDefinitionDescription',
   * 'CopyIgnoredFile', 'RedundantTargetPlatform'. */
  code: string;
  message: string;
  range: SourceRange;
  /** BuildKit's documentation page for the check. */
  url?: string;
}

/** What every parser stage returns. */
export interface Result<T> {
  value: T;
  warnings: Warning[];
}

/** The escape character: backslash by default, backtick with `# escape=\``. */
export type EscapeToken = '\\' | '`';

/** A parser directive (`# syntax=`, `# escape=`, `# check=`) from the top of the file. */
export interface Directive {
  /** Lowercase name. */
  name: 'syntax' | 'escape' | 'check';
  value: string;
  range: SourceRange;
}

/** `# check=skip=A,B;error=true`. */
export interface CheckConfig {
  /** Names of skipped checks, or 'all'. */
  skip: string[] | 'all';
  /** Warnings become errors (the parse fails with the first one). */
  error: boolean;
}

/** A here-document attached to RUN/COPY/ADD (`<<EOF`, `<<-EOF`, `<<'EOF'`, `3<<EOF`). */
export interface Heredoc {
  /** The delimiter word, unquoted (`EOF`). */
  name: string;
  /** The body: every line up to (not including) the delimiter line, each ending with '\n'. With
   * `chomp`, leading tabs are already stripped (BuildKit strips them at parse time). */
  content: string;
  /** False when the delimiter was quoted: then the body is never variable-expanded. */
  expand: boolean;
  /** `<<-`: leading tabs stripped. */
  chomp: boolean;
  /** `3<<EOF` (RUN only): the file descriptor the body is fed to; absent means stdin (0). */
  fileDescriptor?: number;
}

/** A `--name[=value]` flag of an instruction, raw (not expanded). */
export interface AstFlag {
  /** Lowercase name without dashes. */
  name: string;
  /** null for a bare `--name`. */
  value: string | null;
  /** Original text, e.g. `--from=build`. */
  original: string;
}

/** One instruction as written: keyword, raw args, flags and heredocs, with its source range. */
export interface AstNode {
  /** Uppercase keyword, e.g. 'RUN' (Dockerfile keywords are case-insensitive). */
  keyword: string;
  /** The keyword exactly as written (for the ConsistentInstructionCasing check). */
  keywordAsWritten: string;
  /** Arguments after the flags, split as BuildKit's line parser for this keyword splits them:
   *  - exec form (`json: true`): the JSON array's strings;
   *  - RUN/CMD/ENTRYPOINT/SHELL/HEALTHCHECK shell form: one string, the command line;
   *  - ENV/LABEL: alternating key, value (raw values, quotes kept);
   *  - ARG: one `name[=default]` string per argument;
   *  - others: whitespace-separated words (quotes kept, not removed). */
  args: string[];
  /** The args text after the flags, continuation lines joined (escape + newline removed). */
  argsText: string;
  /** True when args came from a JSON array (exec form). */
  json: boolean;
  flags: AstFlag[];
  heredocs: Heredoc[];
  /** ONBUILD only: the trigger instruction. */
  next?: AstNode;
  /** Comment lines directly before the instruction (without `#`), for descriptions. */
  comments: string[];
  /** ENV/LABEL written in the legacy `KEY value` form (LegacyKeyValueFormat warning). */
  legacyKeyValue?: boolean;
  /** The logical line as BuildKit keeps it (its `Original`): from the keyword to the end, continuation
   * lines joined (escape char + newline removed, comment lines inside dropped), heredoc bodies not
   * included. `range` covers everything, heredoc bodies included. */
  original: string;
  range: SourceRange;
}

export interface DockerfileAst {
  directives: Directive[];
  escapeToken: EscapeToken;
  /** `# syntax=` value, if given. */
  syntax?: string;
  checks: CheckConfig;
  nodes: AstNode[];
}

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

export interface OnbuildInstruction extends InstructionBase {
  kind: 'ONBUILD';
  /** The trigger's raw text, e.g. `RUN echo hi` (what goes into the image config). */
  expression: string;
  /** The trigger, parsed. */
  trigger: Instruction;
}

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
