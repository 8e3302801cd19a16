// The master's side of reconcile, done by the reactor's own package (reactor/salt_autoscale_gate/reconcile_cli.py):
// one Python process reads the snapshot, one performs the plan's master actions under the ledger's lock. So
// stubs, key removals and ledger entries are written by the code the reactor uses, never twice.
import { spawn } from 'node:child_process';
import { gateSourceDir } from '../render/gate-files.js';
import type { MasterAction, MasterSnapshot } from './plan.js';

export interface DeadLetterInput {
  id: string;
  body: string;
  /** Epoch seconds: when SNS put it in the queue. */
  at: number;
}

export interface MasterResult {
  ok: boolean;
  state: string;
  error?: string;
}

/** The package answered with a problem of its own (settings, an unusable cache or pki dir). */
export class MasterProblem extends Error {
  constructor(
    message: string,
    readonly kind: string,
  ) {
    super(message);
  }
}

/** The interpreter could not be started. */
export class MasterPythonMissing extends Error {}

const BOOT = 'import sys; sys.path.insert(0, sys.argv[1]); from salt_autoscale_gate.reconcile_cli import main; main()';

export interface MasterRunner {
  snapshot(dlq: DeadLetterInput[]): Promise<MasterSnapshot & { pki_dir: string }>;
  apply(actions: (MasterAction & Partial<DeadLetterInput>)[]): Promise<MasterResult[]>;
}

export function masterRunner(opts: Record<string, unknown>, python: string, timeoutMs: number): MasterRunner {
  const run = (job: Record<string, unknown>) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      // -E: PYTHONPATH cannot swap the package's modules (as verify runs the gate).
      const child = spawn(python, ['-E', '-c', BOOT, gateSourceDir()], { stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.stdout.on('data', (b) => out.push(b));
      child.stderr.on('data', (b) => err.push(b));
      child.on('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(e.code === 'ENOENT' || e.code === 'EACCES' ? new MasterPythonMissing(`${python}: ${e.code}`) : e);
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        let answer: Record<string, unknown>;
        try {
          answer = JSON.parse(Buffer.concat(out).toString('utf8'));
        } catch {
          reject(
            new Error(`${python} ran reconcile_cli but exited ${code}: ${Buffer.concat(err).toString('utf8').trim()}`),
          );
          return;
        }
        if (typeof answer.error === 'string') reject(new MasterProblem(answer.error, String(answer.kind)));
        else resolve(answer);
      });
      child.stdin.on('error', () => {
        /* reported through close */
      });
      child.stdin.end(JSON.stringify({ ...job, opts }));
    });
  return {
    snapshot: async (dlq) => (await run({ op: 'snapshot', dlq })) as unknown as MasterSnapshot & { pki_dir: string },
    apply: async (actions) => ((await run({ op: 'apply', actions })) as { results: MasterResult[] }).results,
  };
}
