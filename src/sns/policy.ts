// Steps 5, 6 and 8: what the message says, judged against the config. Pure (the clock is a parameter).
import { EVENT_OUTCOMES, Rejection, type Outcome } from './codes.js';
import type { VerifySettings } from './settings.js';

export const INSTANCE_ID = /^i-[0-9a-f]{8}([0-9a-f]{9})?$/
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:([a-z0-9-]+):(\d{12}):[^:]+$/;

export interface TopicInfo {
  region: string;
  account: string;
}

/** Step 5: TopicArn must be one of the trusted ARNs, exactly. */
export function checkTopic(topicArn: string, settings: VerifySettings): TopicInfo {
  if (!settings.topicArns.includes(topicArn)) {
    const known = settings.topicArns.length ? settings.topicArns.join(', ') : 'none: sns.topic_arn is not set (run `salt-autoscale provision`)';
    throw new Rejection('unknown_topic', `TopicArn ${JSON.stringify(topicArn.slice(0, 300))} is not a trusted topic (trusted: ${known})`);
  }
  const m = TOPIC_ARN.exec(topicArn);
  // The config schema only admits well-formed ARNs, so a trusted ARN always parses.
  if (!m) throw new Rejection('unknown_topic', `TopicArn ${JSON.stringify(topicArn)} is not an SNS topic ARN`);
  return { region: m[1], account: m[2] };
}

// ISO-8601 as SNS writes it (2026-01-01T12:00:00.000Z), also with an explicit offset.
const ISO_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** Parses an ISO-8601 timestamp; undefined when it is not one (or names an impossible date). */
export function parseTimestamp(text: string): Date | undefined {
  const m = ISO_TIMESTAMP.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number);
  const probe = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  if (probe.getUTCFullYear() !== y || probe.getUTCMonth() !== mo - 1 || probe.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
    return undefined;
  }
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

/** Step 6: the Timestamp is within max_age in the past and clock_skew in the future. */
export function checkTimestamp(timestamp: string, now: Date, settings: VerifySettings): Date {
  const at = parseTimestamp(timestamp);
  if (!at) throw new Rejection('bad_timestamp', `Timestamp ${JSON.stringify(timestamp.slice(0, 64))} is not an ISO-8601 time`);
  const ageSeconds = (now.getTime() - at.getTime()) / 1000;
  if (ageSeconds > settings.maxAgeSeconds) {
    throw new Rejection('stale_message', `the message was sent at ${at.toISOString()}, ${formatSeconds(ageSeconds)} ago; the limit is ${formatSeconds(settings.maxAgeSeconds)} (reactor.max_age_seconds)`);
  }
  if (-ageSeconds > settings.clockSkewSeconds) {
    throw new Rejection('future_message', `the message is dated ${at.toISOString()}, ${formatSeconds(-ageSeconds)} ahead of this host's clock; the allowed skew is ${formatSeconds(settings.clockSkewSeconds)} (reactor.clock_skew_seconds)`);
  }
  return at;
}

function formatSeconds(s: number): string {
  const n = Math.round(s);
  if (n < 120) return `${n} s`;
  if (n < 7200) return `${Math.round(n / 60)} min`;
  return `${(n / 3600).toFixed(1)} h`;
}

/** What an accepted Auto Scaling notification is about. */
export interface AutoScalingEvent {
  outcome: Outcome;
  event: string;
  group: string;
  /** Absent for autoscaling:TEST_NOTIFICATION. */
  instanceId?: string;
  /** Set for the error events: AWS's own words about what failed. */
  description?: string;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const show = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v.slice(0, 100)) : v === undefined ? 'missing' : JSON.stringify(v)?.slice(0, 100));

/** Step 8: the inner Auto Scaling message of a Notification. */
export function checkAutoScalingMessage(message: string, topic: TopicInfo, settings: VerifySettings): AutoScalingEvent {
  let inner: unknown;
  try {
    inner = JSON.parse(message);
  } catch {
    throw new Rejection('bad_message_json', 'Message is not JSON, so it is not an Auto Scaling notification');
  }
  if (!isPlainObject(inner)) throw new Rejection('bad_message_json', 'Message is JSON but not an object');
  const event = inner.Event;
  if (typeof event !== 'string' || !Object.hasOwn(EVENT_OUTCOMES, event)) {
    throw new Rejection('unknown_event', `Event is ${show(event)}, not one of ${Object.keys(EVENT_OUTCOMES).join(', ')}`);
  }
  const outcome = EVENT_OUTCOMES[event];
  const group = inner.AutoScalingGroupName;
  if (typeof group !== 'string' || !settings.groups.has(group)) {
    throw new Rejection('unknown_group', `AutoScalingGroupName is ${show(group)}, not a group in the config (known: ${[...settings.groups.keys()].join(', ')})`);
  }
  if (inner.AccountId !== topic.account) {
    throw new Rejection('account_mismatch', `AccountId is ${show(inner.AccountId)} but the topic belongs to account ${topic.account}`);
  }
  const description = typeof inner.Description === 'string' ? inner.Description : undefined;
  if (outcome === 'test_notification') return { outcome, event, group };
  const instanceId = inner.EC2InstanceId;
  if (typeof instanceId !== 'string' || !INSTANCE_ID.test(instanceId)) {
    throw new Rejection('bad_instance_id', `EC2InstanceId is ${show(instanceId)}, not an instance id like i-0123456789abcdef0`);
  }
  return { outcome, event, group, instanceId, ...(description !== undefined && outcome.endsWith('_error') ? { description } : {}) };
}
