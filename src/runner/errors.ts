import { type ErrorOptions, TsbuildError } from '../errors.js';

/** Errors of the runner that are not a failed command: no runtime, bad user, mount escapes… */
export class RunnerError extends TsbuildError {}

export interface RunStepErrorDetails {
  command: string[];
  exitCode: number;
  signal?: string;
  oomKilled?: boolean;
  outputTail: string[];
}

/**
 * A RUN step that exited non-zero. The message names the command, the exit code and shows the tail
 * of its output; the solver adds the Dockerfile line (`locate`).
 */
export class RunStepError extends TsbuildError {
  readonly command: string[];
  readonly exitCode: number;
  readonly signal?: string;
  readonly oomKilled: boolean;
  readonly outputTail: string[];

  constructor(details: RunStepErrorDetails, options: ErrorOptions = {}) {
    const code = details.oomKilled ? 'RUN_OOM_KILLED' : 'RUN_FAILED';
    super(code, runStepMessage(details), {
      hint: options.hint ?? (details.oomKilled ? 'raise --memory or lower the step’s memory use' : undefined),
      cause: options.cause,
    });
    this.command = details.command;
    this.exitCode = details.exitCode;
    if (details.signal !== undefined) this.signal = details.signal;
    this.oomKilled = details.oomKilled ?? false;
    this.outputTail = details.outputTail;
  }
}

export function runStepMessage(d: RunStepErrorDetails): string {
  const cmd = d.command.join(' ');
  // BuildKit's wording, so scripts that grep for it keep working; an exit code above 128 may be a
  // plain `exit 130`, so only an OOM kill (known from the cgroup) is named.
  const how = `did not complete successfully: exit code: ${d.exitCode}${d.oomKilled ? ' (killed: out of memory)' : ''}`;
  const tail = d.outputTail.length ? `\n${d.outputTail.map((l) => `  > ${l}`).join('\n')}` : '';
  return `process "${cmd}" ${how}${tail}`;
}
