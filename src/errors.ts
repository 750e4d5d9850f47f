/**
 * The one error base of tsbuild. Every error a user can see carries a stable `code` (for tools and
 * tests), a message that says what went wrong, and where useful a `hint` that says what to do.
 * The CLI renders these without a stack trace unless `--debug` is given.
 */
export interface ErrorOptions {
  hint?: string;
  cause?: unknown;
}

export class TsbuildError extends Error {
  readonly code: string;
  readonly hint?: string;
  /** The Dockerfile line of the step it failed in (set by the solver), for the CLI's excerpt. */
  line?: number;
  /** That step's progress label, e.g. `[2/5] RUN make`. */
  step?: string;

  constructor(code: string, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    if (options.hint !== undefined) this.hint = options.hint;
  }

  /** Names the step it failed in; the first caller wins (the innermost step). */
  locate(line: number | undefined, step: string | undefined): void {
    if (this.line === undefined && line !== undefined) this.line = line;
    if (this.step === undefined && step !== undefined) this.step = step;
  }
}

/** A 1-based position in a source text; `column` counts UTF-16 code units like editors do. */
export interface Position {
  line: number;
  column: number;
}

/** A range in the Dockerfile: start inclusive, end inclusive of its last character. */
export interface SourceRange {
  start: Position;
  end: Position;
}

/**
 * The range of an error raised where the instruction is not known (a word expanded by the shell
 * lexer): the frontend replaces it, by identity, with the range of the instruction it dispatched.
 */
export const UNLOCATED: SourceRange = Object.freeze({
  start: Object.freeze({ line: 1, column: 1 }),
  end: Object.freeze({ line: 1, column: 1 }),
});

/** A Dockerfile that cannot be parsed or converted: always says where. */
export class DockerfileSyntaxError extends TsbuildError {
  readonly range: SourceRange;
  /** Build-check warnings found before the error, printed ahead of it (as BuildKit does). */
  warnings: { code: string; message: string; range: SourceRange; url?: string }[] = [];

  constructor(message: string, range: SourceRange, options: ErrorOptions = {}) {
    super('DOCKERFILE_SYNTAX', message, options);
    this.range = range;
  }
}

export function isTsbuildError(e: unknown): e is TsbuildError {
  return e instanceof TsbuildError;
}

/** The first line of an error's message: what a progress line shows (`#N ERROR: …`). */
export function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
}

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  EACCES: 'permission denied',
};

/** A system error as Go's syscall.Errno prints it (BuildKit's messages quote those words). */
export function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return (code && ERRNO_TEXT[code]) ?? code ?? (e instanceof Error ? e.message : String(e));
}
