// What the config asks for on the AWS side, as plain data.

import { type Config, trustedTopicArns, webhookEndpoint } from '../config/types.js';
import { EXIT, UserError } from '../errors.js';
import type { Tag } from './api.js';

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

export interface DesiredState {
  region: string;
  topicName: string;
  protocol: 'https' | 'http';
  endpoint: string;
  groups: string[];
  notificationTypes: string[];
  /** The topic ARNs the rendered reactor trusts (sns.topic_arn and sns.extra_topic_arns). */
  trustedTopicArns: string[];
}

export function desiredState(config: Config, region: string): DesiredState {
  const endpoint = webhookEndpoint(config);
  const protocol = new URL(endpoint).protocol === 'http:' ? 'http' : 'https';
  if (protocol === 'http' && !config.salt_api.allow_http) {
    // The schema refuses this too; kept here so no caller can subscribe a clear-text endpoint by accident.
    throw new UserError(
      `salt_api.public_url is http:// (${endpoint}): SNS would post notifications in clear text. Use https://, or set salt_api.allow_http: true to accept the risk.`,
      EXIT.refused,
    );
  }
  return {
    region,
    topicName: config.sns.topic_name,
    protocol,
    endpoint,
    groups: Object.keys(config.groups),
    notificationTypes: [...NOTIFICATION_TYPES],
    trustedTopicArns: trustedTopicArns(config),
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
