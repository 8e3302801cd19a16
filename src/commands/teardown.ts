// salt-autoscale teardown: undo the AWS side. Removes the groups' notifications to the topic, the webhook
// subscription and, only when salt-autoscale created it (the managed-by tag), the topic itself.

import { attentionNotes, planJson, planView, withConfigFlag } from '../aws/format.js';
import { actionsOf, type Plan, planTeardown } from '../aws/plan.js';
import { readState } from '../aws/read.js';
import { type AwsCommandOptions, openSession, withAwsErrors } from '../aws/session.js';
import { EXIT, UserError } from '../errors.js';
import { type Io, type Outcome, outcome, type View } from '../io.js';
import { applyWithIo } from './apply-with-io.js';

export interface TeardownOptions extends AwsCommandOptions {
  dryRun?: boolean;
  yes?: boolean;
  keepTopic?: boolean;
}

/** What teardown removed (or, for a dry run, would remove). */
interface TornDown {
  plan: Plan;
  dryRun: boolean;
  outcome: 'nothing_to_do' | 'dry_run' | 'declined' | 'applied';
  applied: number;
  hints: string[];
}

const SAID: Record<TornDown['outcome'], (r: TornDown) => string> = {
  nothing_to_do: () => 'Nothing to remove.',
  dry_run: () => 'Dry run: nothing was changed.',
  declined: () => 'Nothing was changed.',
  applied: (r) => `Removed ${r.applied} resource(s).`,
};

const teardownView: View<TornDown> = {
  text: (r) => `${SAID[r.outcome](r)}\n${r.hints.map((h) => `\n${h}\n`).join('')}`,
  json: (r) => ({
    command: 'teardown',
    region: r.plan.region,
    dry_run: r.dryRun,
    outcome: r.outcome,
    topic_arn: r.plan.topicArn ?? null,
    plan: planJson(r.plan),
    applied: r.applied,
    hints: r.hints,
  }),
};

export async function run(io: Io, opts: TeardownOptions): Promise<Outcome> {
  const session = await openSession(opts);
  return withAwsErrors(session.errorContext, async () => {
    const current = await readState(session.clients, session.desired);
    const plan = planTeardown(current, session.desired, { keepTopic: opts.keepTopic });
    io.show(planView, {
      heading: `Teardown plan for topic ${session.desired.topicName} in ${plan.region} (${session.clients.endpointLabel})`,
      plan,
    });

    const unmanaged = plan.items.find((i) => i.change === 'blocked' && i.resource === 'topic');
    if (unmanaged) {
      throw new UserError(
        `refusing to tear down: topic ${plan.topicArn} is not tagged managed-by=salt-autoscale, so salt-autoscale did not create it and will not delete it. ` +
          'Nothing was changed. Run `salt-autoscale teardown --keep-topic` to remove only the notifications and the subscription.',
        EXIT.refused,
      );
    }
    const actions = actionsOf(plan);
    const result: TornDown = {
      plan,
      dryRun: Boolean(opts.dryRun),
      outcome: 'nothing_to_do',
      applied: 0,
      hints: attentionNotes(plan),
    };
    if (actions.length === 0) return outcome(teardownView, result);
    if (opts.dryRun) {
      result.outcome = 'dry_run';
      // As `terraform plan -detailed-exitcode`: 1 when there is something to remove.
      return outcome(teardownView, result, EXIT.negative);
    }
    if (!opts.yes) {
      if (!io.interactive) {
        throw new UserError(
          `teardown would delete ${actions.length} AWS resource(s) and there is no terminal to ask on; pass --yes to confirm. Nothing was changed.`,
          EXIT.refused,
        );
      }
      if (!(await io.confirm(`Delete ${actions.length} AWS resource(s)?`))) {
        result.outcome = 'declined';
        result.hints = [];
        return outcome(teardownView, result, EXIT.negative);
      }
    }
    const rerun = withConfigFlag('salt-autoscale teardown', session.loaded.file);
    result.applied = (await applyWithIo(io, session.clients, plan, rerun)).done.length;
    result.outcome = 'applied';
    return outcome(teardownView, result);
  });
}
