// Calls test/helpers/reactor-harness.py: renders nothing itself; give it the rendered reactor file and opts.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { requireTool } from './tools.js';

export const HARNESS = fileURLToPath(new URL('./reactor-harness.py', import.meta.url));

export interface LogLine {
  level: string;
  logger: string;
  message: string;
}
export interface Delivery {
  body?: string;
  /** The body as Salt's webhook engine fires it: data {"headers", "body": bytes}. */
  engineBody?: string;
  /** The event's tag (default: the job's, else salt/netapi/hook/ec2/autoscale). */
  tag?: string;
  data?: unknown;
  /** Load this file instead of the job's reactor for this delivery. */
  reactor?: string;
  /** Seconds to wait before this delivery (the gate's lifecycle worker thread runs meanwhile). */
  sleep?: number;
  /** Let the lifecycle worker finish what is due now before the next delivery (as a running master would). */
  settle?: boolean;
  /** Files (absolute path → text) written just before this delivery, in the same process. */
  write?: Record<string, string>;
}
export interface DeliveryResult {
  reaction: Record<string, unknown> | null;
  error: string | null;
  optsUnchanged: boolean;
  /** Time to load the module and run() it, as Salt does per event. */
  seconds: number;
  /** Of which: executing the file as a fresh module (Salt's py renderer; no bytecode cache here). */
  loadSeconds: number;
  /** Of which: run(), the reactor's own decision and reaction. */
  runSeconds: number;
  logs: LogLine[];
  /** The client calls Salt's reactor would make of the reaction (test/helpers/salt_reactwrap.py). */
  saltCalls: SaltCall[];
  /** What Salt's reactor would refuse in the reaction (no function, a bad `args` form, a missing tgt). */
  saltErrors: string[];
}
export interface SaltCall {
  client: 'runner' | 'wheel' | 'local' | 'caller';
  fun: string;
  tgt?: string;
  arg: unknown[];
  kwarg: Record<string, unknown>;
}
export interface HarnessRun {
  backend: 'cryptography' | 'openssl';
  results: DeliveryResult[];
  saltSmtpCalls: { kwargs: Record<string, unknown>; optsKeys: string[] }[];
  elapsedSeconds: number;
}

export interface HarnessJob {
  reactor: string;
  opts: Record<string, unknown>;
  deliveries: Delivery[];
  blockCryptography?: boolean;
  fakeSaltSmtp?: boolean;
  /** Runner functions a fake salt.loader offers (e.g. none of cloud.*, as on Salt 3008). */
  saltRunners?: string[];
  tag?: string;
  /** settle after every delivery. */
  settle?: boolean;
  /** The master's log level: DEBUG by default, so tests see every line; a real master's default is WARNING. */
  logLevel?: 'DEBUG' | 'INFO' | 'WARNING';
}

/** One python3 process for the whole batch (each delivery still gets a fresh module, as in Salt). */
export function runHarness(job: HarnessJob, env: Record<string, string> = {}, python = 'python3'): Promise<HarnessRun> {
  if (python === 'python3') requireTool('python3');
  return new Promise((resolve, reject) => {
    const child = spawn(python, [HARNESS], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b) => out.push(b));
    child.stderr.on('data', (b) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      const stdout = Buffer.concat(out).toString('utf8');
      if (code !== 0) {
        reject(new Error(`reactor harness exited ${code}: ${Buffer.concat(err).toString('utf8')}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout) as HarnessRun);
      } catch {
        reject(new Error(`harness output: ${stdout.slice(0, 500)}`));
      }
    });
    child.stdin.end(JSON.stringify(job));
  });
}
