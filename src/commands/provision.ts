// salt-autoscale provision: read what exists, plan, print the plan, apply only the difference, and write the
// topic ARN back into the config so that `render` makes the reactor trust exactly that topic.

import { type ApplyResult, applyWithProgress } from '../aws/apply.js';
import { confirm, isInteractive } from '../aws/confirm.js';
import { attentionNotes, formatPlan, planJson, summarize, withConfigFlag } from '../aws/format.js';
import { actionsOf, PENDING_HINT, type Plan, planProvision, SUBSCRIBE_LATER_HINT } from '../aws/plan.js';
import { readState } from '../aws/read.js';
import { type AwsCommandOptions, type AwsSession, openSession, withAwsErrors } from '../aws/session.js';
import { writeTopicArn } from '../config/edit.js';
import { EXIT, UserError } from '../errors.js';

export interface ProvisionOptions extends AwsCommandOptions {
  dryRun?: boolean;
  yes?: boolean;
  resendConfirmation?: boolean;
}

export interface ProvisionResult {
  plan: Plan;
  applied?: ApplyResult;
  topicArn?: string;
  subscription: 'confirmed' | 'pending' | 'missing';
}

/** Read and plan; refuses (before any change) when a configured group does not exist. */
export async function planFor(session: AwsSession, opts: Pick<ProvisionOptions, 'resendConfirmation'>): Promise<Plan> {
  const current = await readState(session.clients, session.desired);
  return planProvision(current, session.desired, { resendConfirmation: opts.resendConfirmation });
}

function missingGroupsError(plan: Plan, session: AwsSession): UserError | undefined {
  const missing = plan.items.filter((i) => i.change === 'blocked' && i.resource === 'notifications').map((i) => i.name);
  if (missing.length === 0) return undefined;
  return new UserError(
    `no Auto Scaling group named ${missing.join(', ')} in ${plan.region}; nothing was changed.\n` +
      `Check the names under groups: in ${session.loaded.file}, the region (--region or aws.region) and that the credentials belong to the right account.`,
    EXIT.aws,
  );
}

function subscriptionAfter(plan: Plan): ProvisionResult['subscription'] {
  const item = plan.items.find((i) => i.resource === 'subscription');
  if (!item || item.change === 'blocked') return 'missing';
  if (item.action || item.detail.startsWith('pending')) return 'pending';
  return 'confirmed';
}

export async function run(opts: ProvisionOptions): Promise<number> {
  const session = await openSession(opts);
  return withAwsErrors(session.errorContext, () => provisionCommand(session, opts));
}

async function provisionCommand(session: AwsSession, opts: ProvisionOptions): Promise<number> {
  const tty = Boolean(process.stdout.isTTY) && !opts.json;
  const say = (text: string) => {
    if (!opts.json) process.stdout.write(text);
  };
  const plan = await planFor(session, opts);
  say(
    `Plan for topic ${session.desired.topicName} in ${plan.region} (${session.clients.endpointLabel}):\n${formatPlan(plan, tty)}${summarize(plan)}.\n`,
  );
  const refusal = missingGroupsError(plan, session);
  if (refusal) throw refusal;

  const actions = actionsOf(plan);
  const configArn = session.loaded.config.sns.topic_arn;
  let applied: ApplyResult | undefined;
  let configUpdated = false;
  const hints: string[] = [];

  if (opts.dryRun) {
    say('Dry run: nothing was changed.\n');
    if (plan.topicArn && plan.topicArn !== configArn)
      hints.push(`provision would set sns.topic_arn in ${session.loaded.file} to ${plan.topicArn}.`);
    if (!plan.topicArn)
      hints.push(`provision would create the topic and write its ARN to sns.topic_arn in ${session.loaded.file}.`);
  } else if (actions.length === 0) {
    say('Everything is in step: nothing to change.\n');
  } else {
    // --json output is for scripts: never mix a question into it.
    if (!opts.yes && !opts.json && isInteractive() && !(await confirm(`Apply ${actions.length} change(s)?`))) {
      say('Nothing was changed.\n');
      return EXIT.negative;
    }
    applied = await applyWithProgress(session.clients, plan, opts.json ? 'quiet' : tty ? 'tty' : 'lines');
    say(`Applied ${applied.done.length} change(s).\n`);
  }

  const topicArn = applied?.topicArn ?? plan.topicArn;
  if (!opts.dryRun && topicArn && topicArn !== configArn) {
    configUpdated = await writeTopicArn(session.loaded.file, topicArn);
    hints.push(
      `Wrote sns.topic_arn: ${topicArn} to ${session.loaded.file}. Re-render the Salt side (salt-autoscale render --out ${session.loaded.config.salt.config_dir}) ` +
        'and restart salt-master so the reactor trusts this topic.',
    );
  }
  const subscription = subscriptionAfter(plan);
  if (opts.dryRun) hints.push(...attentionNotes(plan));
  else if (subscription === 'pending') hints.push(`The subscription is pending confirmation. ${PENDING_HINT}`);
  else if (subscription === 'missing') hints.push(SUBSCRIBE_LATER_HINT);

  if (opts.json) {
    const out = {
      command: 'provision',
      region: plan.region,
      dry_run: Boolean(opts.dryRun),
      topic_arn: topicArn ?? null,
      subscription,
      plan: planJson(plan),
      applied: applied?.done.length ?? 0,
      config_updated: configUpdated,
      hints: hints.map((h) => withConfigFlag(h, session.loaded.file)),
    };
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  } else {
    for (const h of hints) say(`\n${withConfigFlag(h, session.loaded.file)}\n`);
  }
  return EXIT.ok;
}
