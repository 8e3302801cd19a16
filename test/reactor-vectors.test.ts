// The shared vectors themselves: they must be what they claim to be, independently of either verifier.
import { verify, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { buildVectors, CERT_PATH, canonicalString, type VectorSet } from './helpers/sns-vectors.js';

let set: VectorSet;
beforeAll(async () => {
  set = await buildVectors();
});
afterAll(async () => {
  await set?.cleanup();
});

describe('shared SNS vectors', () => {
  test('cover every reason code and outcome, with at least 30 rejections', () => {
    const reasons = new Set(
      set.vectors.filter((v) => v.expect.verdict === 'rejected').map((v) => (v.expect as { reason: string }).reason),
    );
    const outcomes = new Set(
      set.vectors.filter((v) => v.expect.verdict === 'accepted').map((v) => (v.expect as { outcome: string }).outcome),
    );
    expect([...reasons].sort()).toEqual([
      'account_mismatch',
      'bad_envelope',
      'bad_instance_id',
      'bad_message_json',
      'bad_signature',
      'bad_signature_version',
      'bad_timestamp',
      'body_too_large',
      'cert_expired',
      'cert_fetch_failed',
      'cert_invalid',
      'cert_url_invalid',
      'duplicate_message',
      'future_message',
      'not_json',
      'stale_message',
      'subscribe_url_invalid',
      'unknown_event',
      'unknown_group',
      'unknown_topic',
      'unknown_type',
    ]);
    expect([...outcomes].sort()).toEqual([
      'launch',
      'launch_error',
      'subscription_confirmation',
      'terminate',
      'terminate_error',
      'test_notification',
      'unsubscribe_confirmation',
    ]);
    expect(set.vectors.filter((v) => v.expect.verdict === 'rejected').length).toBeGreaterThanOrEqual(30);
  });

  test('accepted vectors carry a valid signature by the served certificate', () => {
    const cert = new X509Certificate(set.certs[CERT_PATH]);
    expect(cert.verify(new X509Certificate(readFileSync(set.caFile, 'utf8')).publicKey)).toBe(true);
    for (const v of set.vectors.filter((x) => x.expect.verdict === 'accepted')) {
      const env = JSON.parse(v.body);
      const ok = verify(
        env.SignatureVersion === '1' ? 'sha1' : 'sha256',
        Buffer.from(canonicalString(env)),
        cert.publicKey,
        Buffer.from(env.Signature, 'base64'),
      );
      expect(ok, v.name).toBe(true);
      expect(env.SigningCertURL).toBe(set.signingCertUrl);
    }
  });

  test('a field changed after signing really breaks the signature', () => {
    const v = set.vectors.find((x) => x.name === 'message-changed-after-signing')!;
    const env = JSON.parse(v.body);
    const cert = new X509Certificate(set.certs[CERT_PATH]);
    expect(
      verify('sha256', Buffer.from(canonicalString(env)), cert.publicKey, Buffer.from(env.Signature, 'base64')),
    ).toBe(false);
  });

  test('the replayed body is byte-for-byte the original; the oversized body is over 256 KiB', () => {
    const byName = new Map(set.vectors.map((v) => [v.name, v]));
    expect(byName.get('replay-launch-v2')!.body).toBe(byName.get('launch-v2-subject')!.body);
    expect(Buffer.byteLength(byName.get('body-just-over-limit')!.body)).toBe(256 * 1024 + 1);
    expect(byName.get('body-several-megabytes')!.body.length).toBeGreaterThan(3 * 1024 * 1024);
    const ids = set.vectors.filter((v) => !v.replayOf && v.messageId).map((v) => v.messageId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test('the expired certificate is expired, and for the same key', () => {
    const expired = new X509Certificate(set.certs['/SimpleNotificationService-expired.pem']);
    expect(Date.parse(expired.validTo)).toBeLessThan(Date.now());
    expect(expired.publicKey.export({ format: 'pem', type: 'spki' })).toBe(
      new X509Certificate(set.certs[CERT_PATH]).publicKey.export({ format: 'pem', type: 'spki' }),
    );
  });
});
