// salt-autoscale teardown: undo the AWS side. Removes the groups' notifications to the topic, the webhook
// subscription and, only when salt-autoscale created it (the managed-by tag), the topic itself.

import { type ApplyResult, applyWithProgress } from '../aws/apply.js';
import { confirm, isInteractive } from '../aws/confirm.js';
import { attentionNotes, formatPlan, planJson, summarize } from '../aws/format.js';
import { actionsOf, planTeardown } from '../aws/plan.js';
import { readState } from '../aws/read.js';
import { type AwsCommandOptions, openSession, withAwsErrors } from '../aws/session.js';
import { EXIT, UserError } from '../errors.js';

export interface TeardownOptions extends AwsCommandOptions {
  dryRun?: boolean;
  yes?: boolean;
  keepTopic?: boolean;
}

export async function run(opts: TeardownOptions): Promise<number> {
  const session = await openSession(opts);
  return withAwsErrors(session.errorContext, async () => {
    const tty = Boolean(process.stdout.isTTY) && !opts.json;
    const say = (text: string) => {
      if (!opts.json) process.stdout.write(text);
    };
    const current = await readState(session.clients, session.desired);
    const plan = planTeardown(current, session.desired, { keepTopic: opts.keepTopic });
    say(
      `Teardown plan for topic ${session.desired.topicName} in ${plan.region} (${session.clients.endpointLabel}):\n${formatPlan(plan, tty)}${summarize(plan)}.\n`,
    );

    const unmanaged = plan.items.find((i) => i.change === 'blocked' && i.resource === 'topic');
    if (unmanaged) {
      throw new UserError(
        `refusing to tear down: topic ${plan.topicArn} is not tagged managed-by=salt-autoscale, so salt-autoscale did not create it and will not delete it. ` +
          'Nothing was changed. Run `salt-autoscale teardown --keep-topic` to remove only the notifications and the subscription.',
        EXIT.refused,
      );
    }
    const actions = actionsOf(plan);
    let applied: ApplyResult | undefined;
    if (actions.length === 0) {
      say('Nothing to remove.\n');
    } else if (opts.dryRun) {
      say('Dry run: nothing was changed.\n');
    } else {
      if (!opts.yes) {
        if (opts.json || !isInteractive()) {
          throw new UserError(
            `teardown would delete ${actions.length} AWS resource(s) and there is no terminal to ask on; pass --yes to confirm. Nothing was changed.`,
            EXIT.refused,
          );
        }
        if (!(await confirm(`Delete ${actions.length} AWS resource(s)?`))) {
          say('Nothing was changed.\n');
          return EXIT.negative;
        }
      }
      applied = await applyWithProgress(session.clients, plan, opts.json ? 'quiet' : tty ? 'tty' : 'lines');
      say(`Removed ${applied.done.length} resource(s).\n`);
    }
    const notes = attentionNotes(plan);
    if (opts.json) {
      const out = {
        command: 'teardown',
        region: plan.region,
        dry_run: Boolean(opts.dryRun),
        topic_arn: plan.topicArn ?? null,
        plan: planJson(plan),
        applied: applied?.done.length ?? 0,
        hints: notes,
      };
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    } else {
      for (const n of notes) say(`\n${n}\n`);
    }
    return EXIT.ok;
  });
}
