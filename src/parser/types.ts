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
  /** Experimental checks asked for (`experimental=`): accepted; none is implemented. */
  experimental?: string[] | 'all';
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

export * from './instruction-types.js';
