// The decision: the checks of DESIGN.md "The reactor is the only gate", steps 1-8 in that order, each failure
// a Rejection with its contract reason code. I/O (certificates, the handled-message record, the clock) comes
// in through `VerifyDeps`, so this file is the whole rule book and the tests can drive it directly.
import type { X509Certificate } from 'node:crypto';
import { checkCertUrl, checkSubscribeUrl } from './cert-url.js';
import { type Outcome, REMEDIES, type Reason, Rejection } from './codes.js';
import { MAX_BODY_BYTES, parseEnvelope } from './envelope.js';
import { checkAutoScalingMessage, checkTimestamp, checkTopic } from './policy.js';
import { type Action, notificationReaction, subscriptionReaction } from './reaction.js';
import type { VerifySettings } from './settings.js';
import { checkCertificateDates, checkSignature } from './signature.js';

export interface VerifyDeps {
  now(): Date;
  /**
   * The signing certificate at an already-checked URL, valid at `now` when it comes from a cache (an expired
   * cached copy is fetched again); throws cert_fetch_failed / cert_invalid Rejections.
   */
  certificate(url: string, now: Date): Promise<X509Certificate>;
  /** Set when the reactor already handled this MessageId (with when, if known). */
  handled(messageId: string): { at?: Date } | undefined;
}

interface Common {
  explanation: string;
  messageId?: string;
  topicArn?: string;
}
export interface Accepted extends Common {
  verdict: 'accepted';
  outcome: Outcome;
  reaction: Action[];
}
export interface Rejected extends Common {
  verdict: 'rejected';
  reason: Reason;
  /** What to do about it. */
  remedy: string;
  /** A rejection reacts with nothing (the reactor logs one WARNING line). */
  reaction: [];
}
export type Verdict = Accepted | Rejected;

/** Judges one raw SNS body the way the reactor does. Never throws for a bad message: it returns a verdict. */
export async function verifyMessage(body: string, settings: VerifySettings, deps: VerifyDeps): Promise<Verdict> {
  const seen: Common = { explanation: '' };
  try {
    const envelope = parseEnvelope(body);
    const f = envelope.fields;
    seen.messageId = f.MessageId;
    seen.topicArn = f.TopicArn;

    const now = deps.now();
    const certUrl = checkCertUrl(f.SigningCertURL); // 2
    const cert = await deps.certificate(f.SigningCertURL, now); // 3
    checkCertificateDates(cert, now);
    checkSignature(envelope, cert); // 4: the version first, then the signature
    const topic = checkTopic(f.TopicArn, settings); // 5
    checkTimestamp(f.Timestamp, now, settings); // 6
    const handled = deps.handled(f.MessageId); // 7
    if (handled) {
      const when = handled.at ? ` (at ${handled.at.toISOString()})` : '';
      throw new Rejection('duplicate_message', `MessageId ${f.MessageId} was already handled by the reactor${when}`);
    }
    const markHandled: Action = { action: 'mark_handled', messageId: f.MessageId };
    const signed = `signed by ${certUrl.host} (SignatureVersion ${f.SignatureVersion})`;

    if (envelope.Type === 'Notification') {
      // 8
      const event = checkAutoScalingMessage(f.Message, topic, settings);
      const what = event.instanceId
        ? `${event.event} for ${event.instanceId} in group ${event.group}`
        : `${event.event} for group ${event.group}`;
      return {
        verdict: 'accepted',
        outcome: event.outcome,
        ...seen,
        explanation: `${what}, ${signed}, from trusted topic ${f.TopicArn}`,
        reaction: [...notificationReaction(event, settings), markHandled],
      };
    }
    if (envelope.Type === 'SubscriptionConfirmation') {
      checkSubscribeUrl(f.SubscribeURL, topic.region);
      return {
        verdict: 'accepted',
        outcome: 'subscription_confirmation',
        ...seen,
        explanation: `a subscription confirmation for trusted topic ${f.TopicArn}, ${signed}`,
        reaction: [
          ...subscriptionReaction('subscription_confirmation', f.SubscribeURL, f.TopicArn, settings),
          markHandled,
        ],
      };
    }
    return {
      verdict: 'accepted',
      outcome: 'unsubscribe_confirmation',
      ...seen,
      explanation: `an unsubscribe confirmation for trusted topic ${f.TopicArn}, ${signed}`,
      reaction: [
        ...subscriptionReaction('unsubscribe_confirmation', f.SubscribeURL, f.TopicArn, settings),
        markHandled,
      ],
    };
  } catch (err) {
    if (!(err instanceof Rejection)) throw err;
    return {
      verdict: 'rejected',
      reason: err.reason,
      ...seen,
      explanation: err.detail,
      remedy: REMEDIES[err.reason],
      reaction: [],
    };
  }
}

/** The verdict for a body too large to read into memory (checked before anything else, like the reactor). */
export function oversizedVerdict(size: number): Rejected {
  return {
    verdict: 'rejected',
    reason: 'body_too_large',
    reaction: [],
    remedy: REMEDIES.body_too_large,
    explanation: `the body is ${size} bytes or more, more than the ${MAX_BODY_BYTES} bytes SNS ever sends`,
  };
}
