// The master's side of reconcile, done by the reactor's own package (reactor/salt_autoscale_gate/reconcile_cli.py):
// one Python process reads the snapshot, one performs the plan's master actions under the ledger's lock. So
// stubs, key removals and ledger entries are written by the code the reactor uses, never twice.
import { runPackageEntry } from '../gate/python.js';
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

export interface MasterRunner {
  snapshot(dlq: DeadLetterInput[]): Promise<MasterSnapshot & { pki_dir: string }>;
  apply(actions: (MasterAction & Partial<DeadLetterInput>)[]): Promise<MasterResult[]>;
}

/** Where reconcile_cli.py's complete_lifecycle calls Auto Scaling: reconcile's own region, endpoint, profile. */
export interface MasterAws {
  region?: string;
  endpoint_url?: string;
  profile?: string;
}

export function masterRunner(
  opts: Record<string, unknown>,
  python: string,
  timeoutMs: number,
  aws: MasterAws = {},
): MasterRunner {
  const run = async (job: Record<string, unknown>) => {
    const answer = await runPackageEntry('reconcile_cli', 'reconcile_cli', { ...job, opts }, python, timeoutMs);
    if (typeof answer.error === 'string') throw new MasterProblem(answer.error, String(answer.kind));
    return answer;
  };
  return {
    snapshot: async (dlq) => (await run({ op: 'snapshot', dlq })) as unknown as MasterSnapshot & { pki_dir: string },
    apply: async (actions) => ((await run({ op: 'apply', actions, aws })) as { results: MasterResult[] }).results,
  };
}
