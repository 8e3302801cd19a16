// Shared SNS test vectors: one set of signed messages and expected verdicts for the Python reactor and the
// TypeScript `verify`, built at test time from test/fixtures/sns/cases.json.
//
// Self-contained on purpose (Node built-ins only, no project imports); the bench scripts load it too.
//
// ── Interface ────────────────────────────────────────────────────────────────────────────────────────────
//   const set = await buildVectors();          // ~1 s: runs `openssl` to make keys and certificates
//   set.vectors: Vector[]                      // {name, body (raw HTTP body text), expect, replayOf?, why}
//   set.caFile                                 // test CA (PEM): use as SSL_CERT_FILE / NODE_EXTRA_CA_CERTS
//   set.tls                                    // {certFile, keyFile, certPem, keyPem}: the HTTPS server's identity,
//                                              //   valid for sns.us-east-1.amazonaws.com, issued by the CA
//   set.certs                                  // URL path -> body to serve (valid, expired, garbage); a path not in
//                                              //   it (…-missing.pem) must answer 404. Give it to startCertServer.
//   set.signingCertUrl                         // the URL of the valid signing certificate
//   set.sign(envelope, version?)               // signs an envelope object as SNS does (adds SignatureVersion,
//                                              //   Signature, SigningCertURL): for benches and ad-hoc tests
//   set.notification({...})                    // a signed Notification body for an autoscaling event (benches)
//   await set.cleanup()                        // removes the temp dir
//
// The expected verdicts hold for the config of examples/salt-autoscale.yaml (also in cases.json "config"):
// topic arn:aws:sns:us-east-1:123456789012:salt-autoscale, groups web-asg (salt-cloud) and worker-asg
// (preauth), max_age 3600 s, clock_skew 300 s, and a clock within a few minutes of when the set was built.
//
// Order and state: every case has its own MessageId except the `replayOf` cases, whose body is exactly the
// body of the named (accepted) case. Run all vectors in the listed order against ONE fresh cache dir and every
// verdict holds; or run a single vector in a fresh cache dir, first delivering `replayOf`'s body when set.
//
// ── cases.json ───────────────────────────────────────────────────────────────────────────────────────────
// {name, base, signatureVersion, subject (bool), before?: Op[], after?: Op[], replayOf?, expect, why}
// base: launch | terminate | launch_error | terminate_error | test_notification | subscription_confirmation |
//       unsubscribe_confirmation. `before` ops change the envelope and are then signed; `after` ops change the
//       signed envelope (or the body). Ops:
//   {set: Field, value}          envelope field := value (any JSON)   {delete: Field}
//   {setMessage: Field, value}   inner Message JSON field := value   {deleteMessage: Field}
//   {rawMessage: text}           Message := text (not built from JSON)
//   {shiftTimestamp: seconds}    Timestamp += seconds
//   {cert: expired|garbage|missing}  SigningCertURL := the URL serving that variant
//   {signWith: other}            sign with a key that is not the certificate's (before only)
//   {body: text}                 the whole body := text                {truncate: n} body := first n chars
//   {pad: n}                     add a field "Padding" of n spaces     {padTo: n} pad until the body is n bytes
import { execFile } from 'node:child_process';
import { createHash, sign as cryptoSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:salt-autoscale';
export const ACCOUNT_ID = '123456789012';
export const INSTANCE_ID = 'i-0123456789abcdef0';
/** The instance of the terminate vectors: another one, since the gate refuses a launch after its terminate. */
export const TERMINATED_INSTANCE_ID = 'i-0badc0ffee0ddf00d';
export const SNS_HOST = 'sns.us-east-1.amazonaws.com';
export const CERT_PATH = '/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem';
export const CERT_VARIANT_PATHS = {
  expired: '/SimpleNotificationService-expired.pem',
  garbage: '/SimpleNotificationService-garbage.pem',
  missing: '/SimpleNotificationService-missing.pem',
} as const;
/** Path (and query) of the SubscribeURL in the confirmation vectors; the cert server answers it with 200. */
export const SUBSCRIBE_PATH_PREFIX = '/?Action=ConfirmSubscription';

export type Outcome =
  | 'launch'
  | 'terminate'
  | 'launch_error'
  | 'terminate_error'
  | 'test_notification'
  | 'subscription_confirmation'
  | 'unsubscribe_confirmation';

export type Reason =
  | 'body_too_large'
  | 'not_json'
  | 'bad_envelope'
  | 'unknown_type'
  | 'cert_url_invalid'
  | 'cert_fetch_failed'
  | 'cert_invalid'
  | 'cert_expired'
  | 'bad_signature_version'
  | 'bad_signature'
  | 'unknown_topic'
  | 'bad_timestamp'
  | 'stale_message'
  | 'future_message'
  | 'duplicate_message'
  | 'bad_message_json'
  | 'unknown_event'
  | 'unknown_group'
  | 'account_mismatch'
  | 'bad_instance_id'
  | 'subscribe_url_invalid';

export type Expect = { verdict: 'accepted'; outcome: Outcome } | { verdict: 'rejected'; reason: Reason };

export type Op =
  | { set: string; value: unknown }
  | { delete: string }
  | { setMessage: string; value: unknown }
  | { deleteMessage: string }
  | { rawMessage: string }
  | { shiftTimestamp: number }
  | { cert: 'expired' | 'garbage' | 'missing' }
  | { signWith: 'other' }
  | { body: string }
  | { truncate: number }
  | { pad: number }
  | { padTo: number };

export type Base =
  | 'launch'
  | 'terminate'
  | 'launch_error'
  | 'terminate_error'
  | 'test_notification'
  | 'subscription_confirmation'
  | 'unsubscribe_confirmation';

export interface Case {
  name: string;
  base: Base;
  signatureVersion: string;
  subject: boolean;
  before?: Op[];
  after?: Op[];
  replayOf?: string;
  expect: Expect;
  why: string;
}

export interface Vector {
  name: string;
  /** The raw HTTP body SNS (or an attacker) would POST. */
  body: string;
  expect: Expect;
  /** Deliver this earlier vector's body first (same cache dir) to reproduce a duplicate. */
  replayOf?: string;
  /** The MessageId in the body, when the body has one. */
  messageId?: string;
  /** The EC2 instance id in the Message, when there is one. */
  instanceId?: string;
  why: string;
}

export interface TlsIdentity {
  certFile: string;
  keyFile: string;
  certPem: string;
  keyPem: string;
}

export interface VectorSet {
  dir: string;
  caFile: string;
  tls: TlsIdentity;
  signingCertUrl: string;
  signingKeyPem: string;
  certs: Record<string, string>;
  /** Epoch ms the vectors' timestamps are relative to. */
  now: number;
  vectors: Vector[];
  cases: Case[];
  sign(envelope: Record<string, unknown>, version?: '1' | '2'): Record<string, unknown>;
  notification(opts: {
    event?: string;
    group?: string;
    instanceId?: string;
    messageId?: string;
    timestamp?: Date;
    version?: '1' | '2';
  }): string;
  cleanup(): Promise<void>;
}

export const defaultCasesFile = (): string => fileURLToPath(new URL('../fixtures/sns/cases.json', import.meta.url));

export function loadCases(file = defaultCasesFile()): Case[] {
  return JSON.parse(readFileSync(file, 'utf8')).cases as Case[];
}

/** The canonical string SNS signs: `Name\nvalue\n` for each signed field present, in this order. */
export function canonicalString(env: Record<string, unknown>): string {
  const keys =
    env.Type === 'Notification'
      ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  return keys
    .filter((k) => env[k] !== undefined)
    .map((k) => `${k}\n${String(env[k])}\n`)
    .join('');
}

export function signWithKey(env: Record<string, unknown>, keyPem: string, version: string): string {
  const hash = version === '1' ? 'sha1' : 'sha256';
  return cryptoSign(hash, Buffer.from(canonicalString(env), 'utf8'), keyPem).toString('base64');
}

/** A UUID-shaped id that is stable for a given seed (vectors are reproducible run to run). */
function stableUuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const EVENTS: Record<string, string> = {
  launch: 'autoscaling:EC2_INSTANCE_LAUNCH',
  terminate: 'autoscaling:EC2_INSTANCE_TERMINATE',
  launch_error: 'autoscaling:EC2_INSTANCE_LAUNCH_ERROR',
  terminate_error: 'autoscaling:EC2_INSTANCE_TERMINATE_ERROR',
  test_notification: 'autoscaling:TEST_NOTIFICATION',
};

const iso = (d: Date) => d.toISOString();

/** The inner Message of an Auto Scaling notification, shaped like AWS's. */
export function autoscalingMessage(
  event: string,
  group: string,
  instanceId: string,
  at: Date,
): Record<string, unknown> {
  const asgArn = `arn:aws:autoscaling:us-east-1:${ACCOUNT_ID}:autoScalingGroup:5a8c1c6e-4ff2-4e0d-9b0e-1d2c3b4a5f60:autoScalingGroupName/${group}`;
  if (event === EVENTS.test_notification) {
    return {
      AccountId: ACCOUNT_ID,
      RequestId: stableUuid(`req-${group}`),
      AutoScalingGroupARN: asgArn,
      AutoScalingGroupName: group,
      Service: 'AWS Auto Scaling',
      Event: event,
      Time: iso(at),
    };
  }
  const launch = event.includes('LAUNCH');
  const error = event.endsWith('_ERROR');
  return {
    Origin: launch ? 'EC2' : 'AutoScalingGroup',
    Destination: launch ? 'AutoScalingGroup' : 'EC2',
    Progress: 50,
    AccountId: ACCOUNT_ID,
    Description: `${launch ? 'Launching a new' : 'Terminating'} EC2 instance: ${instanceId}`,
    RequestId: stableUuid(`act-${event}-${instanceId}`),
    EndTime: iso(at),
    AutoScalingGroupARN: asgArn,
    ActivityId: stableUuid(`act-${event}-${instanceId}`),
    StartTime: iso(new Date(at.getTime() - 30_000)),
    Service: 'AWS Auto Scaling',
    Time: iso(at),
    EC2InstanceId: instanceId,
    StatusCode: error ? 'Failed' : 'InProgress',
    StatusMessage: error ? "Instance failed to complete user's Lifecycle Action" : '',
    Details: { 'Subnet ID': 'subnet-0a1b2c3d', 'Availability Zone': 'us-east-1a' },
    AutoScalingGroupName: group,
    Cause:
      'At 2026-01-01T00:00:00Z a user request update of AutoScalingGroup constraints changed the desired capacity.',
    Event: event,
  };
}

function subjectFor(event: string, group: string): string {
  const what: Record<string, string> = {
    [EVENTS.launch]: 'launch',
    [EVENTS.terminate]: 'termination',
    [EVENTS.launch_error]: 'failed launch',
    [EVENTS.terminate_error]: 'failed termination',
    [EVENTS.test_notification]: 'test notification',
  };
  return `Auto Scaling: ${what[event]} for group "${group}"`;
}

/** The unsigned envelope of a base message. */
function baseEnvelope(base: Base, name: string, at: Date, subject: boolean): Record<string, unknown> {
  const messageId = stableUuid(`msg-${name}`);
  if (base === 'subscription_confirmation' || base === 'unsubscribe_confirmation') {
    const token = createHash('sha256').update(`token-${name}`).digest('hex').repeat(4);
    const sub = base === 'subscription_confirmation';
    return {
      Type: sub ? 'SubscriptionConfirmation' : 'UnsubscribeConfirmation',
      MessageId: messageId,
      Token: token,
      TopicArn: TOPIC_ARN,
      Message: sub
        ? `You have chosen to subscribe to the topic ${TOPIC_ARN}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`
        : `You have chosen to deactivate subscription ${TOPIC_ARN}:0b5e4f0c-1d2e-4f3a-8b9c-0d1e2f3a4b5c.\nTo cancel this operation and restore the subscription, visit the SubscribeURL included in this message.`,
      SubscribeURL: `https://${SNS_HOST}${SUBSCRIBE_PATH_PREFIX}&TopicArn=${encodeURIComponent(TOPIC_ARN)}&Token=${token}`,
      Timestamp: iso(at),
    };
  }
  const event = EVENTS[base];
  const env: Record<string, unknown> = {
    Type: 'Notification',
    MessageId: messageId,
    TopicArn: TOPIC_ARN,
    Message: JSON.stringify(
      autoscalingMessage(event, 'web-asg', base.startsWith('terminate') ? TERMINATED_INSTANCE_ID : INSTANCE_ID, at),
    ),
    Timestamp: iso(at),
  };
  if (subject) env.Subject = subjectFor(event, 'web-asg');
  return env;
}

function editMessage(env: Record<string, unknown>, edit: (m: Record<string, unknown>) => void): void {
  const m = JSON.parse(String(env.Message)) as Record<string, unknown>;
  edit(m);
  env.Message = JSON.stringify(m);
}

/** Field order of a real SNS POST body (signature fields after the signed ones). */
function orderFields(env: Record<string, unknown>): Record<string, unknown> {
  const order = [
    'Type',
    'MessageId',
    'Token',
    'TopicArn',
    'Subject',
    'Message',
    'SubscribeURL',
    'Timestamp',
    'SignatureVersion',
    'Signature',
    'SigningCertURL',
    'UnsubscribeURL',
  ];
  const out: Record<string, unknown> = {};
  for (const k of order) if (k in env) out[k] = env[k];
  for (const k of Object.keys(env)) if (!(k in out)) out[k] = env[k];
  return out;
}

interface Keys {
  signing: string;
  other: string;
  certUrl: (variant?: string) => string;
}

function applyEnvelopeOp(env: Record<string, unknown>, op: Op, keys: Keys): void {
  if ('set' in op) env[op.set] = op.value;
  else if ('delete' in op) delete env[op.delete];
  else if ('setMessage' in op)
    editMessage(env, (m) => {
      m[op.setMessage] = op.value;
    });
  else if ('deleteMessage' in op)
    editMessage(env, (m) => {
      delete m[op.deleteMessage];
    });
  else if ('rawMessage' in op) env.Message = op.rawMessage;
  else if ('shiftTimestamp' in op)
    env.Timestamp = iso(new Date(Date.parse(String(env.Timestamp)) + op.shiftTimestamp * 1000));
  else if ('cert' in op) env.SigningCertURL = keys.certUrl(op.cert);
  else if ('signWith' in op) {
    /* handled by the signer */
  } else throw new Error(`op ${JSON.stringify(op)} cannot change an envelope`);
}

function applyBodyOp(body: string, op: Op): string | undefined {
  if ('body' in op) return op.body;
  if ('truncate' in op) return body.slice(0, op.truncate);
  if ('pad' in op) return body.replace(/}\s*$/, `, "Padding": "${' '.repeat(op.pad)}"}`);
  if ('padTo' in op) {
    const base = body.replace(/}\s*$/, ', "Padding": ""}');
    const missing = op.padTo - Buffer.byteLength(base, 'utf8');
    if (missing < 0) throw new Error('padTo is smaller than the message');
    return base.replace(/""}$/, `"${' '.repeat(missing)}"}`);
  }
  return undefined;
}

export function buildVector(c: Case, now: number, keys: Keys, earlier: Map<string, Vector>): Vector {
  if (c.replayOf) {
    const orig = earlier.get(c.replayOf);
    if (!orig) throw new Error(`case ${c.name}: replayOf ${c.replayOf} must name an earlier case`);
    return { ...orig, name: c.name, expect: c.expect, replayOf: c.replayOf, why: c.why };
  }
  const at = new Date(now - 10_000);
  const env = baseEnvelope(c.base, c.name, at, c.subject);
  let key = keys.signing;
  for (const op of c.before ?? []) {
    if ('signWith' in op) key = keys.other;
    else applyEnvelopeOp(env, op, keys);
  }
  env.SignatureVersion = c.signatureVersion;
  if (!('SigningCertURL' in env)) env.SigningCertURL = keys.certUrl();
  env.Signature = signWithKey(env, key, c.signatureVersion);
  if (env.Type === 'Notification') {
    env.UnsubscribeURL = `https://${SNS_HOST}/?Action=Unsubscribe&SubscriptionArn=${encodeURIComponent(TOPIC_ARN)}:0b5e4f0c-1d2e-4f3a-8b9c-0d1e2f3a4b5c`;
  }
  let body: string | undefined;
  for (const op of c.after ?? []) {
    const replaced = body === undefined ? applyBodyOp(JSON.stringify(orderFields(env)), op) : applyBodyOp(body, op);
    if (replaced !== undefined) body = replaced;
    else if (body !== undefined) throw new Error(`case ${c.name}: an envelope op after a body op`);
    else applyEnvelopeOp(env, op, keys);
  }
  body ??= JSON.stringify(orderFields(env));
  let instanceId: string | undefined;
  try {
    const m = JSON.parse(String(env.Message));
    if (m && typeof m.EC2InstanceId === 'string') instanceId = m.EC2InstanceId;
  } catch {
    /* Message not JSON */
  }
  return {
    name: c.name,
    body,
    expect: c.expect,
    why: c.why,
    instanceId,
    messageId: typeof env.MessageId === 'string' ? env.MessageId : undefined,
  };
}

async function openssl(args: string[], cwd: string): Promise<void> {
  await run('openssl', args, { cwd });
}

/** Test CA, TLS identity for the SNS host, signing cert (valid and expired), and a second unrelated key. */
async function makePki(dir: string) {
  const subj = (cn: string) => ['-subj', `/O=salt-autoscale tests/CN=${cn}`];
  await openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '3',
      ...subj('salt-autoscale test CA'),
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  await writeFile(
    join(dir, 'tls.ext'),
    `subjectAltName=DNS:${SNS_HOST},DNS:sns.cn-north-1.amazonaws.com.cn\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`,
  );
  await writeFile(join(dir, 'sign.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n');
  for (const [name, cn, ext] of [
    ['tls', SNS_HOST, 'tls.ext'],
    ['signing', 'sns.amazonaws.com', 'sign.ext'],
  ]) {
    await openssl(
      ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, ...subj(cn)],
      dir,
    );
    await openssl(
      [
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-set_serial',
        String(name === 'tls' ? 2 : 3),
        '-days',
        '3',
        '-sha256',
        '-extfile',
        ext,
        '-out',
        `${name}.pem`,
      ],
      dir,
    );
  }
  // OpenSSL 3.0's x509/req cannot back-date a certificate; `openssl ca` can (-startdate/-enddate).
  await mkdir(join(dir, 'ca-db'));
  await writeFile(join(dir, 'ca-db', 'index.txt'), '');
  await writeFile(join(dir, 'ca-db', 'serial'), '10\n');
  await writeFile(
    join(dir, 'ca.cnf'),
    [
      '[ca]',
      'default_ca = test_ca',
      '[test_ca]',
      'database = ca-db/index.txt',
      'new_certs_dir = ca-db',
      'serial = ca-db/serial',
      'default_md = sha256',
      'policy = any',
      'unique_subject = no',
      'copy_extensions = none',
      '[any]',
      'commonName = supplied',
      'organizationName = optional',
      '',
    ].join('\n'),
  );
  await openssl(
    [
      'ca',
      '-batch',
      '-config',
      'ca.cnf',
      '-cert',
      'ca.pem',
      '-keyfile',
      'ca.key',
      '-in',
      'signing.csr',
      '-startdate',
      '20200101000000Z',
      '-enddate',
      '20200201000000Z',
      '-notext',
      '-extfile',
      'sign.ext',
      '-out',
      'expired.pem',
    ],
    dir,
  );
  // The signing certificate is valid from a day back, so verify --at can judge a message captured hours ago.
  const stamp = (ms: number) => `${new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
  await openssl(
    [
      'ca',
      '-batch',
      '-config',
      'ca.cnf',
      '-cert',
      'ca.pem',
      '-keyfile',
      'ca.key',
      '-in',
      'signing.csr',
      '-startdate',
      stamp(Date.now() - 86_400_000),
      '-enddate',
      stamp(Date.now() + 3 * 86_400_000),
      '-notext',
      '-extfile',
      'sign.ext',
      '-out',
      'signing.pem',
    ],
    dir,
  );
  const read = (f: string) => readFile(join(dir, f), 'utf8');
  return {
    caFile: join(dir, 'ca.pem'),
    tls: {
      certFile: join(dir, 'tls.pem'),
      keyFile: join(dir, 'tls.key'),
      certPem: await read('tls.pem'),
      keyPem: await read('tls.key'),
    },
    signingCert: await read('signing.pem'),
    signingKey: await read('signing.key'),
    expiredCert: await read('expired.pem'),
    otherKey: await read('tls.key'),
  };
}

export async function buildVectors(opts: { now?: number; casesFile?: string } = {}): Promise<VectorSet> {
  const dir = await mkdtemp(join(tmpdir(), 'sns-vectors-'));
  const now = opts.now ?? Date.now();
  const pki = await makePki(dir);
  const url = (path: string) => `https://${SNS_HOST}${path}`;
  const keys: Keys = {
    signing: pki.signingKey,
    other: pki.otherKey,
    certUrl: (variant) => url(variant ? CERT_VARIANT_PATHS[variant as keyof typeof CERT_VARIANT_PATHS] : CERT_PATH),
  };
  const cases = loadCases(opts.casesFile);
  const byName = new Map<string, Vector>();
  const vectors: Vector[] = [];
  for (const c of cases) {
    if (byName.has(c.name)) throw new Error(`duplicate case name ${c.name}`);
    const v = buildVector(c, now, keys, byName);
    byName.set(c.name, v);
    vectors.push(v);
  }
  const sign = (envelope: Record<string, unknown>, version: '1' | '2' = '2') => {
    const env: Record<string, unknown> = {
      ...envelope,
      SignatureVersion: version,
      SigningCertURL: envelope.SigningCertURL ?? keys.certUrl(),
    };
    env.Signature = signWithKey(env, pki.signingKey, version);
    return orderFields(env);
  };
  return {
    dir,
    caFile: pki.caFile,
    tls: pki.tls,
    signingCertUrl: keys.certUrl(),
    signingKeyPem: pki.signingKey,
    certs: {
      [CERT_PATH]: pki.signingCert,
      [CERT_VARIANT_PATHS.expired]: pki.expiredCert,
      [CERT_VARIANT_PATHS.garbage]: 'This is not a certificate.\n',
    },
    now,
    vectors,
    cases,
    sign,
    notification: ({
      event = EVENTS.launch,
      group = 'web-asg',
      instanceId = INSTANCE_ID,
      messageId,
      timestamp,
      version = '2',
    }) => {
      const at = timestamp ?? new Date();
      const env: Record<string, unknown> = {
        Type: 'Notification',
        MessageId: messageId ?? stableUuid(`n-${Math.random()}`),
        TopicArn: TOPIC_ARN,
        Subject: subjectFor(event, group),
        Message: JSON.stringify(autoscalingMessage(event, group, instanceId, at)),
        Timestamp: iso(at),
      };
      return JSON.stringify(sign(env, version));
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
