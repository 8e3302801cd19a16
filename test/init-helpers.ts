// Shared by the init end-to-end tests: a scratch folder per test, the built bin spawned in it with a clean
// AWS environment, and a pseudo-terminal for the interactive runs (python3's pty module relays our keys
// and the child's screen, as a terminal would).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { runCli, runInProcess } from './helpers/run-cli.js';
import { requireTool } from './helpers/tools.js';

export const BIN = resolve('bin/salt-autoscale.js');
export const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

/** A fresh folder for each test of the calling file, removed afterwards; call `dir()` inside a test. */
export function scratchFolders(): () => string {
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'init-e2e-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return () => dir;
}

/** An environment with no AWS settings of the developer's leaking in, and no instance metadata to wait for. */
export function cleanEnv(dir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v;
  return {
    ...env,
    HOME: dir,
    AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    NO_COLOR: '1',
    ...extra,
  };
}

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process (through the same entry and I/O layer) in `dir`; `spawn` runs the built bin instead. */
export function run(
  dir: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; nodeArgs?: string[]; spawn?: boolean } = {},
): Promise<Result> {
  const env = options.env ?? cleanEnv(dir);
  if (options.spawn || options.nodeArgs)
    return runCli(args, { cwd: dir, env, wholeEnv: true, nodeArgs: options.nodeArgs });
  return runInProcess(args, { cwd: dir, env, wholeEnv: true });
}

// python3 forks the child onto a pty (120 columns) and relays our keys and its screen.
const PTY_RELAY = `
import os, pty, sys, select, fcntl, termios, struct
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', 40, 120, 0, 0))
stdin_open = True
while True:
    r, _, _ = select.select([fd] + ([0] if stdin_open else []), [], [])
    if fd in r:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        os.write(1, data)
    if 0 in r:
        data = os.read(0, 4096)
        if data:
            os.write(fd, data)
        else:
            stdin_open = False
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
`;

export const KEY = { enter: '\r', down: '\x1b[B', space: ' ', ctrlC: '\x03', clearLine: '\x15' };

export class Terminal {
  private screen = '';
  private seen = 0;
  private readonly exited: Promise<number | null>;

  constructor(dir: string, args: string[], env: NodeJS.ProcessEnv) {
    requireTool('python3');
    const child = spawn('python3', ['-c', PTY_RELAY, process.execPath, BIN, ...args], { cwd: dir, env });
    this.child = child;
    child.stdout.on('data', (d) => (this.screen += d));
    child.stderr.on('data', (d) => (this.screen += d));
    this.exited = new Promise((done) => child.on('close', done));
  }
  private readonly child: ReturnType<typeof spawn>;

  /** What the user saw, without colours and cursor movements. */
  get text(): string {
    return this.screen.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  }

  /** Waits until `pattern` shows up after what earlier waits consumed. */
  async waitFor(pattern: RegExp, timeoutMs = 10_000): Promise<void> {
    const start = Date.now();
    for (;;) {
      const rest = this.text.slice(this.seen);
      const m = pattern.exec(rest);
      if (m) {
        this.seen += m.index + m[0].length;
        return;
      }
      if (Date.now() - start > timeoutMs)
        throw new Error(`timed out waiting for ${pattern}; the screen so far:\n${this.text}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Answers the question matching `prompt` with `keys`. */
  async answer(prompt: RegExp, keys: string): Promise<void> {
    await this.waitFor(prompt);
    this.child.stdin!.write(keys);
  }

  async exitCode(): Promise<number | null> {
    this.child.stdin!.end();
    return this.exited;
  }
}
