// Runs the built CLI as a user would (node bin/salt-autoscale.js ...), for the verify tests.
import { spawn } from 'node:child_process';

export interface BinResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runBin(args: string[], env: Record<string, string> = {}, input = ''): Promise<BinResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/salt-autoscale.js', ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => { /* the CLI may exit before reading stdin */ });
    child.stdin.end(input);
  });
}
