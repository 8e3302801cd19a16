// salt-autoscale status: what exists in AWS against what the config wants. Exit 0 only when everything is in
// step and the subscription is confirmed, so it can serve as a monitoring check.

import type { DesiredState, DesiredSubscription } from '../aws/desired.js';
import { SIGNATURE_VERSION, shortType } from '../aws/desired.js';
import { formatPlan, planJson, withConfigFlag } from '../aws/format.js';
import { type HookState, isOurHook, shortTransition } from '../aws/lifecycle.js';
import { PENDING_HINT, type Plan, planProvision } from '../aws/plan.js';
import { type CurrentState, readState } from '../aws/read.js';
import { type AwsCommandOptions, openSession, withAwsErrors } from '../aws/session.js';
import { EXIT } from '../errors.js';
import { type Io, type Outcome, outcome, type View } from '../io.js';

type SubscriptionWord = 'confirmed' | 'pending' | 'missing';

/** What status found. */
interface Status {
  desired: DesiredState;
  current: CurrentState;
  endpointLabel: string;
  configTopicArn?: string;
  /** All masters' subscriptions together: confirmed only when every one is. */
  subscription: SubscriptionWord;
  /** Each master's subscription. */
  subscriptions: { want: DesiredSubscription; state: SubscriptionWord; arn?: string }[];
  /** The plan's items that are not unchanged: what provision would do (or cannot). */
  drift: Plan;
  inStep: boolean;
  /** Why it is not in step, each with what to do. */
  problems: string[];
}

const statusView: View<Status> = {
  text(s, { tty }) {
    const { desired, current } = s;
    const lines: string[] = [];
    const t = current.topic;
    lines.push(
      t
        ? `topic         ${t.arn}  SignatureVersion ${t.signatureVersion ?? '1 (default)'}${t.signatureVersion === SIGNATURE_VERSION ? '' : ' (want 2)'}, ${t.managed ? 'managed by salt-autoscale' : 'not tagged managed-by=salt-autoscale'}`
        : `topic         ${desired.topicName}: missing`,
    );
    const several = s.subscriptions.length > 1;
    for (const sub of s.subscriptions)
      lines.push(
        `subscription  ${sub.want.endpoint}${sub.want.protocol === 'sqs' ? ' (sqs)' : ''}${several ? ` [${sub.want.master}]` : ''}: ${sub.state}`,
      );
    const queueLine = (name: string, q: CurrentState['queue'], what: string) =>
      q
        ? `queue         ${name}: ${q.messages} message(s) waiting${what}${q.managed ? '' : ', not tagged managed-by=salt-autoscale'}`
        : `queue         ${name}: missing`;
    for (const mq of desired.masterQueues)
      lines.push(queueLine(mq.name, current.masterQueues[mq.name], ` for master ${mq.master}`));
    lines.push(queueLine(desired.dlqName, current.queue, ' (dead letters)'));
    const role = desired.lifecycle.role;
    if (role && desired.lifecycle.hooks.length) {
      const r = current.lifecycle.role;
      lines.push(
        'arn' in role
          ? `role          ${role.arn}: aws.lifecycle_role_arn (not managed here)`
          : r
            ? `role          ${role.name}  ${r.arn}${r.managed ? '' : ', not tagged managed-by=salt-autoscale'}`
            : `role          ${role.name}: missing`,
      );
    }
    const hookWidth = Math.max(0, ...current.lifecycle.hooks.map((h) => h.group.length + h.name.length + 1));
    for (const h of current.lifecycle.hooks)
      lines.push(
        `hook          ${`${h.group}:${h.name}`.padEnd(hookWidth)}  ${hookSummary(h)}${isOurHook(h) ? '' : ' (not put by salt-autoscale)'}`,
      );
    for (const o of current.otherWebhookSubscriptions)
      lines.push(
        `              also subscribed: ${o.endpoint} (${o.pending ? 'pending' : 'confirmed'}; not in the config)`,
      );
    const width = Math.max(...current.groups.map((g) => g.name.length));
    for (const g of current.groups) {
      const what = !g.exists
        ? `no such group in ${desired.region}`
        : g.types.length
          ? g.types.map(shortType).join(', ')
          : 'no notifications to this topic';
      lines.push(`group         ${g.name.padEnd(width)}  ${what}`);
      for (const other of g.otherTopics)
        lines.push(`              ${' '.repeat(width)}  also notifies ${other} (not managed here)`);
    }
    let text = `Status of ${desired.topicName} in ${desired.region} (${s.endpointLabel}):\n${lines.map((l) => `  ${l}\n`).join('')}`;
    if (s.drift.items.length) text += `\nprovision would change:\n${formatPlan(s.drift, tty)}`;
    text += s.inStep
      ? '\nIn step: everything matches the config and the subscription is confirmed.\n'
      : `\n${s.problems.join('\n')}\n`;
    return text;
  },
  json(s) {
    const { desired, current } = s;
    const primary = s.subscriptions[0];
    return {
      command: 'status',
      region: desired.region,
      in_step: s.inStep,
      topic: current.topic
        ? {
            name: desired.topicName,
            arn: current.topic.arn,
            signature_version: current.topic.signatureVersion ?? '1',
            managed: current.topic.managed,
          }
        : null,
      config_topic_arn: s.configTopicArn ?? null,
      // The first master's, as before several masters; `subscriptions` has every master's.
      subscription: { endpoint: primary?.want.endpoint ?? null, state: s.subscription, arn: primary?.arn ?? null },
      subscriptions: s.subscriptions.map((x) => ({
        master: x.want.master,
        protocol: x.want.protocol,
        endpoint: x.want.endpoint,
        state: x.state,
        arn: x.arn ?? null,
      })),
      master_queues: desired.masterQueues.map((q) => {
        const found = current.masterQueues[q.name];
        return {
          master: q.master,
          name: q.name,
          url: found?.url ?? null,
          managed: found?.managed ?? false,
          messages: found?.messages ?? null,
        };
      }),
      dead_letter_queue: current.queue
        ? {
            name: desired.dlqName,
            url: current.queue.url,
            managed: current.queue.managed,
            messages: current.queue.messages,
          }
        : null,
      other_webhook_subscriptions: current.otherWebhookSubscriptions.map((o) => ({
        endpoint: o.endpoint,
        state: o.pending ? 'pending' : 'confirmed',
      })),
      groups: current.groups.map((g) => ({
        name: g.name,
        exists: g.exists,
        notification_types: g.types,
        other_topics: g.otherTopics,
      })),
      lifecycle_role: lifecycleRoleJson(s),
      lifecycle_hooks: current.lifecycle.hooks.map((h) => ({
        group: h.group,
        name: h.name,
        transition: shortTransition(h.transition),
        target_arn: h.targetArn ?? null,
        role_arn: h.roleArn ?? null,
        heartbeat_timeout: h.heartbeatTimeout,
        default_result: h.defaultResult,
        managed: isOurHook(h),
      })),
      drift: planJson(s.drift),
      problems: s.problems,
    };
  },
};

/** The hooks' role: the one named by the config, or the managed one as found (null without hooks). */
function lifecycleRoleJson(s: Status) {
  const role = s.desired.lifecycle.role;
  if (!role || !s.desired.lifecycle.hooks.length) return null;
  if ('arn' in role) return { name: null, arn: role.arn, managed: false, given: true };
  const r = s.current.lifecycle.role;
  return r ? { name: r.name, arn: r.arn, managed: r.managed } : { name: role.name, arn: null, managed: false };
}

const hookSummary = (h: HookState) =>
  `${shortTransition(h.transition)}, heartbeat ${h.heartbeatTimeout} s, default ${h.defaultResult}`;

export async function run(_io: Io, opts: AwsCommandOptions): Promise<Outcome> {
  const session = await openSession(opts);
  return withAwsErrors(session.errorContext, async () => {
    const { desired } = session;
    const file = session.loaded.file;
    const current = await readState(session.clients, desired);
    const plan = planProvision(current, desired);
    const drift = plan.items.filter((i) => i.change !== 'unchanged');
    const subscriptions = desired.subscriptions.map((want) => {
      const sub = current.subscriptions[want.endpoint];
      const state: SubscriptionWord = !sub ? 'missing' : sub.pending ? 'pending' : 'confirmed';
      return { want, state, ...(sub && !sub.pending ? { arn: sub.arn } : {}) };
    });
    const states = subscriptions.map((x) => x.state);
    const subscription: SubscriptionWord = states.includes('missing')
      ? 'missing'
      : states.includes('pending')
        ? 'pending'
        : 'confirmed';
    const configArn = session.loaded.config.sns.topic_arn;
    const configInStep = !current.topic || configArn === current.topic.arn;
    // Notifications SNS gave up on: the reactor never saw them (a lost launch or terminate).
    const deadLetters = current.queue?.messages ?? 0;
    const inStep = drift.length === 0 && subscription === 'confirmed' && configInStep && deadLetters === 0;

    const problems: string[] = [];
    const missingGroups = drift
      .filter((i) => i.change === 'blocked' && i.resource === 'notifications')
      .map((i) => i.name);
    const fixable = drift.filter((i) => !(i.change === 'blocked' && i.resource === 'notifications'));
    if (missingGroups.length) {
      problems.push(
        `no Auto Scaling group named ${missingGroups.join(', ')} in ${desired.region}: check the names under groups: in ${file}, the region and that the credentials belong to the right account (provision refuses until then).`,
      );
    }
    if (fixable.length)
      problems.push(
        `${fixable.length} difference(s) from the config: run \`salt-autoscale provision\` (see the plan above).`,
      );
    if (subscription === 'pending') problems.push(`The subscription is pending confirmation. ${PENDING_HINT}`);
    if (subscription === 'missing' && current.topic)
      problems.push(
        `The topic has no subscription for ${subscriptions
          .filter((x) => x.state === 'missing')
          .map((x) => `master ${x.want.master} (${x.want.endpoint})`)
          .join(', ')}: run \`salt-autoscale provision\`.`,
      );
    if (deadLetters > 0)
      problems.push(
        `${deadLetters} notification(s) wait in the dead-letter queue ${desired.dlqName}: ${desired.masterQueues.length ? `a master's engine failed on them ${desired.masterQueues[0].maxReceiveCount} times (or SNS could not deliver them)` : 'SNS could not deliver them to the webhook within its retry window (1 hour)'}, so no master handled them. Run \`salt-autoscale reconcile\` on each master (it judges each letter and converges that master's keys), or look at them with \`aws sqs receive-message --queue-url ${current.queue!.url}\`; SQS drops them after 14 days.`,
      );
    if (!configInStep) {
      problems.push(
        `sns.topic_arn in ${file} is ${configArn ?? 'not set'} but the topic is ${current.topic!.arn}: run \`salt-autoscale provision\` (it writes the ARN), then re-render.`,
      );
    }
    const status: Status = {
      desired,
      current,
      endpointLabel: session.clients.endpointLabel,
      configTopicArn: configArn,
      subscription,
      subscriptions,
      drift: { ...plan, items: drift },
      inStep,
      problems: problems.map((p) => withConfigFlag(p, file)),
    };
    return outcome(statusView, status, inStep ? EXIT.ok : EXIT.negative);
  });
}
