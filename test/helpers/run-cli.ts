// The one CLI test harness: `runInProcess` runs the CLI through its I/O layer inside the test process (fast:
// use it for output and exit-code tests); `runCli` spawns the built bin as a user would, for the few smoke tests
// where the process boundary matters.
import { spawn } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Prompter } from '../../src/prompts.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/salt-autoscale.js', import.meta.url));
export const EXAMPLE = fileURLToPath(new URL('../../examples/salt-autoscale.yaml', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  /** Added to this process's environment, or the whole environment with `wholeEnv`. */
  env?: NodeJS.ProcessEnv;
  wholeEnv?: boolean;
  input?: string;
  nodeArgs?: string[];
}

export function runCli(args: string[], options: RunOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), BIN, ...args], {
      cwd: options.cwd ?? ROOT,
      env: options.wholeEnv ? options.env : { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => {
      /* the CLI may exit before reading its input */
    });
    child.stdin.end(options.input ?? '');
  });
}

const TRACE = fileURLToPath(new URL('./trace-imports.mjs', import.meta.url));

/** Runs the bin and returns every module URL the process resolved (see trace-imports.mjs), and the result. */
export async function runTracingImports(
  args: string[],
  options: RunOptions = {},
): Promise<CliResult & { imports: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'salt-autoscale-imports-'));
  try {
    const file = join(dir, 'imports.txt');
    writeFileSync(file, '');
    const env = { ...options.env, TRACE_IMPORTS_FILE: file };
    const res = await runCli(args, { ...options, env, nodeArgs: [...(options.nodeArgs ?? []), '--import', TRACE] });
    return { ...res, imports: readFileSync(file, 'utf8').split('\n').filter(Boolean) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- in-process: the same entry (src/cli.ts runCli: parsing, lazy command, the I/O layer, error mapping) ----

export interface InProcessOptions {
  cwd?: string;
  /** Added to this process's environment, or the whole environment with `wholeEnv` (the AWS SDK reads it). */
  env?: NodeJS.ProcessEnv;
  wholeEnv?: boolean;
  /** What standard input holds. */
  input?: string;
  /** Questions are answered by this prompter (the run is then interactive, as on a terminal). */
  prompter?: Prompter;
  /** stdout reports itself as a terminal (aligned tables, a live progress line). */
  tty?: boolean;
  /** Where SIGINT/SIGTERM come from: emit on it to interrupt the run. */
  signals?: EventEmitter;
  /** Called with each write to stdout, as it happens (to act at a precise moment of the run). */
  onStdout?: (text: string) => void;
}

/** A writable that keeps what was written. */
class Capture extends Writable {
  text = '';
  isTTY?: boolean;
  constructor(private readonly onText?: (text: string) => void) {
    super({ decodeStrings: false });
  }
  override write(chunk: unknown, ...rest: any[]): boolean {
    // Synchronous, unlike Writable's queue: the test sees each write at the moment the CLI makes it.
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString();
    this.text += text;
    this.onText?.(text);
    const cb = rest.find((r) => typeof r === 'function');
    cb?.();
    return true;
  }
}

/**
 * Runs the CLI inside the test process through the I/O layer, with captured streams: no bin start-up (~0.5 s a
 * run on a small machine). The spawned `runCli` above is for what needs the process boundary: the bin shim,
 * EPIPE, signals to a real process, the import trace, the packed tarball, a pseudo-terminal.
 */
export function runInProcess(args: string[], options: InProcessOptions = {}): Promise<CliResult & { code: number }> {
  // One run at a time: each sets the process's environment and working directory for its duration.
  const run = queue.then(() => runAlone(args, options));
  queue = run.catch(() => undefined);
  return run;
}

let queue: Promise<unknown> = Promise.resolve();

async function runAlone(args: string[], options: InProcessOptions): Promise<CliResult & { code: number }> {
  const { runCli: main } = await import('../../src/cli.js');
  const stdout = new Capture(options.onStdout);
  const stderr = new Capture();
  if (options.tty) stdout.isTTY = true;
  const savedEnv = process.env;
  const savedCwd = process.cwd();
  process.env = options.wholeEnv ? { ...options.env } : { ...process.env, NO_COLOR: '1', ...options.env };
  if (options.cwd) process.chdir(options.cwd);
  try {
    const code = await main(['node', 'salt-autoscale', ...args], {
      stdin: Readable.from([options.input ?? '']),
      stdout,
      stderr,
      interactive: options.prompter !== undefined,
      prompter: options.prompter ? async () => options.prompter as Prompter : undefined,
      signals: options.signals,
    });
    return { code, stdout: stdout.text, stderr: stderr.text };
  } finally {
    process.env = savedEnv;
    process.chdir(savedCwd);
  }
}
