// Pure planning: current state + desired state -> the list of what to do. No I/O here, so provision,
// --dry-run, status and teardown all show the same plan, and the tests can check plans without AWS.

import type { Change } from '../plan.js';
import {
  DELIVERY_POLICY,
  type DesiredMasterQueue,
  type DesiredState,
  type DesiredSubscription,
  DLQ_RETENTION_SECONDS,
  MANAGED_TAG,
  queueArnFor,
  queuePolicy,
  queueRedrivePolicy,
  reactorTrustsTopic,
  redrivePolicy,
  SIGNATURE_VERSION,
  samePolicy,
  shortType,
  topicPolicy,
} from './desired.js';
import {
  type DesiredHook,
  lifecycleProvisionItems,
  lifecycleTeardownItems,
  type RoleRef,
  roleArnOf,
} from './lifecycle.js';
import type { CurrentState, QueueState, SubscriptionState } from './read.js';

/** What apply does for one plan item. The topic ARN comes from the apply context (it may be created first). */
export type Action =
  | { type: 'CreateTopic'; name: string; attributes: Record<string, string>; tags: { Key: string; Value: string }[] }
  | { type: 'SetTopicAttributes'; name: string; value: string }
  /** The Policy attribute: topicPolicy() for the topic ARN known at apply time (and the hooks' role's ARN). */
  | { type: 'SetTopicPolicy'; publishers: string[]; hookRole?: RoleRef }
  /**
   * With a RedrivePolicy to the named queue (its ARN follows from the topic's) and, for HTTP/S, the DeliveryPolicy.
   * For sqs the endpoint is the master queue's name: its ARN is known at apply time, and the envelope must stay on
   * (RawMessageDelivery false) so that its signature reaches the gate.
   */
  | { type: 'Subscribe'; protocol: string; endpoint: string; deliveryPolicy?: string; deadLetterQueue: string }
  | { type: 'SetSubscriptionAttributes'; subscriptionArn: string; name: string; value: string }
  /**
   * The queue policy (only the topic may send) is added at apply time, from the topic ARN; a master's queue also
   * gets its RedrivePolicy to the dead-letter queue then.
   */
  | {
      type: 'CreateQueue';
      name: string;
      attributes: Record<string, string>;
      tags: Record<string, string>;
      redrive?: QueueRedrive;
    }
  | {
      type: 'SetQueueAttributes';
      queueUrl: string;
      name: string;
      attributes: Record<string, string>;
      policy: boolean;
      redrive?: QueueRedrive;
    }
  | { type: 'DeleteQueue'; queueUrl: string }
  | { type: 'PutNotificationConfiguration'; group: string; types: string[] }
  | { type: 'DeleteNotificationConfiguration'; group: string }
  | { type: 'Unsubscribe'; subscriptionArn: string }
  | { type: 'DeleteTopic' }
  /** The hooks' role, trusting autoscaling.amazonaws.com, tagged managed-by. */
  | { type: 'CreateRole'; name: string }
  /** Its inline policy: sns:Publish on the topic (the ARN known at apply time). */
  | { type: 'PutRolePolicy'; name: string }
  /** Its inline policies, then the role. */
  | { type: 'DeleteRole'; name: string }
  /** Targeting the topic, as the role the desired state names. */
  | { type: 'PutLifecycleHook'; hook: DesiredHook; roleRef: RoleRef }
  | { type: 'DeleteLifecycleHook'; group: string; name: string };

/** A master queue's redrive: to the dead-letter queue (by name) after this many receives. */
export interface QueueRedrive {
  deadLetterQueue: string;
  maxReceiveCount: number;
}

/**
 * What was found, for scripts and for the code that reads a plan (never the prose in `detail`):
 * missing, managed/unmanaged (a topic's tag), signature_version (a topic's SignatureVersion is not 2),
 * awaiting_trust (the reactor does not trust the topic yet), pending/confirmed (a subscription),
 * no_such_group, differs/in_step/present (a group's notifications), not_in_config (a group the config no longer
 * names still notifies the topic), kept (--keep-topic), policy_differs (the topic's Policy is not the one provision
 * sets), delivery_policy/redrive_policy (the subscription's retry or dead-letter setting differs),
 * queue_settings (a queue's retention, encryption, policy, visibility timeout or redrive differs), raw_delivery (an
 * sqs subscription strips the signed envelope), given (the hooks' role named by aws.lifecycle_role_arn, used as is).
 */
export type ItemState =
  | 'missing'
  | 'managed'
  | 'unmanaged'
  | 'signature_version'
  | 'awaiting_trust'
  | 'pending'
  | 'confirmed'
  | 'no_such_group'
  | 'differs'
  | 'in_step'
  | 'present'
  | 'not_in_config'
  | 'kept'
  | 'policy_differs'
  | 'delivery_policy'
  | 'redrive_policy'
  | 'queue_settings'
  | 'raw_delivery'
  | 'given';

export interface PlanItem {
  change: Change;
  resource: 'topic' | 'queue' | 'subscription' | 'notifications' | 'role' | 'hook';
  /** The topic name, the endpoint URL or queue name, the group name, the role's name (or ARN), or group:hook. */
  name: string;
  state: ItemState;
  /** For people; never parsed. */
  detail: string;
  action?: Action;
  /** Something the user must know or do, even when nothing changes (a pending confirmation). */
  attention?: string;
}

export interface Plan {
  region: string;
  /** The topic ARN when the topic exists already. */
  topicArn?: string;
  items: PlanItem[];
}

export const PENDING_HINT =
  'SNS sends the confirmation request to the webhook, and the reactor confirms it. If salt-api was not serving ' +
  'the rendered reactor yet: render the Salt side (`salt-autoscale render --out /etc/salt`), restart salt-master ' +
  'and salt-api, then run `salt-autoscale provision --resend-confirmation`. `salt-autoscale status` shows when it is ' +
  'confirmed. An unconfirmed subscription receives nothing, and SNS deletes it after 48 hours.';

/** Said when the subscription must wait: the reactor would reject the confirmation of a topic it does not trust. */
export const SUBSCRIBE_LATER_HINT =
  "The subscription waits until the reactor trusts the topic, or SNS's confirmation request would be rejected " +
  '(unknown_topic). Render the Salt side again now that sns.topic_arn is in the config (`salt-autoscale render ' +
  '--out /etc/salt`), restart salt-master and salt-api, then run `salt-autoscale provision` again: it subscribes, ' +
  'and the reactor confirms the subscription.';

/** Said before a subscription is created (dry run): the request goes out at once. */
export const BEFORE_SUBSCRIBE_HINT =
  'SNS sends the confirmation request as soon as the subscription is created, so have salt-api serving the rendered ' +
  'reactor first (`salt-autoscale render`, restart salt-master and salt-api); otherwise re-send it later with ' +
  '`salt-autoscale provision --resend-confirmation`.';

/** Who the topic policy lets publish, for people. */
const publishersText = (desired: DesiredState) =>
  (desired.publishers.length
    ? `only Auto Scaling and the ${desired.publishers.length} principal(s) of sns.publishers may publish`
    : 'only Auto Scaling may publish') + (hookRoleOf(desired) ? " (and the lifecycle hooks' role)" : '');

/** The role the topic policy must let publish: only when some group has a hook. */
const hookRoleOf = (desired: DesiredState): RoleRef | undefined =>
  desired.lifecycle.hooks.length ? desired.lifecycle.role : undefined;

/** Everyone the topic policy lets publish besides Auto Scaling's service-linked role. */
export function topicPublishers(desired: DesiredState, topicArn: string, hookRole = hookRoleOf(desired)): string[] {
  return hookRole ? [...desired.publishers, roleArnOf(hookRole, topicArn)] : [...desired.publishers];
}

/** Whether a JSON attribute (a policy) says the same as `wanted`; unreadable or absent is not. */
function sameJson(text: string | undefined, wanted: unknown): boolean {
  if (!text) return false;
  try {
    return samePolicy(JSON.parse(text), wanted);
  } catch {
    return false;
  }
}

const QUEUE_SETTINGS = { MessageRetentionPeriod: String(DLQ_RETENTION_SECONDS), SqsManagedSseEnabled: 'true' };

/** A queue to keep in step: the dead-letter queue, or a master's delivery queue. */
interface QueueWant {
  name: string;
  purpose: 'dead-letters' | 'deliveries';
  /** For people: what the queue is. */
  what: string;
  visibilityTimeout?: number;
  redrive?: QueueRedrive;
}

const dlqWant = (desired: DesiredState): QueueWant => ({
  name: desired.dlqName,
  purpose: 'dead-letters',
  what: 'the dead-letter queue',
});

const masterQueueWant = (desired: DesiredState, q: DesiredMasterQueue): QueueWant => ({
  name: q.name,
  purpose: 'deliveries',
  what: `master ${q.master}'s queue`,
  visibilityTimeout: q.visibilityTimeout,
  redrive: { deadLetterQueue: desired.dlqName, maxReceiveCount: q.maxReceiveCount },
});

/** A queue: created tagged, encrypted, 14 days' retention, only this topic may send (and a master's, its redrive). */
function queueItems(queue: QueueState | undefined, want: QueueWant, topicArn: string | undefined): PlanItem[] {
  const { name } = want;
  const extra = want.redrive
    ? `, visibility ${want.visibilityTimeout} s, to ${want.redrive.deadLetterQueue} after ${want.redrive.maxReceiveCount} receives`
    : '';
  const sender = "only this topic's subscription";
  if (!queue)
    return [
      {
        change: 'create',
        resource: 'queue',
        name,
        state: 'missing',
        detail: `create ${want.what}, tagged ${MANAGED_TAG.Key}=${MANAGED_TAG.Value}, SSE-SQS, 14 days' retention${extra}, ${sender} may send`,
        action: {
          type: 'CreateQueue',
          name,
          attributes: {
            ...QUEUE_SETTINGS,
            ...(want.visibilityTimeout !== undefined ? { VisibilityTimeout: String(want.visibilityTimeout) } : {}),
          },
          tags: { [MANAGED_TAG.Key]: MANAGED_TAG.Value },
          ...(want.redrive ? { redrive: want.redrive } : {}),
        },
      },
    ];
  const items: PlanItem[] = [
    {
      change: 'unchanged',
      resource: 'queue',
      name,
      state: queue.managed ? 'managed' : 'unmanaged',
      detail: queue.managed
        ? `${want.what}: exists (managed by salt-autoscale)`
        : `${want.what}: exists, not tagged ${MANAGED_TAG.Key}=${MANAGED_TAG.Value}: used as is, teardown will keep it`,
    },
  ];
  const fixes: string[] = [];
  const attributes: Record<string, string> = {};
  if (queue.retentionSeconds !== DLQ_RETENTION_SECONDS) {
    fixes.push(`retention ${queue.retentionSeconds} s -> 14 days`);
    attributes.MessageRetentionPeriod = QUEUE_SETTINGS.MessageRetentionPeriod;
  }
  if (!queue.encrypted) {
    fixes.push('not encrypted -> SSE-SQS');
    attributes.SqsManagedSseEnabled = 'true';
  }
  if (want.visibilityTimeout !== undefined && queue.visibilityTimeout !== want.visibilityTimeout) {
    fixes.push(`visibility timeout ${queue.visibilityTimeout} s -> ${want.visibilityTimeout} s`);
    attributes.VisibilityTimeout = String(want.visibilityTimeout);
  }
  const redriveOk =
    !want.redrive ||
    (topicArn !== undefined &&
      sameJson(
        queue.redrivePolicy,
        queueRedrivePolicy(queueArnFor(topicArn, want.redrive.deadLetterQueue), want.redrive.maxReceiveCount),
      ));
  if (!redriveOk)
    fixes.push(`redrive -> ${want.redrive?.deadLetterQueue} after ${want.redrive?.maxReceiveCount} receives`);
  const policyOk = topicArn !== undefined && sameJson(queue.policy, queuePolicy(queue.arn, topicArn, want.purpose));
  if (!policyOk) fixes.push(`policy -> ${sender} may send`);
  if (fixes.length)
    items.push({
      change: 'update',
      resource: 'queue',
      name,
      state: 'queue_settings',
      detail: fixes.join('; '),
      action: {
        type: 'SetQueueAttributes',
        queueUrl: queue.url,
        name,
        attributes,
        policy: !policyOk,
        ...(!redriveOk && want.redrive ? { redrive: want.redrive } : {}),
      },
    });
  return items;
}

/** A confirmed subscription's retry, dead-letter and envelope settings (a pending one cannot be asked: no ARN yet). */
function subscriptionSettingItems(
  sub: SubscriptionState | undefined,
  want: DesiredSubscription,
  topicArn: string | undefined,
  desired: DesiredState,
): PlanItem[] {
  if (!sub || sub.pending || !topicArn) return [];
  const items: PlanItem[] = [];
  const set = (state: ItemState, detail: string, name: string, value: string) =>
    items.push({
      change: 'update',
      resource: 'subscription',
      name: want.endpoint,
      state,
      detail,
      action: { type: 'SetSubscriptionAttributes', subscriptionArn: sub.arn, name, value },
    });
  // SNS retries an SQS queue by itself (100,015 times over 23 days); the DeliveryPolicy is for HTTP/S only.
  if (want.protocol !== 'sqs' && !sameJson(sub.deliveryPolicy, DELIVERY_POLICY))
    set(
      'delivery_policy',
      `DeliveryPolicy ${sub.deliveryPolicy ? 'differs' : 'is SNS default (3 retries over 60 s)'} -> 100 retries over 1 hour`,
      'DeliveryPolicy',
      JSON.stringify(DELIVERY_POLICY),
    );
  const redrive = redrivePolicy(queueArnFor(topicArn, desired.dlqName));
  if (!sameJson(sub.redrivePolicy, redrive))
    set(
      'redrive_policy',
      `RedrivePolicy ${sub.redrivePolicy ? 'differs' : 'missing'} -> dead-letter queue ${desired.dlqName}`,
      'RedrivePolicy',
      JSON.stringify(redrive),
    );
  if (want.protocol === 'sqs' && sub.rawMessageDelivery === 'true')
    set(
      'raw_delivery',
      'RawMessageDelivery true strips the signed envelope (the gate would reject every message) -> false',
      'RawMessageDelivery',
      'false',
    );
  return items;
}

/** Whether the Policy attribute SNS returned is the one provision sets. */
function policyInStep(policyText: string | undefined, topicArn: string, desired: DesiredState): boolean {
  if (!policyText) return false;
  try {
    return samePolicy(JSON.parse(policyText), topicPolicy(topicArn, topicPublishers(desired, topicArn)));
  } catch {
    return false;
  }
}

const typeList = (types: string[]) => (types.length ? types.map(shortType).join(', ') : 'none');

/**
 * Groups that are no longer in the config but still notify the topic: their configurations go, as Terraform
 * deletes a resource removed from its config. Only for a topic salt-autoscale manages; on a topic it merely
 * uses, another group's notifications may be someone else's, so they are shown and left alone.
 */
function strayGroupItems(current: CurrentState): PlanItem[] {
  return current.strayGroups.map(
    (g): PlanItem =>
      current.topic?.managed
        ? {
            change: 'delete',
            resource: 'notifications',
            name: g.name,
            state: 'not_in_config',
            detail: `not in the config: remove ${typeList(g.types)}`,
            action: { type: 'DeleteNotificationConfiguration', group: g.name },
          }
        : {
            change: 'unchanged',
            resource: 'notifications',
            name: g.name,
            state: 'not_in_config',
            detail: `not in the config: ${typeList(g.types)}, left alone (the topic is not managed by salt-autoscale)`,
          },
  );
}

export interface ProvisionOptions {
  resendConfirmation?: boolean;
}

/** One master's subscription: created, confirmed or pending (HTTP/S), or waiting until the reactor trusts the topic. */
function subscriptionItems(
  sub: SubscriptionState | undefined,
  want: DesiredSubscription,
  desired: DesiredState,
  topicArn: string | undefined,
  opts: ProvisionOptions,
): PlanItem[] {
  const sqs = want.protocol === 'sqs';
  const base = { resource: 'subscription' as const, name: want.endpoint };
  const subscribe: Action = {
    type: 'Subscribe',
    protocol: want.protocol,
    endpoint: want.endpoint,
    ...(sqs ? {} : { deliveryPolicy: JSON.stringify(DELIVERY_POLICY) }),
    deadLetterQueue: desired.dlqName,
  };
  // A queue needs no confirmation (same account): what SNS puts in it waits there for the master's engine.
  if (!sub && sqs)
    return [
      {
        ...base,
        change: 'create',
        state: 'missing',
        detail: `subscribe master ${want.master}'s queue (sqs, the signed envelope kept: RawMessageDelivery false)`,
        action: subscribe,
      },
    ];
  if (!sub && !reactorTrustsTopic(desired, topicArn))
    return [
      {
        ...base,
        change: 'blocked',
        state: 'awaiting_trust',
        detail: 'not yet: the rendered reactor does not trust this topic (sns.topic_arn)',
        attention: SUBSCRIBE_LATER_HINT,
      },
    ];
  if (!sub)
    return [
      {
        ...base,
        change: 'create',
        state: 'missing',
        detail: `subscribe ${want.protocol} (SNS sends the confirmation request at once)`,
        action: subscribe,
        attention: BEFORE_SUBSCRIBE_HINT,
      },
    ];
  if (sub.pending && opts.resendConfirmation)
    return [
      {
        ...base,
        change: 'update',
        state: 'pending',
        detail: 're-send the confirmation request (Subscribe again)',
        action: subscribe,
        attention: PENDING_HINT,
      },
    ];
  if (sub.pending)
    return [
      { ...base, change: 'unchanged', state: 'pending', detail: 'pending confirmation', attention: PENDING_HINT },
    ];
  return [{ ...base, change: 'unchanged', state: 'confirmed', detail: 'confirmed' }];
}

export function planProvision(current: CurrentState, desired: DesiredState, opts: ProvisionOptions = {}): Plan {
  const items: PlanItem[] = [];
  const topic = current.topic;

  if (!topic) {
    items.push({
      change: 'create',
      resource: 'topic',
      name: desired.topicName,
      state: 'missing',
      detail: `create, tagged ${MANAGED_TAG.Key}=${MANAGED_TAG.Value}, SignatureVersion ${SIGNATURE_VERSION}`,
      action: {
        type: 'CreateTopic',
        name: desired.topicName,
        attributes: { SignatureVersion: SIGNATURE_VERSION },
        tags: [MANAGED_TAG],
      },
    });
  } else {
    items.push({
      change: 'unchanged',
      resource: 'topic',
      name: desired.topicName,
      state: topic.managed ? 'managed' : 'unmanaged',
      detail: topic.managed
        ? 'exists (managed by salt-autoscale)'
        : `exists, not tagged ${MANAGED_TAG.Key}=${MANAGED_TAG.Value}: used as is, teardown will keep it`,
    });
    if (topic.signatureVersion !== SIGNATURE_VERSION) {
      items.push({
        change: 'update',
        resource: 'topic',
        name: desired.topicName,
        state: 'signature_version',
        detail: `SignatureVersion ${topic.signatureVersion ?? '1 (default)'} -> ${SIGNATURE_VERSION}`,
        action: { type: 'SetTopicAttributes', name: 'SignatureVersion', value: SIGNATURE_VERSION },
      });
    }
  }
  // Without it, any principal of the account with sns:Publish could publish genuinely signed fake events.
  const hookRole = hookRoleOf(desired);
  const setPolicy: Action = {
    type: 'SetTopicPolicy',
    publishers: [...desired.publishers],
    ...(hookRole ? { hookRole } : {}),
  };
  if (!topic) {
    items.push({
      change: 'create',
      resource: 'topic',
      name: desired.topicName,
      state: 'missing',
      detail: `policy: ${publishersText(desired)}`,
      action: setPolicy,
    });
  } else if (!policyInStep(topic.policy, topic.arn, desired)) {
    items.push({
      change: 'update',
      resource: 'topic',
      name: desired.topicName,
      state: 'policy_differs',
      detail: `policy is not the one provision sets -> ${publishersText(desired)}`,
      action: setPolicy,
    });
  }

  items.push(...queueItems(current.queue, dlqWant(desired), topic?.arn));
  for (const q of desired.masterQueues)
    items.push(...queueItems(current.masterQueues[q.name], masterQueueWant(desired, q), topic?.arn));
  for (const want of desired.subscriptions) {
    const sub = current.subscriptions[want.endpoint];
    items.push(...subscriptionItems(sub, want, desired, topic?.arn, opts));
    items.push(...subscriptionSettingItems(sub, want, topic?.arn, desired));
  }

  for (const g of current.groups) {
    if (!g.exists) {
      items.push({
        change: 'blocked',
        resource: 'notifications',
        name: g.name,
        state: 'no_such_group',
        detail: `no Auto Scaling group named ${g.name} in ${desired.region}`,
      });
      continue;
    }
    const have = new Set(g.types);
    const missing = desired.notificationTypes.filter((t) => !have.has(t));
    const extra = g.types.filter((t) => !desired.notificationTypes.includes(t));
    const put: Action = { type: 'PutNotificationConfiguration', group: g.name, types: [...desired.notificationTypes] };
    if (g.types.length === 0) {
      items.push({
        change: 'create',
        resource: 'notifications',
        name: g.name,
        state: 'missing',
        detail: typeList(desired.notificationTypes),
        action: put,
      });
    } else if (missing.length || extra.length) {
      const parts = [
        missing.length ? `add ${typeList(missing)}` : '',
        extra.length ? `remove ${typeList(extra)}` : '',
      ].filter(Boolean);
      items.push({
        change: 'update',
        resource: 'notifications',
        name: g.name,
        state: 'differs',
        detail: parts.join('; '),
        action: put,
      });
    } else {
      items.push({
        change: 'unchanged',
        resource: 'notifications',
        name: g.name,
        state: 'in_step',
        detail: typeList(g.types),
      });
    }
  }
  items.push(...strayGroupItems(current));
  items.push(
    ...lifecycleProvisionItems({
      desired: desired.lifecycle,
      current: current.lifecycle,
      topicArn: topic?.arn,
      existingGroups: new Set(current.groups.filter((g) => g.exists).map((g) => g.name)),
      samePolicy: sameJson,
    }),
  );
  return { region: desired.region, topicArn: topic?.arn, items };
}

export interface TeardownOptions {
  keepTopic?: boolean;
}

/** A master's subscription goes (a pending one only with the topic: SNS lets no API call remove it). */
function teardownSubscriptionItem(
  sub: SubscriptionState | undefined,
  want: DesiredSubscription,
  deleteTopic: boolean,
): PlanItem {
  const base = { resource: 'subscription' as const, name: want.endpoint };
  if (!sub) return { ...base, change: 'unchanged', state: 'missing', detail: 'does not exist' };
  if (!sub.pending)
    return {
      ...base,
      change: 'delete',
      state: 'confirmed',
      detail: 'unsubscribe',
      action: { type: 'Unsubscribe', subscriptionArn: sub.arn },
    };
  if (deleteTopic)
    return { ...base, change: 'delete', state: 'pending', detail: 'pending confirmation: goes with the topic' };
  return {
    ...base,
    change: 'blocked',
    state: 'pending',
    detail: 'pending confirmation: SNS does not let the API remove a pending subscription',
    attention:
      'It receives nothing until confirmed, and SNS deletes it after 48 hours. (Deleting the topic removes it at once.)',
  };
}

export function planTeardown(current: CurrentState, desired: DesiredState, opts: TeardownOptions = {}): Plan {
  const items: PlanItem[] = [];
  const topic = current.topic;
  if (!topic) {
    items.push({
      change: 'unchanged',
      resource: 'topic',
      name: desired.topicName,
      state: 'missing',
      detail: 'does not exist; nothing to remove',
    });
    items.push(...lifecycleTeardownItems(desired.lifecycle, current.lifecycle));
    items.push(...teardownQueueItems(current, desired, opts));
    return { region: desired.region, items };
  }
  const deleteTopic = !opts.keepTopic && topic.managed;

  for (const g of current.groups) {
    if (!g.exists)
      items.push({
        change: 'unchanged',
        resource: 'notifications',
        name: g.name,
        state: 'no_such_group',
        detail: `no group named ${g.name} in ${desired.region}; nothing to remove`,
      });
    else if (g.types.length === 0)
      items.push({
        change: 'unchanged',
        resource: 'notifications',
        name: g.name,
        state: 'missing',
        detail: 'none for this topic',
      });
    else
      items.push({
        change: 'delete',
        resource: 'notifications',
        name: g.name,
        state: 'present',
        detail: `remove ${typeList(g.types)}`,
        action: { type: 'DeleteNotificationConfiguration', group: g.name },
      });
  }
  items.push(...strayGroupItems(current));
  // The hooks go with the notifications; the role (last, with the topic) once nothing names it.
  items.push(...lifecycleTeardownItems(desired.lifecycle, current.lifecycle));

  for (const want of desired.subscriptions)
    items.push(teardownSubscriptionItem(current.subscriptions[want.endpoint], want, deleteTopic));

  if (opts.keepTopic) {
    items.push({
      change: 'unchanged',
      resource: 'topic',
      name: desired.topicName,
      state: 'kept',
      detail: 'kept (--keep-topic)',
    });
  } else if (topic.managed) {
    items.push({
      change: 'delete',
      resource: 'topic',
      name: desired.topicName,
      state: 'managed',
      detail: 'delete (tagged managed-by=salt-autoscale)',
      action: { type: 'DeleteTopic' },
    });
  } else {
    items.push({
      change: 'blocked',
      resource: 'topic',
      name: desired.topicName,
      state: 'unmanaged',
      detail: `not tagged ${MANAGED_TAG.Key}=${MANAGED_TAG.Value}: salt-autoscale did not create it and will not delete it`,
    });
  }
  items.push(...teardownQueueItems(current, desired, opts));
  return { region: desired.region, topicArn: topic.arn, items };
}

/** The queues go after the topic (nothing can send to them then), if salt-autoscale created them. */
function teardownQueueItems(current: CurrentState, desired: DesiredState, opts: TeardownOptions): PlanItem[] {
  const queues: [string, QueueState | undefined][] = [
    ...desired.masterQueues.map((q): [string, QueueState | undefined] => [q.name, current.masterQueues[q.name]]),
    [desired.dlqName, current.queue],
  ];
  return queues.flatMap(([name, queue]): PlanItem[] => {
    if (!queue) return [];
    const base = { resource: 'queue' as const, name };
    if (opts.keepTopic) return [{ ...base, change: 'unchanged', state: 'kept', detail: 'kept (--keep-topic)' }];
    if (!queue.managed)
      return [
        {
          ...base,
          change: 'unchanged',
          state: 'unmanaged',
          detail: `not tagged ${MANAGED_TAG.Key}=${MANAGED_TAG.Value}: kept`,
        },
      ];
    const waiting = name === desired.dlqName ? 'undelivered' : 'unhandled';
    const lost = queue.messages ? ` (${queue.messages} ${waiting} notification(s) in it are lost)` : '';
    return [
      {
        ...base,
        change: 'delete',
        state: 'managed',
        detail: `delete (tagged managed-by=salt-autoscale)${lost}`,
        action: { type: 'DeleteQueue', queueUrl: queue.url },
      },
    ];
  });
}

export const actionsOf = (plan: Plan) => plan.items.filter((i) => i.action);
