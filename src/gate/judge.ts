// Runs the reactor's own gate (reactor/salt_autoscale_gate, the Python package render installs beside the
// reactor) in judge-only mode: `python -E -c <boot> <dir>` reads one job on stdin and prints the Decision.
// verify and the reactor cannot disagree: this is the same code, not a twin.
import { spawn } from 'node:child_process';
import { gateSourceDir } from '../render/gate-files.js';

export type CheckResult = 'pass' | 'fail' | 'not_run';

export interface Check {
  name: string;
  result: CheckResult;
  reason: string | null;
  detail: string;
}

export interface GateAction {
  action: string;
  [key: string]: unknown;
}

/** What reactor/salt_autoscale_gate/judge_cli.py prints (snake_case, as the package writes it). */
export interface GateDecision {
  verdict: 'accepted' | 'rejected';
  reason: string | null;
  detail: string;
  remedy: string | null;
  outcome: string | null;
  message_id: string | null;
  topic_arn: string | null;
  facts: Record<string, unknown>;
  checks: Check[];
  actions: GateAction[];
  salt_reaction: Record<string, unknown>;
  at: number;
  cache: { dir: string | null; absent: boolean };
  backend: string | null;
  certificate_source: string | null;
  python: string;
}

export interface GateJob {
  opts: Record<string, unknown>;
  body: string;
  /** Epoch seconds to judge as of (verify --at), else now. */
  at?: number;
  cache: boolean;
  explain: boolean;
}

/** The interpreter could not be started (not installed, not executable). */
export class PythonMissing extends Error {}
/** The gate could not judge here at all (e.g. an unsafe cache dir, no crypto backend): its own message. */
export class GateProblem extends Error {
  constructor(
    message: string,
    readonly kind: 'config' | 'store',
  ) {
    super(message);
  }
}

const BOOT = 'import sys; sys.path.insert(0, sys.argv[1]); from salt_autoscale_gate.judge_cli import main; main()';

export function judgeWithGate(job: GateJob, python: string, timeoutMs: number): Promise<GateDecision> {
  return new Promise((resolve, reject) => {
    // -E: PYTHONPATH and friends cannot swap the gate's modules; SSL_CERT_FILE and the proxies still apply.
    const child = spawn(python, ['-E', '-c', BOOT, gateSourceDir()], { stdio: ['pipe', 'pipe', 'pipe'] });
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
      const text = Buffer.concat(out).toString('utf8');
      let answer: (GateDecision & { error?: undefined }) | { error: string; kind: 'config' | 'store' };
      try {
        answer = JSON.parse(text);
      } catch {
        reject(new Error(`${python} ran the gate but exited ${code}: ${Buffer.concat(err).toString('utf8').trim()}`));
        return;
      }
      if (answer.error !== undefined) reject(new GateProblem(answer.error, answer.kind));
      else resolve(answer);
    });
    child.stdin.on('error', () => {
      /* reported through close */
    });
    child.stdin.end(JSON.stringify(job));
  });
}
