// salt-autoscale status: what exists in AWS against what the config wants. Exit 0 only when everything is in
// step and the subscription is confirmed, so it can serve as a monitoring check.

import { SIGNATURE_VERSION, shortType } from '../aws/desired.js';
import { formatPlan, planJson, withConfigFlag } from '../aws/format.js';
import { PENDING_HINT, planProvision } from '../aws/plan.js';
import { readState } from '../aws/read.js';
import { type AwsCommandOptions, openSession, withAwsErrors } from '../aws/session.js';
import { EXIT } from '../errors.js';

export async function run(opts: AwsCommandOptions): Promise<number> {
  const session = await openSession(opts);
  return withAwsErrors(session.errorContext, async () => {
    const { desired } = session;
    const current = await readState(session.clients, desired);
    const plan = planProvision(current, desired);
    const drift = plan.items.filter((i) => i.change !== 'unchanged');
    const sub = current.subscription;
    const subscription = !sub ? 'missing' : sub.pending ? 'pending' : 'confirmed';
    const configArn = session.loaded.config.sns.topic_arn;
    const configInStep = !current.topic || configArn === current.topic.arn;
    const ok = drift.length === 0 && subscription === 'confirmed' && configInStep;

    const problems: string[] = [];
    const missingGroups = drift
      .filter((i) => i.change === 'blocked' && i.resource === 'notifications')
      .map((i) => i.name);
    const fixable = drift.filter((i) => !(i.change === 'blocked' && i.resource === 'notifications'));
    if (missingGroups.length) {
      problems.push(
        `no Auto Scaling group named ${missingGroups.join(', ')} in ${desired.region}: check the names under groups: in ${session.loaded.file}, the region and that the credentials belong to the right account (provision refuses until then).`,
      );
    }
    if (fixable.length)
      problems.push(
        `${fixable.length} difference(s) from the config: run \`salt-autoscale provision\` (see the plan above).`,
      );
    if (subscription === 'pending') problems.push(`The subscription is pending confirmation. ${PENDING_HINT}`);
    if (subscription === 'missing' && current.topic)
      problems.push('The topic has no subscription for the webhook: run `salt-autoscale provision`.');
    if (!configInStep) {
      problems.push(
        `sns.topic_arn in ${session.loaded.file} is ${configArn ?? 'not set'} but the topic is ${current.topic!.arn}: run \`salt-autoscale provision\` (it writes the ARN), then re-render.`,
      );
    }

    if (opts.json) {
      const out = {
        command: 'status',
        region: desired.region,
        in_step: ok,
        topic: current.topic
          ? {
              name: desired.topicName,
              arn: current.topic.arn,
              signature_version: current.topic.signatureVersion ?? '1',
              managed: current.topic.managed,
            }
          : null,
        config_topic_arn: configArn ?? null,
        subscription: { endpoint: desired.endpoint, state: subscription, arn: sub && !sub.pending ? sub.arn : null },
        other_webhook_subscriptions: current.otherWebhookSubscriptions.map((s) => ({
          endpoint: s.endpoint,
          state: s.pending ? 'pending' : 'confirmed',
        })),
        groups: current.groups.map((g) => ({
          name: g.name,
          exists: g.exists,
          notification_types: g.types,
          other_topics: g.otherTopics,
        })),
        drift: planJson({ ...plan, items: drift }),
        problems: problems.map((p) => withConfigFlag(p, session.loaded.file)),
      };
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
      return ok ? EXIT.ok : EXIT.negative;
    }

    const lines: string[] = [];
    const t = current.topic;
    lines.push(
      t
        ? `topic         ${t.arn}  SignatureVersion ${t.signatureVersion ?? '1 (default)'}${t.signatureVersion === SIGNATURE_VERSION ? '' : ' (want 2)'}, ${t.managed ? 'managed by salt-autoscale' : 'not tagged managed-by=salt-autoscale'}`
        : `topic         ${desired.topicName}: missing`,
    );
    lines.push(`subscription  ${desired.endpoint}: ${subscription}`);
    for (const s of current.otherWebhookSubscriptions)
      lines.push(
        `              also subscribed: ${s.endpoint} (${s.pending ? 'pending' : 'confirmed'}; not in the config)`,
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
    process.stdout.write(
      `Status of ${desired.topicName} in ${desired.region} (${session.clients.endpointLabel}):\n${lines.map((l) => `  ${l}\n`).join('')}`,
    );
    if (drift.length)
      process.stdout.write(
        `\nprovision would change:\n${formatPlan({ ...plan, items: drift }, Boolean(process.stdout.isTTY))}`,
      );
    process.stdout.write(
      ok
        ? '\nIn step: everything matches the config and the subscription is confirmed.\n'
        : `\n${problems.map((p) => withConfigFlag(p, session.loaded.file)).join('\n')}\n`,
    );
    return ok ? EXIT.ok : EXIT.negative;
  });
}
