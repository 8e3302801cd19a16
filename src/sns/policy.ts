// Steps 5, 6 and 8: what the message says, judged against the config. Pure (the clock is a parameter).
import { EVENT_OUTCOMES, type Outcome, Rejection } from './codes.js';
import type { VerifySettings } from './settings.js';

export const INSTANCE_ID = /^i-[0-9a-f]{8}([0-9a-f]{9})?$/;

export interface TopicInfo {
  region: string;
  account: string;
}

/** Step 5: TopicArn must be one of the trusted ARNs, exactly. */
export function checkTopic(topicArn: string, settings: VerifySettings): TopicInfo {
  if (!settings.topicArns.includes(topicArn)) {
    const known = settings.topicArns.length
      ? settings.topicArns.join(', ')
      : 'none: sns.topic_arn is not set (run `salt-autoscale provision`)';
    throw new Rejection(
      'unknown_topic',
      `TopicArn ${JSON.stringify(topicArn.slice(0, 300))} is not a trusted topic (trusted: ${known})`,
    );
  }
  // arn:aws:sns:REGION:ACCOUNT:NAME (the config schema only admits ARNs of that shape)
  const parts = topicArn.split(':');
  return { region: parts[3], account: parts[4] };
}

// ISO-8601 as SNS writes it (2026-01-01T12:00:00.000Z), also with an explicit offset; the same pattern and
// range checks as the reactor, so both sides call the same strings unparseable.
const ISO_TIMESTAMP =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,9})?(Z|[+-]([0-9]{2}):([0-9]{2}))$/;

const daysInMonth = (y: number, m: number) =>
  [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];

/** Parses an ISO-8601 timestamp; undefined when it is not one (or names an impossible time such as Feb 30). */
export function parseTimestamp(text: string): Date | undefined {
  const m = ISO_TIMESTAMP.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59) return undefined;
  if (m[8] !== 'Z' && (Number(m[9]) > 23 || Number(m[10]) > 59)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

/** Step 6: the Timestamp is within max_age in the past and clock_skew in the future. */
export function checkTimestamp(timestamp: string, now: Date, settings: VerifySettings): Date {
  const at = parseTimestamp(timestamp);
  if (!at)
    throw new Rejection('bad_timestamp', `Timestamp ${JSON.stringify(timestamp.slice(0, 64))} is not an ISO-8601 time`);
  const ageSeconds = (now.getTime() - at.getTime()) / 1000;
  if (ageSeconds > settings.maxAgeSeconds) {
    throw new Rejection(
      'stale_message',
      `the message was sent at ${at.toISOString()}, ${formatSeconds(ageSeconds)} ago; the limit is ${formatSeconds(settings.maxAgeSeconds)} (reactor.max_age_seconds)`,
    );
  }
  if (-ageSeconds > settings.clockSkewSeconds) {
    throw new Rejection(
      'future_message',
      `the message is dated ${at.toISOString()}, ${formatSeconds(-ageSeconds)} ahead of this host's clock; the allowed skew is ${formatSeconds(settings.clockSkewSeconds)} (reactor.clock_skew_seconds)`,
    );
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
  /** Always set for launch and terminate; for the other events only when the message names a valid one. */
  instanceId?: string;
  /** For the error events: AWS's StatusMessage about what failed. */
  description?: string;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const show = (v: unknown) =>
  typeof v === 'string'
    ? JSON.stringify(v.slice(0, 100))
    : v === undefined
      ? 'missing'
      : JSON.stringify(v)?.slice(0, 100);

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
    throw new Rejection(
      'unknown_event',
      `Event is ${show(event)}, not one of ${Object.keys(EVENT_OUTCOMES).join(', ')}`,
    );
  }
  const outcome = EVENT_OUTCOMES[event];
  const group = inner.AutoScalingGroupName;
  if (typeof group !== 'string' || !settings.groups.has(group)) {
    throw new Rejection(
      'unknown_group',
      `AutoScalingGroupName is ${show(group)}, not a group in the config (known: ${[...settings.groups.keys()].join(', ')})`,
    );
  }
  if (inner.AccountId !== topic.account) {
    throw new Rejection(
      'account_mismatch',
      `AccountId is ${show(inner.AccountId)} but the topic belongs to account ${topic.account}`,
    );
  }
  const instanceId = inner.EC2InstanceId;
  const validId = typeof instanceId === 'string' && INSTANCE_ID.test(instanceId) ? instanceId : undefined;
  if (outcome === 'launch' || outcome === 'terminate') {
    // the id becomes a file name (autosign stub) and a glob (wheel.key.delete): nothing else may get there
    if (!validId)
      throw new Rejection(
        'bad_instance_id',
        `EC2InstanceId is ${show(instanceId)}, not an instance id like i-0123456789abcdef0`,
      );
    return { outcome, event, group, instanceId: validId };
  }
  // The error events only raise an alert (a failed launch may name no instance); the test event names none.
  const status = typeof inner.StatusMessage === 'string' && inner.StatusMessage ? inner.StatusMessage : undefined;
  return {
    outcome,
    event,
    group,
    ...(validId ? { instanceId: validId } : {}),
    ...(status && outcome !== 'test_notification' ? { description: status } : {}),
  };
}
