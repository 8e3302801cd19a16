// Unit tests of verify's pure rules: the certificate/subscribe URL table, the canonical string, signatures
// made in the test with v1 and v2, timestamps, the inner Auto Scaling message, and the reaction per group mode.
import { execFileSync } from 'node:child_process';
import { sign, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../src/config/load.js';
import { checkCertUrl, checkSubscribeUrl } from '../src/sns/cert-url.js';
import { Rejection } from '../src/sns/codes.js';
import { type Envelope, MAX_BODY_BYTES, parseEnvelope } from '../src/sns/envelope.js';
import { proxyFor } from '../src/sns/fetch-cert.js';
import { checkAutoScalingMessage, checkTimestamp, parseTimestamp } from '../src/sns/policy.js';
import { describeAction, notificationReaction } from '../src/sns/reaction.js';
import { verifySettings } from '../src/sns/settings.js';
import { canonicalString, checkCertificateDates, checkSignature } from '../src/sns/signature.js';

const EXAMPLE = 'examples/salt-autoscale.yaml';
const exampleText = readFileSync(EXAMPLE, 'utf8');
const settings = verifySettings(parseConfigText(exampleText, EXAMPLE).config);
const TOPIC = { region: 'us-east-1', account: '123456789012' };

/** The reason code a check throws, or 'ok'. */
function reasonOf(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof Rejection) return err.reason;
    throw err;
  }
}

describe('SigningCertURL rules', () => {
  const table: [string, string][] = [
    ['https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem', 'ok'],
    ['https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-abc.pem', 'ok'],
    ['https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem', 'ok'],
    ['https://sns.us-gov-west-1.amazonaws.com/SimpleNotificationService-abc.pem', 'ok'],
    ['https://sns.us-isob-east-1.amazonaws.com/SimpleNotificationService-abc.pem', 'ok'],
    ['http://sns.us-east-1.amazonaws.com/SimpleNotificationService.pem', 'cert_url_invalid'],
    ['https://attacker.s3.amazonaws.com/SimpleNotificationService.pem', 'cert_url_invalid'],
    ['https://s3.amazonaws.com/attacker/SimpleNotificationService.pem', 'cert_url_invalid'],
    ['https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService.pem', 'cert_url_invalid'],
    ['https://sns.us-east-1.amazonaws.com@evil.example/x.pem', 'cert_url_invalid'],
    ['https://user:pw@sns.us-east-1.amazonaws.com/x.pem', 'cert_url_invalid'],
    ['https://sns.us-east-1.amazonaws.com\\@evil.example/x.pem', 'cert_url_invalid'],
    ['https://sns.us-east-1.amazonaws.com:443/x.pem', 'cert_url_invalid'],
    ['https://sns.us-east-1.amazonaws.com:8443/x.pem', 'cert_url_invalid'],
    ['https://sns.us-east-1.amazonaws.com/SimpleNotificationService.txt', 'cert_url_invalid'],
    ['https://sns.us-east-1.amazonaws.com/a%2F..%2Fx.pem', 'cert_url_invalid'],
    ['https://sns.us-east-1.amazonaws.com/@evil.example/x.pem', 'cert_url_invalid'],
    ['https://sns.us-east-1.amazonaws.com/x.pem\n', 'cert_url_invalid'],
    ['https://sns.us-east-1.amazonaws.com/', 'cert_url_invalid'],
    ['https://sns.us-east-1.amazonaws.com', 'cert_url_invalid'],
    ['https://sns.us-east-1.amazonaws.com/x.pem?download=1', 'cert_url_invalid'],
    ['https://sns.us-east-1.amazonaws.com/x.pem#frag', 'cert_url_invalid'],
    ['https://sns.evil.amazonaws.com/x.pem', 'cert_url_invalid'],
    ['https://sns.amazonaws.com/x.pem', 'cert_url_invalid'],
    ['https://SNS.US-EAST-1.AMAZONAWS.COM/x.pem', 'cert_url_invalid'],
    ['https://sns.us-east-1.amazonaws.com./x.pem', 'cert_url_invalid'],
    ['https://sns.us-east-1.amazonaws.com%2eevil.example/x.pem', 'cert_url_invalid'],
    ['https://sns.us-east-1.amazonaws.com\t.evil.example/x.pem', 'cert_url_invalid'],
    ['//sns.us-east-1.amazonaws.com/x.pem', 'cert_url_invalid'],
    ['', 'cert_url_invalid'],
  ];
  it.each(table)('%s -> %s', (url, expected) => {
    expect(reasonOf(() => checkCertUrl(url))).toBe(expected);
  });
});

describe('SubscribeURL rules', () => {
  const ok =
    'https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3At&Token=abc';
  it.each([
    [ok, 'ok'],
    [ok.replace('us-east-1.', 'eu-west-1.'), 'subscribe_url_invalid'],
    [ok.replace('https:', 'http:'), 'subscribe_url_invalid'],
    [ok.replace('amazonaws.com/', 'amazonaws.com:444/'), 'subscribe_url_invalid'],
    [ok.replace('sns.', 'x@sns.'), 'subscribe_url_invalid'],
    ['https://evil.example/?Action=ConfirmSubscription', 'subscribe_url_invalid'],
    ['https://sns.us-east-1.amazonaws.com', 'subscribe_url_invalid'],
    [`${ok}#x`, 'subscribe_url_invalid'],
    [`${ok}\u00e9`, 'subscribe_url_invalid'],
    [`${ok} `, 'subscribe_url_invalid'],
  ])('%s -> %s', (url, expected) => {
    expect(reasonOf(() => checkSubscribeUrl(url, 'us-east-1'))).toBe(expected);
  });
});

describe('envelope', () => {
  const notification = {
    Type: 'Notification',
    MessageId: 'm',
    TopicArn: 't',
    Message: '{}',
    Timestamp: 'x',
    SignatureVersion: '2',
    Signature: 's',
    SigningCertURL: 'u',
  };
  it('measures the size in UTF-8 bytes: 256 KiB passes, one byte more does not', () => {
    const base = JSON.stringify({ ...notification, Padding: '' });
    const room = MAX_BODY_BYTES - Buffer.byteLength(base);
    // 'é' is two bytes: a body that counts fewer characters than bytes
    const body = (bytes: number) =>
      base.replace('"Padding":""', `"Padding":"${'é'.repeat(Math.floor(bytes / 2))}${' '.repeat(bytes % 2)}"`);
    expect(Buffer.byteLength(body(room))).toBe(MAX_BODY_BYTES);
    expect(reasonOf(() => parseEnvelope(body(room)))).toBe('ok');
    expect(body(room + 1).length).toBeLessThan(MAX_BODY_BYTES);
    expect(reasonOf(() => parseEnvelope(body(room + 1)))).toBe('body_too_large');
  });
  it.each([
    ['not json', 'not_json'],
    ['null', 'bad_envelope'],
    ['[]', 'bad_envelope'],
    [JSON.stringify({ ...notification, Type: 'Weird' }), 'unknown_type'],
    [JSON.stringify({ ...notification, Type: '__proto__' }), 'unknown_type'],
    [JSON.stringify({ ...notification, Subject: null }), 'bad_envelope'],
    [JSON.stringify({ ...notification, Subject: ['a'] }), 'bad_envelope'],
    [JSON.stringify({ ...notification, Signature: null }), 'bad_envelope'],
    [JSON.stringify({ ...notification, Type: 'SubscriptionConfirmation' }), 'bad_envelope'],
    [
      JSON.stringify({ ...notification, Type: 'UnsubscribeConfirmation', SubscribeURL: 'u', Token: 't', Subject: 1 }),
      'bad_envelope',
    ],
    [JSON.stringify(notification), 'ok'],
  ])('%s -> %s', (body, expected) => {
    expect(reasonOf(() => parseEnvelope(body))).toBe(expected);
  });
});

describe('canonical string', () => {
  const env = (fields: Record<string, string>): Envelope => ({ Type: fields.Type as Envelope['Type'], fields });
  const base = {
    Type: 'Notification',
    MessageId: 'id-1',
    TopicArn: 'arn:t',
    Message: 'hello\nworld',
    Timestamp: '2026-01-01T00:00:00.000Z',
    SignatureVersion: '2',
    Signature: 'x',
    SigningCertURL: 'u',
    UnsubscribeURL: 'https://unsub',
  };
  it('signs a Notification without Subject as five fields (never an empty Subject)', () => {
    expect(canonicalString(env(base))).toBe(
      'Message\nhello\nworld\nMessageId\nid-1\nTimestamp\n2026-01-01T00:00:00.000Z\nTopicArn\narn:t\nType\nNotification\n',
    );
  });
  it('places Subject between MessageId and Timestamp when present', () => {
    expect(canonicalString(env({ ...base, Subject: 'S' }))).toBe(
      'Message\nhello\nworld\nMessageId\nid-1\nSubject\nS\nTimestamp\n2026-01-01T00:00:00.000Z\nTopicArn\narn:t\nType\nNotification\n',
    );
  });
  it('signs a confirmation with SubscribeURL and Token, and ignores a Subject', () => {
    const c = {
      ...base,
      Type: 'SubscriptionConfirmation',
      SubscribeURL: 'https://s',
      Token: 'tok',
      Subject: 'ignored',
    };
    expect(canonicalString(env(c))).toBe(
      'Message\nhello\nworld\nMessageId\nid-1\nSubscribeURL\nhttps://s\nTimestamp\n2026-01-01T00:00:00.000Z\nToken\ntok\nTopicArn\narn:t\nType\nSubscriptionConfirmation\n',
    );
  });
});

describe('signatures made in the test', () => {
  let dir: string;
  let rsaCert: X509Certificate;
  let rsaKey: string;
  let ecCert: X509Certificate;
  let ecKey: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'verify-rules-'));
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'rsa.key',
      '-out',
      'rsa.pem',
      '-days',
      '2',
      '-subj',
      '/CN=sns.amazonaws.com',
    );
    openssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'ec.key',
      '-out',
      'ec.pem',
      '-days',
      '2',
      '-subj',
      '/CN=sns.amazonaws.com',
    );
    rsaCert = new X509Certificate(readFileSync(join(dir, 'rsa.pem')));
    rsaKey = readFileSync(join(dir, 'rsa.key'), 'utf8');
    ecCert = new X509Certificate(readFileSync(join(dir, 'ec.pem')));
    ecKey = readFileSync(join(dir, 'ec.key'), 'utf8');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const signed = (version: string, key: () => string, fields: Record<string, string> = {}): Envelope => {
    const f: Record<string, string> = {
      Type: 'Notification',
      MessageId: 'id-1',
      TopicArn: 'arn:t',
      Message: '{"a":"é"}',
      Timestamp: '2026-01-01T00:00:00.000Z',
      Subject: 'Auto Scaling: launch',
      SignatureVersion: version,
      SigningCertURL: 'u',
      ...fields,
    };
    const e: Envelope = { Type: 'Notification', fields: f };
    const digest = version === '1' ? 'sha1' : 'sha256';
    f.Signature = sign(digest, Buffer.from(canonicalString(e)), key()).toString('base64');
    return e;
  };

  it('accepts v1 (SHA1withRSA) and v2 (SHA256withRSA) signatures by the certificate key', () => {
    expect(
      reasonOf(() =>
        checkSignature(
          signed('1', () => rsaKey),
          rsaCert,
        ),
      ),
    ).toBe('ok');
    expect(
      reasonOf(() =>
        checkSignature(
          signed('2', () => rsaKey),
          rsaCert,
        ),
      ),
    ).toBe('ok');
  });
  it('refuses a v2 signature relabelled as v1, a changed field, an unknown version and a non-RSA key', () => {
    const v2 = signed('2', () => rsaKey);
    expect(reasonOf(() => checkSignature({ ...v2, fields: { ...v2.fields, SignatureVersion: '1' } }, rsaCert))).toBe(
      'bad_signature',
    );
    expect(reasonOf(() => checkSignature({ ...v2, fields: { ...v2.fields, Message: '{"a":"e"}' } }, rsaCert))).toBe(
      'bad_signature',
    );
    const v3 = signed('2', () => rsaKey, { SignatureVersion: '3' });
    expect(reasonOf(() => checkSignature(v3, rsaCert))).toBe('bad_signature_version');
    expect(
      reasonOf(() =>
        checkSignature(
          signed('2', () => ecKey),
          ecCert,
        ),
      ),
    ).toBe('bad_signature');
  });
  it('refuses a signed field that is not valid Unicode (a lone surrogate), even when signed as U+FFFD', () => {
    expect(
      reasonOf(() =>
        checkSignature(
          signed('2', () => rsaKey, { Subject: 'x \ud800' }),
          rsaCert,
        ),
      ),
    ).toBe('bad_signature');
    expect(
      reasonOf(() =>
        checkSignature(
          signed('2', () => rsaKey, { Subject: 'x \ud83d\ude00' }),
          rsaCert,
        ),
      ),
    ).toBe('ok');
  });
  it('decodes Signature as strict base64, as the reactor does (no line breaks, right padding)', () => {
    const v2 = signed('2', () => rsaKey);
    const sig = v2.fields.Signature;
    const variant = (Signature: string) => ({ ...v2, fields: { ...v2.fields, Signature } });
    expect(reasonOf(() => checkSignature(variant(`${sig.slice(0, 64)}\n${sig.slice(64)}`), rsaCert))).toBe(
      'bad_signature',
    );
    expect(reasonOf(() => checkSignature(variant(sig.replace(/=+$/, '')), rsaCert))).toBe(
      sig.endsWith('=') ? 'bad_signature' : 'ok',
    );
    expect(reasonOf(() => checkSignature(variant(sig), rsaCert))).toBe('ok');
  });
  it('checks the validity dates against the given clock', () => {
    const from = Date.parse(rsaCert.validFrom);
    const to = Date.parse(rsaCert.validTo);
    expect(reasonOf(() => checkCertificateDates(rsaCert, new Date(from + 1000)))).toBe('ok');
    expect(reasonOf(() => checkCertificateDates(rsaCert, new Date(from - 1000)))).toBe('cert_expired');
    expect(reasonOf(() => checkCertificateDates(rsaCert, new Date(to + 1000)))).toBe('cert_expired');
  });
});

describe('timestamps', () => {
  it.each([
    ['2026-01-01T12:00:00.000Z', true],
    ['2026-01-01T12:00:00Z', true],
    ['2026-01-01T12:00:00.123456+02:00', true],
    ['2026-01-01T12:00:00.000', false],
    ['2026-02-30T12:00:00.000Z', false],
    ['2026-01-01T24:00:00.000Z', false],
    ['2024-02-29T00:00:00Z', true],
    ['2100-02-29T00:00:00Z', false],
    ['0000-01-01T00:00:00Z', false],
    ['0050-01-01T00:00:00Z', true],
    ['2026-01-01T12:00:00+24:00', false],
    ['2026-01-01T12:00:00.0000000001Z', false],
    ['2026-01-01 12:00:00Z', false],
    ['yesterday', false],
    ['1767268800', false],
  ])('%s parses: %s', (text, ok) => {
    expect(parseTimestamp(text) !== undefined).toBe(ok);
  });
  it('rejects beyond max_age as stale and beyond clock_skew as future', () => {
    const now = new Date('2026-06-01T12:00:00.000Z');
    const at = (s: number) => new Date(now.getTime() + s * 1000).toISOString();
    expect(reasonOf(() => checkTimestamp(at(-3599), now, settings))).toBe('ok');
    expect(reasonOf(() => checkTimestamp(at(-3601), now, settings))).toBe('stale_message');
    expect(reasonOf(() => checkTimestamp(at(299), now, settings))).toBe('ok');
    expect(reasonOf(() => checkTimestamp(at(301), now, settings))).toBe('future_message');
  });
});

describe('the Auto Scaling message', () => {
  const msg = (fields: Record<string, unknown>) =>
    JSON.stringify({
      Event: 'autoscaling:EC2_INSTANCE_LAUNCH',
      AutoScalingGroupName: 'web-asg',
      AccountId: '123456789012',
      EC2InstanceId: 'i-0123456789abcdef0',
      ...fields,
    });
  it.each([
    [msg({}), 'ok'],
    [msg({ Event: 'autoscaling:TEST_NOTIFICATION', EC2InstanceId: undefined }), 'ok'],
    ['"just a string"', 'bad_message_json'],
    [msg({ Event: 'constructor' }), 'unknown_event'],
    [msg({ Event: 'toString' }), 'unknown_event'],
    [msg({ AutoScalingGroupName: '__proto__' }), 'unknown_group'],
    [msg({ AutoScalingGroupName: ['web-asg'] }), 'unknown_group'],
    [msg({ AccountId: 123456789012 }), 'account_mismatch'],
    [msg({ EC2InstanceId: 'i-0123456789abcdef0 ' }), 'bad_instance_id'],
    [msg({ Event: 'autoscaling:EC2_INSTANCE_TERMINATE', EC2InstanceId: '' }), 'bad_instance_id'],
    // a failed launch may name no instance: it only raises an alert, so it is accepted (as the reactor does)
    [msg({ Event: 'autoscaling:EC2_INSTANCE_LAUNCH_ERROR', EC2InstanceId: '' }), 'ok'],
  ])('%s -> %s', (message, expected) => {
    expect(reasonOf(() => checkAutoScalingMessage(message, TOPIC, settings))).toBe(expected);
  });
});

describe('reaction', () => {
  it('runs cloud.create with the salt-cloud group settings, and writes a stub for a preauth group', () => {
    const id = 'i-0123456789abcdef0';
    expect(
      notificationReaction(
        { outcome: 'launch', event: 'autoscaling:EC2_INSTANCE_LAUNCH', group: 'web-asg', instanceId: id },
        settings,
      ),
    ).toEqual([
      {
        action: 'runner',
        fun: 'cloud.create',
        kwargs: {
          provider: 'ec2-autoscale',
          instances: id,
          instance_id: id,
          ssh_username: 'ec2-user',
          minion: { master: 'salt.example.com', grains: { role: 'web' }, startup_states: 'highstate' },
        },
      },
    ]);
    const custom = verifySettings(
      parseConfigText(exampleText.replace('# pki_dir: /etc/salt/pki/master', 'pki_dir: /srv/pki'), EXAMPLE).config,
    );
    expect(
      notificationReaction(
        { outcome: 'launch', event: 'autoscaling:EC2_INSTANCE_LAUNCH', group: 'worker-asg', instanceId: id },
        custom,
      ),
    ).toEqual([{ action: 'write_autosign_stub', path: `/srv/pki/minions_autosign/${id}` }]);
    // The schema refuses such settings; the reaction must hold even for settings that bypassed it.
    const bypassed = parseConfigText(exampleText, EXAMPLE).config;
    bypassed.groups['web-asg'].settings = {
      instance_id: '*',
      __pub_user: 'x',
      opts: { deploy: false },
      size: 't3.micro',
    };
    const overriding = verifySettings(bypassed);
    expect(
      notificationReaction(
        { outcome: 'launch', event: 'autoscaling:EC2_INSTANCE_LAUNCH', group: 'web-asg', instanceId: id },
        overriding,
      )[0],
    ).toMatchObject({ kwargs: { instance_id: id, instances: id, size: 't3.micro' } });
    expect(
      notificationReaction(
        { outcome: 'launch', event: 'autoscaling:EC2_INSTANCE_LAUNCH', group: 'web-asg', instanceId: id },
        overriding,
      )[0],
    ).not.toHaveProperty('kwargs.opts');
    expect(
      notificationReaction(
        { outcome: 'terminate', event: 'autoscaling:EC2_INSTANCE_TERMINATE', group: 'worker-asg', instanceId: id },
        settings,
      ),
    ).toEqual([
      { action: 'remove_autosign_stub', path: `/etc/salt/pki/master/minions_autosign/${id}` },
      { action: 'wheel', fun: 'key.delete', kwargs: { match: id } },
    ]);
  });
});

describe('describing actions', () => {
  it('shows only the start of a subscription token to people', () => {
    const line = describeAction({
      action: 'confirm_subscription',
      url: 'https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=abcdefgh12345678&TopicArn=t',
    });
    expect(line).toBe(
      'confirm the subscription (GET https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=abcdefgh...&TopicArn=t)',
    );
  });
});

describe('proxy selection', () => {
  const host = 'sns.us-east-1.amazonaws.com';
  it('uses https_proxy (or HTTPS_PROXY) unless no_proxy names the host or a parent domain', () => {
    expect(proxyFor(host, {})).toBeUndefined();
    expect(proxyFor(host, { https_proxy: 'http://127.0.0.1:3128' })).toEqual({ host: '127.0.0.1', port: 3128 });
    expect(proxyFor(host, { HTTPS_PROXY: 'proxy.internal:8080' })).toEqual({ host: 'proxy.internal', port: 8080 });
    expect(proxyFor(host, { https_proxy: 'http://u:p%40ss@proxy:3128' })).toEqual({
      host: 'proxy',
      port: 3128,
      auth: 'u:p@ss',
    });
    expect(proxyFor(host, { https_proxy: 'http://proxy:3128', no_proxy: 'localhost,.amazonaws.com' })).toBeUndefined();
    expect(proxyFor(host, { https_proxy: 'http://proxy:3128', no_proxy: '*' })).toBeUndefined();
    expect(proxyFor(host, { https_proxy: 'http://proxy:3128', no_proxy: 'example.com' })).toEqual({
      host: 'proxy',
      port: 3128,
    });
    expect(reasonOf(() => proxyFor(host, { https_proxy: 'socks5://proxy:1080' }))).toBe('cert_fetch_failed');
  });
});
