// The holes an attack corpus found in the reactor as it was (one Python file, checks in signature order), each
// as a message or a master state that the old reactor acted on, run through the rendered reactor the way Salt
// runs it. Every test here fails against that reactor.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  listFiles,
  type Master,
  type ReactorFixture,
  setupReactorFixture,
  verdictOf,
} from './helpers/reactor-fixture.js';
import type { DeliveryResult } from './helpers/reactor-harness.js';
import { INSTANCE_ID, signWithKey } from './helpers/sns-vectors.js';

let fx: ReactorFixture;
/** A local user's own key and certificate (RSA), and an EC one: nothing SNS would ever sign with. */
let attacker: { key: string; cert: string; ecKey: string; ecCert: string };
beforeAll(async () => {
  fx = await setupReactorFixture();
  const dir = join(fx.dir, 'attacker');
  mkdirSync(dir);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'k.pem',
    '-out',
    'c.pem',
    '-days',
    '2',
    '-subj',
    '/CN=x',
  );
  ssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ek.pem');
  ssl('req', '-x509', '-new', '-key', 'ek.pem', '-out', 'ec.pem', '-days', '2', '-subj', '/CN=x');
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  attacker = { key: read('k.pem'), cert: read('c.pem'), ecKey: read('ek.pem'), ecCert: read('ec.pem') };
});
afterAll(async () => {
  await fx?.close();
});

const warnings = (r: DeliveryResult) => r.logs.filter((l) => l.level === 'WARNING');
const errors = (r: DeliveryResult) => r.logs.filter((l) => l.level === 'ERROR');
const certCacheFile = (dir: string, url: string) =>
  join(dir, 'certs', `${createHash('sha256').update(url).digest('hex')}.pem`);
/** A launch envelope for a preauth group (a verified one writes an autosign stub: easy to see). */
const preauthLaunch = (instanceId = INSTANCE_ID, event = 'autoscaling:EC2_INSTANCE_LAUNCH') =>
  JSON.parse(fx.set.notification({ group: 'worker-asg', instanceId, event })) as Record<string, string>;
/** The envelope re-signed by `key` (the attacker's), naming `certUrl`. */
function signedBy(env: Record<string, unknown>, key: string, certUrl = fx.set.signingCertUrl): string {
  const out: Record<string, unknown> = { ...env, SigningCertURL: certUrl, SignatureVersion: '2' };
  out.Signature = signWithKey(out, key, '2');
  return JSON.stringify(out);
}
const stubs = (m: Master) => listFiles(join(m.pkiDir, 'minions_autosign'));

describe.concurrent('the attack corpus', () => {
  test('replay by field folding: a genuine message with Subject folded into MessageId is refused', async () => {
    const m = await fx.master();
    const genuine = JSON.parse(fx.set.notification({}));
    const folded = { ...genuine, MessageId: `${genuine.MessageId}\nSubject\n${genuine.Subject}` };
    delete folded.Subject;
    const { results } = await fx.deliver(m, [{ body: JSON.stringify(genuine) }, { body: JSON.stringify(folded) }]);
    expect(verdictOf(results[0])).toEqual({ verdict: 'accepted', outcome: 'launch' });
    expect(verdictOf(results[1])).toEqual({ verdict: 'rejected', reason: 'bad_envelope' });
    expect(results[1].reaction).toEqual({});
  });

  test('a cache_dir others can write: a planted certificate forges nothing; one ERROR line, no reaction', async () => {
    const m = await fx.master();
    const shared = join(m.dir, 'shared-cache');
    mkdirSync(join(shared, 'certs'), { recursive: true });
    chmodSync(shared, 0o777);
    writeFileSync(certCacheFile(shared, fx.set.signingCertUrl), attacker.cert);
    (m.opts['ec2.autoscale'] as Record<string, unknown>).cache_dir = shared;
    const { results } = await fx.deliver(m, [{ body: signedBy(preauthLaunch(), attacker.key) }]);
    expect(results[0].reaction).toEqual({});
    expect(errors(results[0]).map((l) => l.message)).toEqual([expect.stringMatching(/writable by group or others/)]);
    expect(await stubs(m)).toEqual([]);
  });

  test('a cache_dir that is a symlink is refused', async () => {
    const m = await fx.master();
    const real = join(m.dir, 'real');
    mkdirSync(join(real, 'certs'), { recursive: true, mode: 0o700 });
    writeFileSync(certCacheFile(real, fx.set.signingCertUrl), attacker.cert);
    mkdirSync(m.dir, { recursive: true });
    symlinkSync(real, join(m.dir, 'linked'));
    (m.opts['ec2.autoscale'] as Record<string, unknown>).cache_dir = join(m.dir, 'linked');
    const { results } = await fx.deliver(m, [{ body: signedBy(preauthLaunch(), attacker.key) }]);
    expect(errors(results[0]).map((l) => l.message)).toEqual([expect.stringMatching(/is a symlink/)]);
    expect(await stubs(m)).toEqual([]);
  });

  test('a cached certificate that is a symlink is not followed: the real one is fetched, the forgery fails', async () => {
    const m = await fx.master();
    const cache = join(m.cachedir, 'ec2-autoscale');
    for (const sub of ['certs', 'handled', 'instances']) mkdirSync(join(cache, sub), { recursive: true, mode: 0o700 });
    chmodSync(m.cachedir, 0o700);
    writeFileSync(join(m.dir, 'planted.pem'), attacker.cert);
    symlinkSync(join(m.dir, 'planted.pem'), certCacheFile(cache, fx.set.signingCertUrl));
    const { results } = await fx.deliver(m, [{ body: signedBy(preauthLaunch(), attacker.key) }]);
    expect(verdictOf(results[0])).toEqual({ verdict: 'rejected', reason: 'bad_signature' });
    expect(await stubs(m)).toEqual([]);
  });

  test('a failure before the side effects are done records nothing: SNS’s retry is handled, not a duplicate', async () => {
    const m = await fx.master();
    const body = JSON.stringify(preauthLaunch('i-0aaaaaaaaaaaaaaa1'));
    const blocker = join(m.pkiDir, 'minions_autosign');
    writeFileSync(blocker, 'a file where the stub folder should be');
    const first = await fx.deliver(m, [{ body }]);
    expect(first.results[0].reaction).toEqual({});
    expect(errors(first.results[0])).toHaveLength(1);
    rmSync(blocker);
    const second = await fx.deliver(m, [{ body }]);
    expect(verdictOf(second.results[0])).toEqual({ verdict: 'accepted', outcome: 'launch' });
    expect(await stubs(m)).toEqual(['i-0aaaaaaaaaaaaaaa1']);
  });

  test('a launch delivered after its instance’s terminate is refused (tombstone): no stub for a dead instance', async () => {
    const m = await fx.master();
    const id = 'i-0bbbbbbbbbbbbbbb2';
    const launch = preauthLaunch(id);
    const terminate = preauthLaunch(id, 'autoscaling:EC2_INSTANCE_TERMINATE');
    const { results } = await fx.deliver(m, [{ body: JSON.stringify(terminate) }, { body: JSON.stringify(launch) }]);
    expect(verdictOf(results[0])).toEqual({ verdict: 'accepted', outcome: 'terminate' });
    expect(verdictOf(results[1])).toEqual({ verdict: 'rejected', reason: 'instance_terminated' });
    expect(await stubs(m)).toEqual([]);
  });

  test('a signed Message nested deeper than Python can parse is bad_message_json, not an unexpected error', async () => {
    const m = await fx.master();
    const env = JSON.parse(fx.set.notification({}));
    const { Signature: _s, SignatureVersion: _v, SigningCertURL: _u, ...rest } = env;
    const deep = JSON.stringify(fx.set.sign({ ...rest, Message: `${'['.repeat(100_000)}${']'.repeat(100_000)}` }));
    const { results } = await fx.deliver(m, [{ body: deep }]);
    expect(verdictOf(results[0])).toEqual({ verdict: 'rejected', reason: 'bad_message_json' });
    expect(errors(results[0])).toEqual([]);
  });

  test('a certificate served with HTTP 203 (not 200) is not used', async () => {
    const m = await fx.master();
    const path = '/SimpleNotificationService-203.pem';
    const server = await fx.startServer({
      certs: {
        ...fx.set.certs,
        [path]: fx.set.certs['/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem'],
      },
      statuses: { [path]: 203 },
    });
    const body = JSON.stringify(
      fx.set.sign({ ...preauthLaunch(), SigningCertURL: `https://sns.us-east-1.amazonaws.com${path}` }),
    );
    const { results } = await fx.deliver(m, [{ body }], {}, 'python3', server);
    expect(verdictOf(results[0])).toEqual({ verdict: 'rejected', reason: 'cert_fetch_failed' });
    expect(warnings(results[0])[0].message).toContain('HTTP 203');
  });

  describe('the openssl path (no cryptography)', () => {
    test('refuses a certificate with an EC key, and a TRUSTED CERTIFICATE PEM', async () => {
      const m = await fx.master();
      const ecPath = '/SimpleNotificationService-ec.pem';
      const trustedPath = '/SimpleNotificationService-trusted.pem';
      const genuine = fx.set.certs['/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem'];
      const server = await fx.startServer({
        certs: {
          ...fx.set.certs,
          [ecPath]: attacker.ecCert,
          [trustedPath]: genuine.replace(/(BEGIN|END) CERTIFICATE/g, '$1 TRUSTED CERTIFICATE'),
        },
      });
      const url = (p: string) => `https://sns.us-east-1.amazonaws.com${p}`;
      const ec = signedBy(preauthLaunch('i-0ccccccccccccccc3'), attacker.ecKey, url(ecPath));
      const trusted = JSON.stringify(
        fx.set.sign({ ...preauthLaunch('i-0ddddddddddddddd4'), SigningCertURL: url(trustedPath) }),
      );
      const { results, backend } = await fx.deliver(
        m,
        [{ body: ec }, { body: trusted }],
        { blockCryptography: true },
        'python3',
        server,
      );
      expect(backend).toBe('openssl');
      expect(results.map((r) => verdictOf(r))).toEqual([
        { verdict: 'rejected', reason: 'bad_signature' },
        { verdict: 'rejected', reason: 'cert_invalid' },
      ]);
      expect(await stubs(m)).toEqual([]);
    });
  });

  test('a 150 KB certificate URL is logged truncated', async () => {
    const m = await fx.master();
    const long = `https://sns.us-east-1.amazonaws.com/${'a'.repeat(150_000)}.pem`;
    const { results } = await fx.deliver(m, [
      { body: JSON.stringify(fx.set.sign({ ...preauthLaunch(), SigningCertURL: long })) },
    ]);
    expect(verdictOf(results[0])).toEqual({ verdict: 'rejected', reason: 'cert_fetch_failed' });
    expect(warnings(results[0])[0].message.length).toBeLessThan(1000);
  });

  test('messages that fail a cheap check cause no request; a URL that failed is not fetched again', async () => {
    const m = await fx.master();
    const server = await fx.startServer();
    const untrusted = Array.from({ length: 20 }, (_, i) => ({
      body: JSON.stringify({
        ...preauthLaunch(`i-${(0x100 + i).toString(16).padStart(17, '0')}`),
        TopicArn: 'arn:aws:sns:us-east-1:999999999999:not-ours',
        SigningCertURL: `https://sns.us-east-1.amazonaws.com/SimpleNotificationService-u${i}.pem`,
      }),
    }));
    const missing = 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-missing.pem';
    const twice = [0, 1].map(() => ({ body: JSON.stringify({ ...preauthLaunch(), SigningCertURL: missing }) }));
    const { results } = await fx.deliver(m, [...untrusted, ...twice], {}, 'python3', server);
    expect(results.slice(0, 20).map((r) => verdictOf(r))).toEqual(
      untrusted.map(() => ({ verdict: 'rejected', reason: 'unknown_topic' })),
    );
    expect(results.slice(20).map((r) => verdictOf(r))).toEqual(
      twice.map(() => ({ verdict: 'rejected', reason: 'cert_fetch_failed' })),
    );
    expect(server.requests.map((r) => r.path)).toEqual(['/SimpleNotificationService-missing.pem']);
  });
});
