// salt-autoscale reconcile, run on the master (as the master's user), on a schedule: converge the master's keys
// with the fleet when events were lost. Read (the master through the gate package, the groups and EC2 through
// AWS, the dead-letter queue), plan (src/reconcile/plan.ts, pure), show, confirm, apply: the master's changes
// in one batch under the ledger's lock, then the queue's deletions, each only once its message is handled.

import { mapConcurrent } from '../aws/pool.js';
import type { AwsCommandOptions } from '../aws/session.js';
import { loadConfig } from '../config/load.js';
import { checkRegion } from '../config/schema.js';
import { EXIT, UserError } from '../errors.js';
import { PythonMissing } from '../gate/python.js';
import { type Io, type Outcome, outcome, type StopSignal, type View } from '../io.js';
import { countChanges, formatRows, SYMBOL } from '../plan.js';
import { type DeadLetter, type DeadLetterQueue, openDeadLetterQueue } from '../reconcile/dead-letters.js';
import { MasterProblem, type MasterResult, masterRunner } from '../reconcile/master.js';
import { idsToCheck, planReconcile, type ReconcileItem, type ReconcilePlan } from '../reconcile/plan.js';
import { gateOpts } from './verify.js';

const DELETE_CONCURRENCY = 8;

export interface ReconcileOptions extends AwsCommandOptions {
  dryRun?: boolean;
  yes?: boolean;
  clearDenied?: boolean;
  /** The interpreter that runs the gate package (default python3), e.g. Salt's onedir python. */
  python?: string;
}

interface Reconciled {
  region: string;
  endpoint: string;
  pkiDir: string;
  plan: ReconcilePlan;
  dryRun: boolean;
  outcome: 'dry_run' | 'nothing_to_do' | 'declined' | 'applied';
  applied: number;
  failed: { item: ReconcileItem; error: string }[];
}

const changes = (plan: ReconcilePlan) => plan.items.filter((i) => i.master || i.letter);
const label = (i: ReconcileItem) => `${SYMBOL[i.change]} ${i.resource} ${i.name}`;

function summary(plan: ReconcilePlan): string {
  const c = countChanges(plan.items);
  const parts = [`${c.create} to create`, `${c.update} to update`, `${c.delete} to delete`];
  parts.push(`${c.unchanged} not managed here`);
  if (c.blocked) parts.push(`${c.blocked} blocked`);
  return `${parts.join(', ')}; ${plan.inStep} instance(s) in step`;
}

const planText = (r: Pick<Reconciled, 'plan' | 'region' | 'endpoint' | 'pkiDir'>, tty: boolean) =>
  `Reconcile the keys in ${r.pkiDir} with the groups in ${r.region} (${r.endpoint}):\n` +
  formatRows(
    r.plan.items.map((i) => ({ change: i.change, subject: [i.resource, i.name], detail: i.detail })),
    tty,
  ) +
  `${summary(r.plan)}.\n`;

const SAID: Record<Reconciled['outcome'], (r: Reconciled) => string> = {
  dry_run: () => 'Dry run: nothing was changed.',
  nothing_to_do: () => 'Everything is in step: nothing to change.',
  declined: () => 'Nothing was changed.',
  applied: (r) => `Applied ${r.applied} change(s)${r.failed.length ? `, ${r.failed.length} failed` : ''}.`,
};

const itemJson = (i: ReconcileItem) => ({
  change: i.change,
  resource: i.resource,
  name: i.name,
  state: i.state,
  group: i.group ?? null,
  detail: i.detail,
});

const reconcileView: View<Reconciled> = {
  text: (r) => `${SAID[r.outcome](r)}\n${r.failed.map((f) => `  failed: ${label(f.item)}: ${f.error}\n`).join('')}`,
  json: (r) => ({
    command: 'reconcile',
    region: r.region,
    pki_dir: r.pkiDir,
    dry_run: r.dryRun,
    outcome: r.outcome,
    plan: r.plan.items.map(itemJson),
    in_step: r.plan.inStep,
    applied: r.applied,
    failed: r.failed.map((f) => ({ ...itemJson(f.item), error: f.error })),
  }),
};

function masterError(err: unknown, python: string): unknown {
  if (err instanceof PythonMissing)
    return new UserError(
      `${python} was not found: reconcile runs the reactor's gate package with Python 3.10 or later; install python3 or give --python PATH`,
      EXIT.undetermined,
    );
  if (err instanceof MasterProblem)
    return new UserError(
      err.kind === 'store'
        ? `the reactor's cache or the pki dir cannot be used: ${err.message}. Run reconcile as the master's user (e.g. sudo -u salt).`
        : err.message,
      err.kind === 'store' ? EXIT.refused : EXIT.usage,
    );
  return err;
}

export async function run(io: Io, opts: ReconcileOptions): Promise<Outcome> {
  const { config } = await loadConfig(opts.config);
  const region = opts.region ?? config.aws.region;
  const wrongRegion = checkRegion(region);
  if (wrongRegion) throw new UserError(`--region ${JSON.stringify(region)} ${wrongRegion}`, EXIT.usage);
  const profile = opts.profile ?? config.aws.profile;
  const [{ createFleetClients }, { resolveTimeoutMs }, { withAwsErrors }] = await Promise.all([
    import('../aws/fleet.js'),
    import('../aws/transport.js'),
    import('../aws/session.js'),
  ]);
  const timeoutMs = resolveTimeoutMs(opts.awsTimeout, process.env);
  const aws = { region, profile, endpointUrl: opts.endpointUrl, timeoutMs };
  const fleet = await createFleetClients(aws);
  const python = opts.python ?? 'python3';
  const master = masterRunner(
    { ...gateOpts(config), autosign_timeout: config.salt.autosign_timeout },
    python,
    (config.reactor.cert_fetch_timeout_seconds + 60) * 1000,
    { region, endpoint_url: opts.endpointUrl, profile },
  );
  const groups = Object.fromEntries(Object.entries(config.groups).map(([name, g]) => [name, g.bootstrap]));
  const errorContext = { region, profile, endpointLabel: fleet.endpointLabel, timeoutMs };

  const onMaster = async <T>(fn: () => Promise<T>) => {
    try {
      return await fn();
    } catch (err) {
      throw masterError(err, python);
    }
  };

  return withAwsErrors(errorContext, async () => {
    const dlq = await openDeadLetterQueue(config, aws);
    const letters = dlq ? await dlq.receiveAll() : [];
    const [snapshot, held] = await Promise.all([
      onMaster(() => master.snapshot(letters.map((l) => ({ id: l.id, body: l.body, at: l.sentAt })))),
      fleet.groupInstances(Object.keys(groups)),
    ]);
    const ec2 = await fleet.describeInstances(idsToCheck(snapshot, held.instances));
    const plan = planReconcile(
      snapshot,
      { groups, existing: held.groups, instances: held.instances, ec2 },
      { clearDenied: opts.clearDenied },
    );
    const pkiDir = snapshot.pki_dir;
    const result: Reconciled = {
      region,
      endpoint: fleet.endpointLabel,
      pkiDir,
      plan,
      dryRun: Boolean(opts.dryRun),
      outcome: 'nothing_to_do',
      applied: 0,
      failed: [],
    };
    io.show({ text: (r: Reconciled, d) => planText(r, d.tty) }, result);
    const todo = changes(plan);
    if (opts.dryRun) {
      result.outcome = 'dry_run';
      return outcome(reconcileView, result, todo.length > 0 ? EXIT.negative : EXIT.ok);
    }
    if (todo.length === 0) return outcome(reconcileView, result);
    if (!opts.yes) {
      if (!io.interactive)
        throw new UserError(
          `reconcile would make ${todo.length} change(s) to the master's keys; without a terminal, pass --yes (as a schedule does) or --dry-run`,
          EXIT.refused,
        );
      if (!(await io.confirm(`Apply ${todo.length} change(s)?`))) {
        result.outcome = 'declined';
        return outcome(reconcileView, result, EXIT.negative);
      }
    }
    const byId = new Map(letters.map((l) => [l.id, l]));
    const done = await onMaster(() => applyAll(io, todo, master.apply, dlq, byId));
    result.outcome = 'applied';
    result.applied = done.done.length;
    result.failed = done.failed;
    return outcome(reconcileView, result, done.failed.length ? EXIT.refused : EXIT.ok);
  });
}

interface Applied {
  done: ReconcileItem[];
  failed: { item: ReconcileItem; error: string }[];
}

/** The master's actions in one batch (milliseconds of file operations), then the queue's deletions one by one:
 * a signal stops the deletions not yet started, and the report says what was done. */
async function applyAll(
  io: Io,
  todo: ReconcileItem[],
  applyOnMaster: (actions: any[]) => Promise<MasterResult[]>,
  dlq: DeadLetterQueue | undefined,
  letters: Map<string, DeadLetter>,
): Promise<Applied> {
  const out: Applied = { done: [], failed: [] };
  let stopped: StopSignal | undefined;
  await io.interruptible(async (signal) => {
    const onMaster = todo.filter((i) => i.master);
    const results = onMaster.length
      ? await applyOnMaster(
          onMaster.map((i) =>
            i.master!.action === 'message_handled'
              ? { ...i.master, body: letters.get(i.letter!)!.body, at: letters.get(i.letter!)!.sentAt }
              : i.master,
          ),
        )
      : [];
    const ok = new Set<ReconcileItem>();
    onMaster.forEach((item, n) => {
      const r = results[n];
      if (r?.ok) ok.add(item);
      else out.failed.push({ item, error: r?.error ?? 'no answer' });
    });
    const ready = todo.filter((item) => !item.master || ok.has(item));
    out.done.push(...ready.filter((item) => !(item.letter && dlq)));
    // The queue's deletions, a few at once; once a signal came, none starts (those in flight finish).
    await mapConcurrent(
      ready.filter((item) => item.letter && dlq),
      DELETE_CONCURRENCY,
      async (item) => {
        if (signal.aborted) return;
        try {
          await dlq!.remove(letters.get(item.letter!)!);
          out.done.push(item);
        } catch (err) {
          out.failed.push({ item, error: (err as Error).message });
        }
      },
    );
    stopped = signal.aborted ? (signal.reason as StopSignal) : undefined;
  });
  if (stopped) {
    const notDone = todo.filter((i) => !out.done.includes(i) && !out.failed.some((f) => f.item === i));
    throw new UserError(
      [
        `interrupted (${stopped}): ${out.done.length} of ${todo.length} change(s) were made, ${notDone.length} were not.`,
        ...out.done.map((i) => `  done:     ${label(i)}`),
        ...notDone.map((i) => `  not done: ${label(i)}`),
        'Run `salt-autoscale reconcile` again: it reads what exists and makes only the changes still missing.',
      ].join('\n'),
      stopped === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted,
    );
  }
  return out;
}
