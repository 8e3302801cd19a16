// Errors that the CLI maps to exit codes in one place (src/cli.ts). Anything else is a bug: exit 70.

export const EXIT = {
  ok: 0,
  /**
   * The command worked and the answer is "no": verify rejected the message, status found drift, a dry run
   * has changes pending, the user declined a confirmation.
   */
  negative: 1,
  /** Bad usage or bad input (config, flags, files). */
  usage: 2,
  /** A refused operation: an existing file that differs, a topic we do not manage, … */
  refused: 3,
  /** AWS said no (credentials, permissions, a missing group) or could not be reached. */
  aws: 4,
  /** verify cannot judge the message here (what it needs is not available on this machine). */
  undetermined: 5,
  /** The user interrupted (Ctrl-C, SIGINT). */
  interrupted: 130,
  /** Stopped by SIGTERM during apply (128 + 15, as a shell reports it). */
  terminated: 143,
  /** An unexpected error: a bug. */
  internal: 70,
} as const;

/** An error whose message is meant for the user as is, with the exit code to leave with. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.usage,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** A config file that failed to load or validate; its message already lists every problem. */
export class ConfigError extends UserError {
  constructor(message: string) {
    super(message, EXIT.usage);
    this.name = 'ConfigError';
  }
}
