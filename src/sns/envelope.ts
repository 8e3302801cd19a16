// Step 1: the SNS envelope. Pure: raw text in, a typed envelope or a Rejection out.
import { Rejection } from './codes.js';

/** SNS messages are at most 256 KiB; anything larger is refused before any parsing. */
export const MAX_BODY_BYTES = 256 * 1024;

export type EnvelopeType = 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';

const SIGNING_FIELDS = ['Signature', 'SignatureVersion', 'SigningCertURL'] as const;

/** The fields each Type must carry as strings (Subject is optional, but a string when present). */
export const REQUIRED_FIELDS: Readonly<Record<EnvelopeType, readonly string[]>> = {
  Notification: ['Message', 'MessageId', 'Timestamp', 'TopicArn', 'Type', ...SIGNING_FIELDS],
  SubscriptionConfirmation: [
    'Message',
    'MessageId',
    'SubscribeURL',
    'Timestamp',
    'Token',
    'TopicArn',
    'Type',
    ...SIGNING_FIELDS,
  ],
  UnsubscribeConfirmation: [
    'Message',
    'MessageId',
    'SubscribeURL',
    'Timestamp',
    'Token',
    'TopicArn',
    'Type',
    ...SIGNING_FIELDS,
  ],
};

export interface Envelope {
  Type: EnvelopeType;
  /** Every field of the object whose value is a string (the required ones are guaranteed). */
  fields: Readonly<Record<string, string>>;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Size of the body as it travelled over the wire (UTF-8 bytes). */
export function bodyBytes(body: string | Uint8Array): number {
  return typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.byteLength;
}

/** Parses and checks the envelope; throws a Rejection (body_too_large, not_json, bad_envelope, unknown_type). */
export function parseEnvelope(body: string): Envelope {
  const size = bodyBytes(body);
  if (size > MAX_BODY_BYTES) {
    throw new Rejection(
      'body_too_large',
      `the body is ${size} bytes, more than the ${MAX_BODY_BYTES} bytes SNS ever sends`,
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch (err) {
    // V8's message quotes the input; keep only its first words, escaped (the sender controls that text)
    throw new Rejection('not_json', `the body is not JSON (${JSON.stringify((err as Error).message.slice(0, 80))})`);
  }
  if (!isPlainObject(data)) {
    throw new Rejection(
      'bad_envelope',
      `the body is JSON but not an object (it is ${Array.isArray(data) ? 'a list' : data === null ? 'null' : typeof data})`,
    );
  }
  const type = data.Type;
  if (typeof type !== 'string') {
    throw new Rejection(
      'bad_envelope',
      type === undefined ? 'the field Type is missing' : 'the field Type is not a string',
    );
  }
  if (!Object.hasOwn(REQUIRED_FIELDS, type)) {
    throw new Rejection(
      'unknown_type',
      `Type is ${JSON.stringify(type.slice(0, 64))}, not Notification, SubscriptionConfirmation or UnsubscribeConfirmation`,
    );
  }
  const envelopeType = type as EnvelopeType;
  for (const name of REQUIRED_FIELDS[envelopeType]) {
    const value = data[name];
    if (value === undefined)
      throw new Rejection('bad_envelope', `the field ${name} is missing (a ${envelopeType} always has it)`);
    if (typeof value !== 'string')
      throw new Rejection('bad_envelope', `the field ${name} is ${describe(value)}, not a string`);
  }
  // Subject is optional, but when the key is there it must be a string (null included), whatever the Type.
  if (Object.hasOwn(data, 'Subject') && typeof data.Subject !== 'string') {
    throw new Rejection('bad_envelope', `the field Subject is ${describe(data.Subject)}, not a string`);
  }
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(data)) if (typeof v === 'string') fields[k] = v;
  return { Type: envelopeType, fields };
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
}
