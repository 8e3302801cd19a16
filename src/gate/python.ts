// Runs one entry of the reactor's own package (reactor/salt_autoscale_gate) with a Python: `python -E -c <boot>
// <dir>` reads one JSON job on stdin and prints one JSON answer. verify (judge_cli) and reconcile
// (reconcile_cli) both go through here, so the interpreter handling and its errors are one piece of code.
import { spawn } from 'node:child_process';
import { gateSourceDir } from '../render/gate-files.js';

/** The interpreter could not be started (not installed, not executable). */
export class PythonMissing extends Error {}

export type PackageEntry = 'judge_cli' | 'reconcile_cli';

/**
 * The parsed answer, which may be the package's own `{error, kind}`: the caller decides what that means.
 * `label` names the entry in the error for an answer that is not JSON.
 */
export function runPackageEntry(
  entry: PackageEntry,
  label: string,
  job: unknown,
  python: string,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  const boot = `import sys; sys.path.insert(0, sys.argv[1]); from salt_autoscale_gate.${entry} import main; main()`;
  return new Promise((resolve, reject) => {
    // -E: PYTHONPATH and friends cannot swap the package's modules; SSL_CERT_FILE and the proxies still apply.
    const child = spawn(python, ['-E', '-c', boot, gateSourceDir()], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (b) => out.push(b));
    child.stderr.on('data', (b) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(e.code === 'ENOENT' || e.code === 'EACCES' ? new PythonMissing(`${python}: ${e.code}`) : e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(Buffer.concat(out).toString('utf8')));
      } catch {
        reject(new Error(`${python} ran ${label} but exited ${code}: ${Buffer.concat(err).toString('utf8').trim()}`));
      }
    });
    child.stdin.on('error', () => {
      /* reported through close */
    });
    child.stdin.end(JSON.stringify(job));
  });
}
