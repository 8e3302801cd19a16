// What the config asks for on the AWS side, as plain data.

import { type Config, masterQueueName, trustedTopicArns, webhookEndpoint } from '../config/types.js';
import { EXIT, UserError } from '../errors.js';
import type { Tag } from './api.js';
import { type DesiredLifecycle, desiredLifecycle } from './lifecycle.js';

/** The four notifications the reactor handles, in the order they are shown. */
export const NOTIFICATION_TYPES = [
  'autoscaling:EC2_INSTANCE_LAUNCH',
  'autoscaling:EC2_INSTANCE_TERMINATE',
  'autoscaling:EC2_INSTANCE_LAUNCH_ERROR',
  'autoscaling:EC2_INSTANCE_TERMINATE_ERROR',
] as const;

/** launch, terminate, launch_error, terminate_error: how types are shown to people. */
export function shortType(type: string): string {
  return type.replace(/^autoscaling:(EC2_INSTANCE_)?/, '').toLowerCase();
}

/** The tag that marks a topic as created by salt-autoscale; teardown deletes only topics that carry it. */
export const MANAGED_TAG: Tag = { Key: 'managed-by', Value: 'salt-autoscale' };

/** SignatureVersion 2: SNS signs with SHA256withRSA, which the reactor verifies. */
export const SIGNATURE_VERSION = '2';

/** One master's subscription to the topic: its HTTPS endpoint, or (delivery sqs) its queue. */
export interface DesiredSubscription {
  master: string;
  protocol: 'https' | 'http' | 'sqs';
  /** The URL SNS posts to; for sqs the queue's name (its ARN follows from the topic's, known at apply time). */
  endpoint: string;
}

/** A master's delivery queue (delivery sqs): SNS puts every notification into it, the master's engine reads it. */
export interface DesiredMasterQueue {
  master: string;
  name: string;
  /** Longer than the slowest handling (a salt-cloud bootstrap), or a message is handled twice at once. */
  visibilityTimeout: number;
  /** Receives before SQS moves a message that keeps failing to the dead-letter queue. */
  maxReceiveCount: number;
}

export interface DesiredState {
  region: string;
  topicName: string;
  /** One per master, in the config's order. */
  subscriptions: DesiredSubscription[];
  /** Delivery sqs: one queue per master; else none. */
  masterQueues: DesiredMasterQueue[];
  groups: string[];
  notificationTypes: string[];
  /** The topic ARNs the rendered reactor trusts (sns.topic_arn and sns.extra_topic_arns). */
  trustedTopicArns: string[];
  /** sns.publishers: who may publish to the topic besides Auto Scaling (topicPolicy). */
  publishers: string[];
  /** The subscription's dead-letter queue. */
  dlqName: string;
  /** Lifecycle hooks and the role that publishes their notifications. */
  lifecycle: DesiredLifecycle;
}

/** Each master's subscription: its queue (delivery sqs), else its webhook URL. */
function desiredSubscriptions(config: Config): DesiredSubscription[] {
  return Object.keys(config.masters).map((master): DesiredSubscription => {
    if (config.delivery.mode === 'sqs') return { master, protocol: 'sqs', endpoint: masterQueueName(config, master) };
    const endpoint = webhookEndpoint(config, master);
    const protocol = new URL(endpoint).protocol === 'http:' ? 'http' : 'https';
    if (protocol === 'http' && !config.salt_api?.allow_http) {
      // The schema refuses this too; kept here so no caller can subscribe a clear-text endpoint by accident.
      throw new UserError(
        `salt_api.public_url is http:// (${endpoint}): SNS would post notifications in clear text. Use https://, or set salt_api.allow_http: true to accept the risk.`,
        EXIT.refused,
      );
    }
    return { master, protocol, endpoint };
  });
}

export function desiredState(config: Config, region: string): DesiredState {
  const sqs = config.delivery.mode === 'sqs';
  return {
    region,
    topicName: config.sns.topic_name,
    subscriptions: desiredSubscriptions(config),
    masterQueues: sqs
      ? Object.keys(config.masters).map((master) => ({
          master,
          name: masterQueueName(config, master),
          visibilityTimeout: config.delivery.sqs.visibility_timeout_seconds,
          maxReceiveCount: config.delivery.sqs.max_receive_count,
        }))
      : [],
    groups: Object.keys(config.groups),
    notificationTypes: [...NOTIFICATION_TYPES],
    trustedTopicArns: trustedTopicArns(config),
    publishers: [...config.sns.publishers],
    dlqName: dlqNameFor(config.sns.topic_name),
    lifecycle: desiredLifecycle(config),
  };
}

/** The name at the end of a topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME). */
export function topicNameOf(arn: string): string {
  return arn.split(':').slice(5).join(':');
}

/**
 * Whether the reactor rendered from this config accepts messages from the topic: its ARN is trusted, or, before
 * the topic exists, a trusted ARN names this topic in this region (CreateTopic is idempotent by name, so the
 * ARN is known in advance when the account is).
 */
export function reactorTrustsTopic(desired: DesiredState, topicArn: string | undefined): boolean {
  if (topicArn) return desired.trustedTopicArns.includes(topicArn);
  return desired.trustedTopicArns.some(
    (arn) => arn.split(':')[3] === desired.region && topicNameOf(arn) === desired.topicName,
  );
}

/**
 * Auto Scaling publishes group notifications as its service-linked role (AWSServiceRoleForAutoScaling, or a
 * custom-suffix AWSServiceRoleForAutoScaling_x a group may name; the role's AutoScalingServiceRolePolicy grants
 * sns:Publish), not as a service principal.
 */
export const autoScalingRolePattern = (partition: string, account: string) =>
  `arn:${partition}:iam::${account}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling*`;

/**
 * The topic policy provision sets: nobody but this account's Auto Scaling and the config's `sns.publishers` may
 * publish. Within the account an identity policy with sns:Publish would be enough to publish, so the limit has
 * to be a Deny (with every allowed principal excepted by aws:PrincipalArn); the Allow is for named principals of
 * other accounts, who need the topic's own grant.
 */
export function topicPolicy(topicArn: string, publishers: readonly string[]) {
  const [, partition, , , account] = topicArn.split(':');
  // An account's root ARN (arn:aws:iam::ACCOUNT:root) names the whole account, but no caller's aws:PrincipalArn
  // is ever that ARN: excepted by ARN, such an account would be denied entirely. It is excepted by account.
  const isRoot = (p: string) => p.endsWith(':root');
  const rootAccounts = publishers.filter(isRoot).map((p) => p.split(':')[4]);
  const allowed = [autoScalingRolePattern(partition, account), ...publishers.filter((p) => !isRoot(p))];
  return {
    Version: '2012-10-17',
    Id: 'salt-autoscale-publishers',
    Statement: [
      ...(publishers.length
        ? [
            {
              Sid: 'NamedPublishers',
              Effect: 'Allow',
              Principal: { AWS: [...publishers] },
              Action: 'sns:Publish',
              Resource: topicArn,
            },
          ]
        : []),
      {
        Sid: 'OnlyAutoScalingAndNamedPublishers',
        Effect: 'Deny',
        Principal: '*',
        Action: 'sns:Publish',
        Resource: topicArn,
        Condition: {
          ArnNotLike: { 'aws:PrincipalArn': allowed },
          ...(rootAccounts.length ? { StringNotEquals: { 'aws:PrincipalAccount': rootAccounts } } : {}),
        },
      },
    ],
  };
}

/**
 * Whether two policy documents say the same: SNS may hand a policy back with keys reordered, one-element lists
 * as plain values and list members in another order, none of which changes what it means.
 */
export function samePolicy(a: unknown, b: unknown): boolean {
  const canonical = (v: unknown): unknown => {
    if (Array.isArray(v)) {
      const items = v.map(canonical).sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
      return items.length === 1 ? items[0] : items;
    }
    if (v && typeof v === 'object')
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
      );
    return v;
  };
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** How long the dead-letter queue keeps a message: 14 days, the most SQS allows. */
export const DLQ_RETENTION_SECONDS = 1_209_600;

/**
 * The subscription's DeliveryPolicy: the longest retry window SNS allows an HTTP/S endpoint. SNS caps the
 * total retry time at 3600 s and the retries at 100, so: 100 retries 36 s apart (all in the minimum-delay
 * phase, min = max = 36 s), 3600 s after the first attempt. Then the message goes to the dead-letter queue.
 */
export const DELIVERY_POLICY = {
  healthyRetryPolicy: {
    numRetries: 100,
    numNoDelayRetries: 0,
    numMinDelayRetries: 100,
    numMaxDelayRetries: 0,
    minDelayTarget: 36,
    maxDelayTarget: 36,
    backoffFunction: 'linear',
  },
};

/** The dead-letter queue's name: the topic's, with -dlq (SQS names hold at most 80 characters). */
export const dlqNameFor = (topicName: string) => `${topicName.slice(0, 76)}-dlq`;

/** The queue's ARN, in the topic's partition, region and account. */
export function queueArnFor(topicArn: string, queueName: string): string {
  const [, partition, , region, account] = topicArn.split(':');
  return `arn:${partition}:sqs:${region}:${account}:${queueName}`;
}

export const redrivePolicy = (queueArn: string) => ({ deadLetterTargetArn: queueArn });

/** A master queue's RedrivePolicy: after maxReceiveCount receives SQS moves the message to the dead-letter queue. */
export const queueRedrivePolicy = (dlqArn: string, maxReceiveCount: number) => ({
  deadLetterTargetArn: dlqArn,
  maxReceiveCount,
});

/**
 * Only SNS, and only for this topic, may send to a queue: the dead-letter queue (the subscriptions' redrive) or
 * a master's delivery queue (its subscription). Nobody else can put a message in front of the gate.
 */
export function queuePolicy(
  queueArn: string,
  topicArn: string,
  purpose: 'dead-letters' | 'deliveries' = 'dead-letters',
) {
  return {
    Version: '2012-10-17',
    Id: `salt-autoscale-${purpose}`,
    Statement: [
      {
        Sid: purpose === 'dead-letters' ? 'TopicSubscriptionRedrive' : 'TopicSubscription',
        Effect: 'Allow',
        Principal: { Service: 'sns.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queueArn,
        Condition: { ArnEquals: { 'aws:SourceArn': topicArn } },
      },
    ],
  };
}
