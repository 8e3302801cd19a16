// The one I/O layer. src/cli.ts builds it once per run and hands it to the command: where text and JSON go,
// whether questions may be asked, the prompter (the only way to ask anything), and the interrupt signal that
// apply watches. Commands return an Outcome (a typed result and the view that shows it); `emit` is the one
// place that turns it into text or JSON. No command writes to process.stdout or reads process.stdin itself,
// so the tests run every command in-process through this layer with captured streams.
import { EXIT } from './errors.js';
import type { Prompter } from './prompts.js';

type Stream<T> = T & { isTTY?: boolean };

/** What the process (or a test) gives the CLI to talk through. */
export interface Streams {
  stdin: Stream<NodeJS.ReadableStream>;
  stdout: Stream<NodeJS.WritableStream>;
  stderr: Stream<NodeJS.WritableStream>;
  /** Makes the prompter, once, at the first question (the terminal's loads inquirer; tests script one). */
  prompter?: () => Promise<Prompter>;
  /** Whether questions may be asked; default: stdin and stdout are terminals. */
  interactive?: boolean;
  /** Where SIGINT/SIGTERM come from; default: this process. */
  signals?: SignalSource;
}

export interface SignalSource {
  on(signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
  off(signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
}

/**
 * How one result type looks. `text` is for people; `json` is the --json document, a stable contract for
 * scripts: keys are snake_case (README, "JSON output"), values are data (states, names, ARNs), never prose
 * to parse, except the `hints`/`problems` lists meant to be shown as they are.
 */
export interface View<R> {
  text(result: R, display: Display): string;
  json?(result: R): unknown;
}

/** What a command hands back: its typed result, the view that shows it, and the exit code it decided. */
export interface Outcome<R = any> {
  result: R;
  view: View<R>;
  exitCode: number;
}

export const outcome = <R>(view: View<R>, result: R, exitCode: number = EXIT.ok): Outcome<R> => ({
  result,
  view,
  exitCode,
});

/** What a text view may adapt to. */
export interface Display {
  /** stdout is a terminal: aligned columns instead of one plain line per item. */
  tty: boolean;
}

export type ProgressMode = 'tty' | 'lines' | 'quiet';

/** Why apply stopped early: the signal the user sent. */
export type StopSignal = 'SIGINT' | 'SIGTERM';

export interface Io {
  /** --json: stdout carries exactly one JSON document, and nothing else. */
  readonly json: boolean;
  /** stdout is a terminal showing text: aligned tables, a live progress line. */
  readonly tty: boolean;
  /** Questions may be asked: a terminal on both ends and no --json. */
  readonly interactive: boolean;
  readonly stdin: Stream<NodeJS.ReadableStream>;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** How apply reports progress: a live line on a terminal, a line per change otherwise, nothing for --json. */
  readonly progressMode: ProgressMode;
  /** Text for people on stdout; dropped with --json. */
  say(text: string): void;
  /** Something shown before the command ends (a plan before its confirmation, a diff): text mode only. */
  show<R>(view: View<R>, value: R): void;
  /** `warning: …` on stderr, in every mode. */
  warn(text: string): void;
  /** Shows a command's outcome: its view's JSON with --json, else its text. */
  emit(o: Outcome): void;
  prompter(): Promise<Prompter>;
  /** A [y/N] question through the prompter. Ctrl-C ends the run with exit 130, like any prompt. */
  confirm(message: string): Promise<boolean>;
  /**
   * Runs `fn` with a signal that aborts on SIGINT/SIGTERM, instead of the process dying mid-way: apply stops
   * starting calls, lets those in flight finish, and reports what was done. Outside, signals behave as usual.
   */
  interruptible<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T>;
}

export function createIo(streams: Streams, options: { json?: boolean } = {}): Io {
  const json = Boolean(options.json);
  const tty = Boolean(streams.stdout.isTTY) && !json;
  const terminal = streams.interactive ?? Boolean(streams.stdin.isTTY && streams.stdout.isTTY);
  const interactive = terminal && !json;
  const signals = streams.signals ?? process;
  let prompter: Promise<Prompter> | undefined;
  const say = (text: string) => {
    if (!json && text) streams.stdout.write(text);
  };
  const io: Io = {
    json,
    tty,
    interactive,
    stdin: streams.stdin,
    stdout: streams.stdout,
    stderr: streams.stderr,
    progressMode: json ? 'quiet' : tty ? 'tty' : 'lines',
    say,
    show: (view, value) => say(view.text(value, { tty })),
    warn: (text) => {
      streams.stderr.write(`warning: ${text}\n`);
    },
    emit(o) {
      if (json && o.view.json) streams.stdout.write(`${JSON.stringify(o.view.json(o.result), null, 2)}\n`);
      else streams.stdout.write(o.view.text(o.result, { tty }));
    },
    prompter() {
      if (!interactive) return Promise.reject(new Error('internal: a question asked without a terminal'));
      if (!streams.prompter) return Promise.reject(new Error('internal: no prompter'));
      prompter ??= streams.prompter();
      return prompter;
    },
    async confirm(message) {
      const p = await io.prompter();
      return p.confirm({ name: 'confirm', message, default: false });
    },
    async interruptible(fn) {
      const controller = new AbortController();
      const release = () => {
        signals.off('SIGINT', onInt);
        signals.off('SIGTERM', onTerm);
      };
      // The first signal asks for a clean stop; a second one meets the default handler and ends the process.
      const stop = (signal: StopSignal) => () => {
        release();
        controller.abort(signal);
      };
      const onInt = stop('SIGINT');
      const onTerm = stop('SIGTERM');
      signals.on('SIGINT', onInt);
      signals.on('SIGTERM', onTerm);
      try {
        return await fn(controller.signal);
      } finally {
        release();
      }
    },
  };
  return io;
}
