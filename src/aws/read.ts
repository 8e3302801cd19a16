// Reads what exists in AWS for one config: the topic (found by name), its tag, SignatureVersion and our
// subscription, and each configured group with the notification types it sends to that topic. Reads only:
// status and --dry-run rely on that. The SNS branch and the Auto Scaling branch run side by side.
import type { AwsClients } from './api.js';
import {
  type DesiredState,
  type DesiredSubscription,
  MANAGED_TAG,
  NOTIFICATION_TYPES,
  queueArnFor,
  topicNameOf,
} from './desired.js';
import { type LifecycleState, ROLE_POLICY_NAME, type RoleState } from './lifecycle.js';
import { mapConcurrent } from './pool.js';

export interface TopicState {
  arn: string;
  /** Tagged managed-by=salt-autoscale: created by this tool, so teardown may delete it. */
  managed: boolean;
  signatureVersion?: string;
  /** The Policy attribute as SNS returns it (JSON text). */
  policy?: string;
}

export interface SubscriptionState {
  /** The real ARN once confirmed; "PendingConfirmation" while pending (SNS hides the ARN then). */
  arn: string;
  pending: boolean;
  protocol: string;
  endpoint: string;
  /** Its DeliveryPolicy and RedrivePolicy (JSON text) once confirmed; unknown while pending (no ARN to ask). */
  deliveryPolicy?: string;
  redrivePolicy?: string;
  /** "true" when SNS sends the bare Message (no envelope, no signature): the gate could verify nothing. */
  rawMessageDelivery?: string;
}

/** The subscription's dead-letter queue (GetQueueUrl by name, then its attributes and tags). */
export interface QueueState {
  url: string;
  arn: string;
  /** Tagged managed-by=salt-autoscale: created by this tool, so teardown may delete it. */
  managed: boolean;
  retentionSeconds: number;
  /** SSE-SQS, or a KMS key. */
  encrypted: boolean;
  policy?: string;
  /** Messages waiting in it, received or not: notifications SNS could not deliver. */
  messages: number;
  /** Hidden for this long after a receive (seconds). */
  visibilityTimeout: number;
  /** Its RedrivePolicy (JSON text), if any. */
  redrivePolicy?: string;
}

export interface GroupState {
  name: string;
  exists: boolean;
  /** Notification types this group sends to the topic. */
  types: string[];
  /** Other topics this group notifies (e.g. the topic of an earlier topic_name); shown, never changed. */
  otherTopics: string[];
}

/** A group that the config no longer names but that still notifies the topic (e.g. removed from `groups:`). */
export interface StrayGroupState {
  name: string;
  /** Notification types it sends to the topic. */
  types: string[];
}

export interface CurrentState {
  topic?: TopicState;
  /** Each master's subscription as found, by its desired endpoint (URL, or queue name for sqs); absent: none. */
  subscriptions: Record<string, SubscriptionState>;
  /** Other subscriptions of the topic that point at a salt-autoscale webhook (e.g. an old public_url). */
  otherWebhookSubscriptions: SubscriptionState[];
  groups: GroupState[];
  /** Groups outside the config whose notification configurations target the topic. */
  strayGroups: StrayGroupState[];
  /** The dead-letter queue. */
  queue?: QueueState;
  /** Delivery sqs: each master's queue as found, by name. */
  masterQueues: Record<string, QueueState>;
  /** The hooks of the groups with lifecycle settings, and the managed role (read only when some group has them). */
  lifecycle: LifecycleState;
}

export const PENDING_ARN = 'PendingConfirmation';

/**
 * A listed subscription that receives messages (an ARN) or will once confirmed (PendingConfirmation). After an
 * unsubscribe through the UnsubscribeURL or the console, SNS keeps listing the entry for a while with the
 * SubscriptionArn "Deleted": that one is gone, and can neither be used nor unsubscribed.
 */
const isLive = (s: { arn: string }) => s.arn === PENDING_ARN || s.arn.startsWith('arn:');

const rank = (type: string) => {
  const i = (NOTIFICATION_TYPES as readonly string[]).indexOf(type);
  return i === -1 ? NOTIFICATION_TYPES.length : i;
};
const byCanonicalOrder = (a: string, b: string) => rank(a) - rank(b) || a.localeCompare(b);

async function readTopic(clients: AwsClients, desired: DesiredState) {
  const arns = await clients.sns.listTopics();
  const arn = arns.find((a) => topicNameOf(a) === desired.topicName);
  if (!arn) return { topic: undefined, subscriptions: [] };
  const [tags, attributes, subscriptions] = await Promise.all([
    clients.sns.listTags(arn),
    clients.sns.getTopicAttributes(arn),
    clients.sns.listSubscriptions(arn),
  ]);
  const managed = tags.some((t) => t.Key === MANAGED_TAG.Key && t.Value === MANAGED_TAG.Value);
  const topic: TopicState = { arn, managed, signatureVersion: attributes.SignatureVersion, policy: attributes.Policy };
  return { topic, subscriptions };
}

async function readQueue(clients: AwsClients, name: string): Promise<QueueState | undefined> {
  const url = await clients.sqs.getQueueUrl(name);
  if (!url) return undefined;
  const [attributes, tags] = await Promise.all([clients.sqs.getQueueAttributes(url), clients.sqs.listQueueTags(url)]);
  return {
    url,
    arn: attributes.QueueArn ?? '',
    managed: tags[MANAGED_TAG.Key] === MANAGED_TAG.Value,
    retentionSeconds: Number(attributes.MessageRetentionPeriod ?? 0),
    encrypted: attributes.SqsManagedSseEnabled === 'true' || Boolean(attributes.KmsMasterKeyId),
    policy: attributes.Policy,
    messages:
      Number(attributes.ApproximateNumberOfMessages ?? 0) +
      Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    visibilityTimeout: Number(attributes.VisibilityTimeout ?? 30),
    redrivePolicy: attributes.RedrivePolicy,
  };
}

async function readMasterQueues(clients: AwsClients, desired: DesiredState): Promise<Record<string, QueueState>> {
  const found = await mapConcurrent(desired.masterQueues, 4, (q) => readQueue(clients, q.name));
  return Object.fromEntries(
    desired.masterQueues.flatMap((q, i) => (found[i] ? [[q.name, found[i] as QueueState]] : [])),
  );
}

/** Whether a listed subscription is the master's: same protocol, and its URL (or its queue's ARN). */
function isSubscriptionOf(s: { protocol: string; endpoint: string }, want: DesiredSubscription, topicArn: string) {
  if (s.protocol !== want.protocol) return false;
  return want.protocol === 'sqs' ? s.endpoint === queueArnFor(topicArn, want.endpoint) : s.endpoint === want.endpoint;
}

async function readGroups(clients: AwsClients, desired: DesiredState) {
  // Every configuration in the region, not only the configured groups': a group removed from the config
  // must still be found while it notifies the topic (as Terraform plans the deletion of a removed resource).
  const [names, configs] = await Promise.all([
    clients.autoscaling.describeGroups(desired.groups),
    clients.autoscaling.listAllNotifications(),
  ]);
  return { existing: new Set(names), configs };
}

/**
 * Hooks of the groups whose config has `lifecycle` (and that exist), and the role provision manages. Nothing is
 * read without lifecycle settings: a setup without hooks needs no IAM or DescribeLifecycleHooks permission.
 */
async function readLifecycle(
  clients: AwsClients,
  desired: DesiredState,
  existing: () => Promise<Set<string>>,
): Promise<LifecycleState> {
  const { groups, role } = desired.lifecycle;
  if (groups.length === 0) return { hooks: [] };
  const readRole = async (): Promise<RoleState | undefined> => {
    if (!role || 'arn' in role) return undefined;
    const found = await clients.iam.getRole(role.name);
    if (!found) return undefined;
    const managed = found.tags.some((t) => t.Key === MANAGED_TAG.Key && t.Value === MANAGED_TAG.Value);
    const policy = await clients.iam.getRolePolicy(role.name, ROLE_POLICY_NAME);
    return { name: role.name, arn: found.arn, managed, ...(policy !== undefined ? { policy } : {}) };
  };
  const readHooks = async () => {
    const present = await existing();
    const pages = await mapConcurrent(
      groups.filter((g) => present.has(g)),
      4,
      (g) => clients.autoscaling.describeLifecycleHooks(g),
    );
    return pages.flat();
  };
  const [hooks, found] = await Promise.all([readHooks(), readRole()]);
  return { hooks, ...(found ? { role: found } : {}) };
}

export async function readState(clients: AwsClients, desired: DesiredState): Promise<CurrentState> {
  const groupsRead = readGroups(clients, desired);
  const [{ topic, subscriptions }, { existing, configs }, queue, masterQueues, lifecycle] = await Promise.all([
    readTopic(clients, desired),
    groupsRead,
    readQueue(clients, desired.dlqName),
    readMasterQueues(clients, desired),
    readLifecycle(clients, desired, () => groupsRead.then((g) => g.existing)),
  ]);
  const live = subscriptions.filter(isLive);
  const found: Record<string, SubscriptionState> = {};
  for (const want of desired.subscriptions) {
    const ours = topic
      ? live
          .filter((s) => isSubscriptionOf(s, want, topic.arn))
          .map((s): SubscriptionState => ({ ...s, pending: s.arn === PENDING_ARN }))
      : [];
    // A confirmed one wins over a pending duplicate (a re-sent confirmation can leave both for a while).
    const subscription = ours.find((s) => !s.pending) ?? ours[0];
    if (subscription) found[want.endpoint] = subscription;
  }
  await mapConcurrent(
    Object.values(found).filter((s) => !s.pending),
    4,
    async (subscription) => {
      const attributes = await clients.sns.getSubscriptionAttributes(subscription.arn);
      subscription.deliveryPolicy = attributes.DeliveryPolicy;
      subscription.redrivePolicy = attributes.RedrivePolicy;
      subscription.rawMessageDelivery = attributes.RawMessageDelivery;
    },
  );
  const wanted = new Set(desired.subscriptions.map((d) => d.endpoint));
  const otherWebhookSubscriptions = live
    .filter((s) => /^https?$/.test(s.protocol) && s.endpoint.endsWith('/ec2/autoscale') && !wanted.has(s.endpoint))
    .map((s): SubscriptionState => ({ ...s, pending: s.arn === PENDING_ARN }));
  const groups = desired.groups.map(
    (name): GroupState => ({
      name,
      exists: existing.has(name),
      types: topic
        ? configs
            .filter((c) => c.group === name && c.topicArn === topic.arn)
            .map((c) => c.type)
            .sort(byCanonicalOrder)
        : [],
      otherTopics: [
        ...new Set(configs.filter((c) => c.group === name && c.topicArn !== topic?.arn).map((c) => c.topicArn)),
      ],
    }),
  );
  const configured = new Set(desired.groups);
  const strays = new Map<string, string[]>();
  for (const c of configs) {
    if (!topic || c.topicArn !== topic.arn || configured.has(c.group)) continue;
    strays.set(c.group, [...(strays.get(c.group) ?? []), c.type]);
  }
  const strayGroups = [...strays]
    .map(([name, types]): StrayGroupState => ({ name, types: types.sort(byCanonicalOrder) }))
    .sort((a, b) => a.name.localeCompare(b.name));
  return {
    topic,
    subscriptions: found,
    otherWebhookSubscriptions,
    groups,
    strayGroups,
    queue,
    masterQueues,
    lifecycle,
  };
}
