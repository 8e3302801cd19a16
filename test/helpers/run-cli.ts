// Runs the built bin as a user would, and collects what it printed and its exit code.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
