// provision's and teardown's apply step: progress on the I/O layer's streams, and Ctrl-C/SIGTERM turned into
// a clean stop (no new call starts, those in flight finish) and a report of what was done and what was not.
// Every change is idempotent and the next run plans from what exists, so running again converges.
import type { AwsClients } from '../aws/api.js';
import { type ApplyResult, applyPlan } from '../aws/apply.js';
import { itemLabel, progressReporter } from '../aws/format.js';
import { actionsOf, type Plan, type PlanItem } from '../aws/plan.js';
import { EXIT, UserError } from '../errors.js';
import type { Io, StopSignal } from '../io.js';

/** Applies `plan`; when interrupted, throws the report (exit 130 for SIGINT, 143 for SIGTERM). */
export async function applyWithIo(io: Io, clients: AwsClients, plan: Plan, rerun: string): Promise<ApplyResult> {
  const actions = actionsOf(plan);
  const progress = progressReporter(actions.length, io.progressMode, io.stdout, io.stderr);
  let stopped: StopSignal | undefined;
  let result: ApplyResult;
  try {
    result = await io.interruptible(async (signal) => {
      const r = await applyPlan(clients, plan, { onStart: progress.start, onDone: progress.done, signal });
      stopped = signal.aborted ? (signal.reason as StopSignal) : undefined;
      return r;
    });
  } finally {
    progress.finish();
  }
  if (stopped) throw interruptedError(stopped, actions, result.done, rerun);
  return result;
}

function interruptedError(signal: StopSignal, actions: PlanItem[], done: PlanItem[], rerun: string): UserError {
  const notDone = actions.filter((a) => !done.includes(a));
  return new UserError(
    [
      `interrupted (${signal}): ${done.length} of ${actions.length} change(s) were made, ${notDone.length} were not.`,
      ...done.map((i) => `  done:     ${itemLabel(i)}`),
      ...notDone.map((i) => `  not done: ${itemLabel(i)}`),
      `Run \`${rerun}\` again: it reads what exists and makes only the changes still missing.`,
    ].join('\n'),
    signal === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted,
  );
}
