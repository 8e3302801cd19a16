// salt-autoscale provision: read what exists, plan, show the plan, apply only the difference, and write the
// topic ARN back into the config so that `render` makes the reactor trust exactly that topic.

import type { ApplyResult } from '../aws/apply.js';
import { attentionNotes, planJson, planView, withConfigFlag } from '../aws/format.js';
import { actionsOf, PENDING_HINT, type Plan, planProvision, SUBSCRIBE_LATER_HINT } from '../aws/plan.js';
import { readState } from '../aws/read.js';
import { type AwsCommandOptions, type AwsSession, openSession, withAwsErrors } from '../aws/session.js';
import { writeTopicArn } from '../config/edit.js';
import { EXIT, UserError } from '../errors.js';
import { type Io, type Outcome, outcome, type View } from '../io.js';
import { applyWithIo } from './apply-with-io.js';

export interface ProvisionOptions extends AwsCommandOptions {
  dryRun?: boolean;
  yes?: boolean;
  resendConfirmation?: boolean;
}

/** What provision did (or, for a dry run, would do). */
interface Provisioned {
  region: string;
  plan: Plan;
  dryRun: boolean;
  /** What happened to the plan's changes. */
  outcome: 'dry_run' | 'nothing_to_do' | 'declined' | 'applied';
  applied: number;
  topicArn?: string;
  subscription: 'confirmed' | 'pending' | 'missing';
  configUpdated: boolean;
  /** What to do next, each naming --config when it is not the default. */
  hints: string[];
}

const SAID: Record<Provisioned['outcome'], (r: Provisioned) => string> = {
  dry_run: () => 'Dry run: nothing was changed.',
  nothing_to_do: () => 'Everything is in step: nothing to change.',
  declined: () => 'Nothing was changed.',
  applied: (r) => `Applied ${r.applied} change(s).`,
};

const provisionView: View<Provisioned> = {
  text: (r) => `${SAID[r.outcome](r)}\n${r.hints.map((h) => `\n${h}\n`).join('')}`,
  json: (r) => ({
    command: 'provision',
    region: r.region,
    dry_run: r.dryRun,
    outcome: r.outcome,
    topic_arn: r.topicArn ?? null,
    subscription: r.subscription,
    plan: planJson(r.plan),
    applied: r.applied,
    config_updated: r.configUpdated,
    hints: r.hints,
  }),
};

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

function subscriptionAfter(plan: Plan): Provisioned['subscription'] {
  const item = plan.items.find((i) => i.resource === 'subscription');
  if (item?.state === 'confirmed') return 'confirmed';
  // Subscribing (again) leaves it pending until the reactor confirms.
  if (item?.state === 'pending' || item?.action) return 'pending';
  return 'missing';
}

export async function run(io: Io, opts: ProvisionOptions): Promise<Outcome> {
  const session = await openSession(opts);
  return withAwsErrors(session.errorContext, () => provision(io, session, opts));
}

async function provision(io: Io, session: AwsSession, opts: ProvisionOptions): Promise<Outcome<Provisioned>> {
  const plan = await planFor(session, opts);
  io.show(planView, {
    heading: `Plan for topic ${session.desired.topicName} in ${plan.region} (${session.clients.endpointLabel})`,
    plan,
  });
  const refusal = missingGroupsError(plan, session);
  if (refusal) throw refusal;

  const actions = actionsOf(plan);
  const configArn = session.loaded.config.sns.topic_arn;
  const file = session.loaded.file;
  const hints: string[] = [];
  const result: Provisioned = {
    region: plan.region,
    plan,
    dryRun: Boolean(opts.dryRun),
    outcome: 'nothing_to_do',
    applied: 0,
    subscription: subscriptionAfter(plan),
    configUpdated: false,
    hints,
  };
  const done = (exitCode: number = EXIT.ok) => {
    result.hints = hints.map((h) => withConfigFlag(h, file));
    return outcome(provisionView, result, exitCode);
  };

  if (opts.dryRun) {
    result.outcome = 'dry_run';
    result.topicArn = plan.topicArn;
    const configChange = plan.topicArn !== configArn;
    if (plan.topicArn && configChange) hints.push(`provision would set sns.topic_arn in ${file} to ${plan.topicArn}.`);
    if (!plan.topicArn) hints.push(`provision would create the topic and write its ARN to sns.topic_arn in ${file}.`);
    hints.push(...attentionNotes(plan));
    // As `terraform plan -detailed-exitcode`: 0 nothing to do, 1 changes pending.
    return done(actions.length > 0 || (plan.topicArn !== undefined && configChange) ? EXIT.negative : EXIT.ok);
  }

  let applied: ApplyResult | undefined;
  if (actions.length > 0) {
    // --json output is for scripts: never mix a question into it (io.interactive is false then).
    if (!opts.yes && io.interactive && !(await io.confirm(`Apply ${actions.length} change(s)?`))) {
      result.outcome = 'declined';
      return done(EXIT.negative);
    }
    applied = await applyWithIo(io, session.clients, plan, withConfigFlag('salt-autoscale provision', file));
    result.outcome = 'applied';
    result.applied = applied.done.length;
  }

  const topicArn = applied?.topicArn ?? plan.topicArn;
  result.topicArn = topicArn;
  if (topicArn && topicArn !== configArn) {
    result.configUpdated = await writeTopicArn(file, topicArn);
    hints.push(
      `Wrote sns.topic_arn: ${topicArn} to ${file}. Re-render the Salt side (salt-autoscale render --out ${session.loaded.config.salt.config_dir}) ` +
        'and restart salt-master so the reactor trusts this topic.',
    );
  }
  if (result.subscription === 'pending') hints.push(`The subscription is pending confirmation. ${PENDING_HINT}`);
  else if (result.subscription === 'missing') hints.push(SUBSCRIBE_LATER_HINT);
  return done();
}
