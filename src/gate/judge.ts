// Runs the reactor's own gate (reactor/salt_autoscale_gate, the Python package render installs beside the
// reactor) in judge-only mode: `python -E -c <boot> <dir>` reads one job on stdin and prints the Decision.
// verify and the reactor cannot disagree: this is the same code, not a twin.
import { runPackageEntry } from './python.js';

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

/** The gate could not judge here at all (e.g. an unsafe cache dir, no crypto backend): its own message. */
export class GateProblem extends Error {
  constructor(
    message: string,
    readonly kind: 'config' | 'store',
  ) {
    super(message);
  }
}

export async function judgeWithGate(job: GateJob, python: string, timeoutMs: number): Promise<GateDecision> {
  const answer = await runPackageEntry('judge_cli', 'the gate', job, python, timeoutMs);
  if (typeof answer.error === 'string') throw new GateProblem(answer.error, answer.kind as 'config' | 'store');
  return answer as unknown as GateDecision;
}
