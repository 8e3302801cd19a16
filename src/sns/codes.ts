// The reason codes and outcomes shared with the Python reactor (see the SNS contract): the strings are part of
// the interface (logs, --json, the vector tests), so they are spelled exactly once, here.

export const REASONS = [
  'body_too_large',
  'not_json',
  'bad_envelope',
  'unknown_type',
  'cert_url_invalid',
  'cert_fetch_failed',
  'cert_invalid',
  'cert_expired',
  'bad_signature_version',
  'bad_signature',
  'unknown_topic',
  'bad_timestamp',
  'stale_message',
  'future_message',
  'duplicate_message',
  'bad_message_json',
  'unknown_event',
  'unknown_group',
  'account_mismatch',
  'bad_instance_id',
  'subscribe_url_invalid',
] as const;
export type Reason = (typeof REASONS)[number];

export const OUTCOMES = [
  'launch',
  'terminate',
  'launch_error',
  'terminate_error',
  'test_notification',
  'subscription_confirmation',
  'unsubscribe_confirmation',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Auto Scaling notification events the reactor knows, and the outcome each leads to. */
export const EVENT_OUTCOMES: Readonly<Record<string, Outcome>> = Object.freeze({
  'autoscaling:EC2_INSTANCE_LAUNCH': 'launch',
  'autoscaling:EC2_INSTANCE_TERMINATE': 'terminate',
  'autoscaling:EC2_INSTANCE_LAUNCH_ERROR': 'launch_error',
  'autoscaling:EC2_INSTANCE_TERMINATE_ERROR': 'terminate_error',
  'autoscaling:TEST_NOTIFICATION': 'test_notification',
});

/** A failed check: its code and a sentence about this message (no secret, no raw body). */
export class Rejection extends Error {
  constructor(
    readonly reason: Reason,
    readonly detail: string,
  ) {
    super(`${reason}: ${detail}`);
    this.name = 'Rejection';
  }
}

/** What an operator should do about each reason: printed after the detail. */
export const REMEDIES: Readonly<Record<Reason, string>> = Object.freeze({
  body_too_large: 'SNS messages are at most 256 KiB; this is not an SNS delivery (or it was captured with extra data).',
  not_json: 'Pass the raw HTTP body that SNS posted (a JSON object), not a log line or an email.',
  bad_envelope:
    'The message lacks a field SNS always sends, or a field is not a string: capture the raw body again, unedited.',
  unknown_type: 'Only Notification, SubscriptionConfirmation and UnsubscribeConfirmation come from SNS.',
  cert_url_invalid:
    'Genuine SNS messages name a certificate at https://sns.<region>.amazonaws.com/...pem; anything else is forged or tampered with.',
  cert_fetch_failed:
    'Check that this host reaches https://sns.<region>.amazonaws.com (DNS, firewall, https_proxy, CA bundle in SSL_CERT_FILE), then retry.',
  cert_invalid:
    'The signing certificate URL did not serve an X.509 PEM certificate; retry later, or treat the message as forged.',
  cert_expired:
    "The signing certificate is outside its validity dates: check this host's clock; an old capture cannot be verified any more.",
  bad_signature_version:
    "SNS signs with SignatureVersion 1 (SHA1) or 2 (SHA256); set the topic's SignatureVersion to 2.",
  bad_signature:
    'The signature does not match the content: the message was changed after SNS signed it (even whitespace inside a value counts) or it is forged.',
  unknown_topic:
    'Only the topics in sns.topic_arn / sns.extra_topic_arns are trusted; if this topic is yours, add it there and run `salt-autoscale render` again.',
  bad_timestamp: 'SNS timestamps are ISO-8601 (e.g. 2026-01-01T12:00:00.000Z); the message was altered.',
  stale_message:
    "The reactor refuses messages older than reactor.max_age_seconds (replay protection); check the master's clock, or raise the limit.",
  future_message:
    "The message is dated in the future beyond reactor.clock_skew_seconds: check this host's clock (NTP).",
  duplicate_message:
    'SNS delivers at least once; the reactor already handled this MessageId and ignores repeats. Nothing to do.',
  bad_message_json:
    'An Auto Scaling notification carries a JSON object in Message; this one does not come from Auto Scaling.',
  unknown_event:
    'Only EC2_INSTANCE_LAUNCH, _TERMINATE, _LAUNCH_ERROR, _TERMINATE_ERROR and TEST_NOTIFICATION are handled.',
  unknown_group:
    'Add the group under groups: in salt-autoscale.yaml and run `salt-autoscale render` again, or remove its notification.',
  account_mismatch:
    'The AccountId inside the message must be the account that owns the topic; the message was forged or altered.',
  bad_instance_id:
    'Instance ids look like i-0123456789abcdef0; anything else (a glob such as *) is refused so it can never reach a key delete.',
  subscribe_url_invalid:
    "A genuine SubscribeURL is https://sns.<region>.amazonaws.com/?Action=ConfirmSubscription... in the topic's region; this one is not.",
});
