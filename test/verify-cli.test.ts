// `salt-autoscale verify` as a user runs it: the built bin, running the reactor's own gate with python3, the
// reactor's cache read (never written), the certificate fetched over verified TLS through a CONNECT proxy,
// every check reported, and clear errors and exit codes (0 accepted, 1 rejected, 2 usage, 5 cannot judge here).
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CertServer, startCertServer } from './helpers/cert-server.js';
import { buildVectors, CERT_PATH, type VectorSet } from './helpers/sns-vectors.js';
import { inTurn, runBin } from './verify-support.js';

const EXAMPLE = 'examples/salt-autoscale.yaml';
let set: VectorSet;
let server: CertServer;
let work: string;
const body = (name: string) => set.vectors.find((v) => v.name === name)!.body;
const file = (name: string, text = body(name)) => {
  const f = join(work, `${name}.json`);
  writeFileSync(f, text);
  return f;
};
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
/** A reactor cache as the reactor lays it out (0700 directories). */
const cacheDir = (name: string) => {
  const dir = join(work, name);
  for (const sub of ['certs', 'handled', 'instances']) mkdirSync(join(dir, sub), { recursive: true, mode: 0o700 });
  return dir;
};
const certFile = (cache: string) => join(cache, 'certs', `${sha256(set.signingCertUrl)}.pem`);
/** Lists every file under a directory, to prove verify wrote nothing there. */
const tree = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? tree(join(dir, e.name)).map((f) => `${e.name}/${f}`) : [e.name]))
    .sort();
const checks = (stdout: string) => JSON.parse(stdout).checks as { name: string; result: string; reason: string }[];
const resultOf = (stdout: string, name: string) => checks(stdout).find((c) => c.name === name)!;

beforeAll(async () => {
  set = await buildVectors();
  server = await startCertServer({ tls: set.tls, caFile: set.caFile, certs: set.certs });
  work = mkdtempSync(join(tmpdir(), 'verify-cli-'));
});
afterAll(async () => {
  await server?.close();
  await set?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('verify with the reactor cache', () => {
  it('uses a cached certificate without fetching, and leaves the cache untouched', async () => {
    const cache = cacheDir('warm');
    writeFileSync(certFile(cache), set.certs[CERT_PATH], { mode: 0o600 });
    const before = tree(cache);
    server.reset();
    const r = await runBin(['verify', '-c', EXAMPLE, '--cache-dir', cache, '-'], server.env, body('launch-v2-subject'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^accepted: launch\n/);
    expect(r.stdout).toContain(
      'runner.cloud.create provider=ec2-autoscale instances=i-0123456789abcdef0 instance_id=i-0123456789abcdef0 minion={"master":"salt.example.com","grains":{"role":"web"},"startup_states":"highstate"} ssh_username=ec2-user',
    );
    expect(server.requests).toEqual([]);
    expect(tree(cache)).toEqual(before);
  });

  it('fetches again a cached certificate that has expired or is corrupt, and writes neither back', async () => {
    const expired = cacheDir('stale-cert');
    writeFileSync(certFile(expired), set.certs['/SimpleNotificationService-expired.pem'], { mode: 0o600 });
    const corrupt = cacheDir('corrupt');
    writeFileSync(certFile(corrupt), '-----BEGIN CERTIFICATE-----\ntruncated', { mode: 0o600 });
    server.reset();
    const runs = await inTurn(
      [expired, corrupt].map(
        (c) => () =>
          runBin(['verify', '-c', EXAMPLE, '--cache-dir', c, '--json', file('launch-v2-no-subject')], server.env),
      ),
    );
    for (const r of runs) expect(JSON.parse(r.stdout)).toMatchObject({ verdict: 'accepted', outcome: 'launch' });
    expect(server.fetches(CERT_PATH)).toBe(2);
    expect(readFileSync(certFile(corrupt), 'utf8')).toBe('-----BEGIN CERTIFICATE-----\ntruncated');
  });

  it('reports a message the reactor already handled as duplicate_message (exit 1)', async () => {
    const cache = cacheDir('handled');
    const v = set.vectors.find((x) => x.name === 'launch-preauth-v2')!;
    writeFileSync(join(cache, 'handled', sha256(v.messageId!)), '{}');
    const r = await runBin(['verify', '-c', EXAMPLE, '--cache-dir', cache, file('launch-preauth-v2')], server.env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^rejected: duplicate_message\n/);
    // --no-cache judges the message itself: it would be accepted, and a preauth launch writes the stub
    const fresh = await runBin(['verify', '-c', EXAMPLE, '--no-cache', file('launch-preauth-v2')], server.env);
    expect(fresh.code).toBe(0);
    expect(fresh.stdout).toContain('write autosign stub /etc/salt/pki/master/minions_autosign/i-0123456789abcdef0');
    expect(fresh.stdout).toMatch(/ {2}dedupe +not run +no reactor cache to look in/);
  });

  it('refuses a cache directory that others can write (a planted certificate would forge any message)', async () => {
    const cache = cacheDir('open');
    const { chmodSync } = await import('node:fs');
    chmodSync(join(cache, 'certs'), 0o777);
    const r = await runBin(['verify', '-c', EXAMPLE, '--cache-dir', cache, file('launch-v2-subject')], server.env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/certs is writable by group or others/);
  });
});

describe('verify output', () => {
  it('--json carries the verdict, reason, detail, remedy, reaction and checks, in snake_case', async () => {
    const r = await runBin(['verify', '-c', EXAMPLE, '--no-cache', '--json', file('unknown-topic-suffix')], server.env);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual([
      'verdict',
      'reason',
      'detail',
      'remedy',
      'outcome',
      'message_id',
      'topic_arn',
      'reaction',
      'salt_reaction',
      'checks',
      'judged_at',
      'cache_dir',
      'python',
    ]);
    expect(out).toMatchObject({
      verdict: 'rejected',
      reason: 'unknown_topic',
      reaction: [],
      salt_reaction: {},
      topic_arn: 'arn:aws:sns:us-east-1:123456789012:salt-autoscale-evil',
    });
    expect(out.remedy).toContain('sns.extra_topic_arns');
    expect(out.checks.map((c: { name: string }) => c.name)).toEqual([
      'envelope',
      'fields',
      'topic',
      'cert_url',
      'timestamp',
      'dedupe',
      'message',
      'instance',
      'certificate',
      'signature',
    ]);
  });

  it('--json shows the reaction dict the reactor returns to Salt for a launch and a terminate', async () => {
    const [launch, terminate] = await inTurn(
      ['launch-v1-subject', 'terminate-v2-no-subject'].map(
        (n) => () => runBin(['verify', '-c', EXAMPLE, '--no-cache', '--json', file(n)], server.env),
      ),
    );
    const id = 'i-0123456789abcdef0';
    expect(JSON.parse(launch.stdout).salt_reaction).toEqual({
      [`ec2_autoscale_launch_${id}`]: {
        'runner.cloud.create': [
          {
            args: [
              { provider: 'ec2-autoscale' },
              { instances: id },
              { instance_id: id },
              { minion: { master: 'salt.example.com', grains: { role: 'web' }, startup_states: 'highstate' } },
              { ssh_username: 'ec2-user' },
            ],
          },
        ],
      },
    });
    const gone = JSON.parse(body('terminate-v2-no-subject'));
    const dead = JSON.parse(gone.Message).EC2InstanceId;
    expect(JSON.parse(terminate.stdout).salt_reaction).toEqual({
      [`ec2_autoscale_terminate_${dead}`]: { 'wheel.key.delete': [{ args: [{ match: dead }] }] },
    });
  });

  it('accepts salt-api event data captured from the event bus and judges its body', async () => {
    const data = JSON.stringify({
      body: body('terminate-v2-subject'),
      post: JSON.parse(body('terminate-v2-subject')),
      headers: {},
    });
    const r = await runBin(['verify', '-c', EXAMPLE, '--no-cache', '-'], server.env, data);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^\(the input is salt-api event data: judging its "body", as the reactor does\)\naccepted: terminate\n/,
    );
  });

  it('reads a several-megabyte body from stdin only up to the limit, and rejects it as body_too_large', async () => {
    const r = await runBin(['verify', '-c', EXAMPLE, '--no-cache', '-'], server.env, body('body-several-megabytes'));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^rejected: body_too_large\n/);
  });

  it('never lets a sender-controlled field forge an output line, drive the terminal or reorder text', async () => {
    const forged = JSON.parse(body('cert-url-userinfo'));
    forged.MessageId = 'x\naccepted: launch\u001b[2K\u202e\u2066\u200b';
    const r = await runBin(['verify', '-c', EXAMPLE, '--no-cache', '-'], server.env, JSON.stringify(forged));
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(/^accepted/m);
    expect(r.stdout).not.toMatch(/[\u001b\u202e\u2066\u200b]/);
    expect(r.stdout).toContain('MessageId: "x\\naccepted: launch\\u001b[2K\\u202e\\u2066\\u200b"');
    const notJson = await runBin(['verify', '-c', EXAMPLE, '--no-cache', '-'], server.env, 'x\naccepted: launch');
    expect(notJson.stdout).toMatch(/^rejected: not_json\n/);
    expect(notJson.stdout).not.toMatch(/^accepted/m);
  });

  it('says rejected, why and what to do for a forged certificate URL, and never contacts its host', async () => {
    server.reset();
    const r = await runBin(['verify', '-c', EXAMPLE, '--no-cache', file('cert-url-s3-bucket')], server.env);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('rejected: cert_url_invalid');
    expect(r.stdout).toContain('is not an SNS certificate URL');
    expect(r.stdout).toContain('what to do:');
    expect(server.connects).toEqual([]);
  });
});

describe('verify explains every check', () => {
  const signed = (edit: (m: Record<string, unknown>) => void, envelope: Record<string, unknown> = {}) => {
    const env = JSON.parse(set.notification({}));
    const message = JSON.parse(env.Message);
    edit(message);
    const { Signature: _s, SignatureVersion: _v, SigningCertURL: _u, ...rest } = env;
    return JSON.stringify(set.sign({ ...rest, Message: JSON.stringify(message), ...envelope }));
  };

  it('a genuine signature on an unusable Message: signature pass, content fail', async () => {
    const env = JSON.parse(set.notification({}));
    const { Signature: _s, SignatureVersion: _v, SigningCertURL: _u, ...rest } = env;
    const hello = JSON.stringify(set.sign({ ...rest, Message: 'Hello world' }));
    const r = await runBin(['verify', '-c', EXAMPLE, '--no-cache', '--json', file('hello', hello)], server.env);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).reason).toBe('bad_message_json');
    expect(resultOf(r.stdout, 'message')).toMatchObject({ result: 'fail', reason: 'bad_message_json' });
    expect(resultOf(r.stdout, 'signature')).toMatchObject({ result: 'pass' });
    expect(resultOf(r.stdout, 'instance')).toMatchObject({ result: 'not_run' });
  });

  it('a one-byte tamper: signature fail', async () => {
    const tampered = body('launch-v2-subject').replace('Auto Scaling: launch', 'Auto Scaling: lAunch');
    const r = await runBin(['verify', '-c', EXAMPLE, '--no-cache', '--json', file('tamper', tampered)], server.env);
    expect(r.code).toBe(1);
    expect(resultOf(r.stdout, 'signature')).toMatchObject({ result: 'fail', reason: 'bad_signature' });
    expect(checks(r.stdout).filter((c) => c.result === 'fail')).toHaveLength(1);
  });

  it('three independent problems are all reported; the verdict is the first, as the reactor decides', async () => {
    const three = signed((m) => (m.AutoScalingGroupName = 'nobody-asg'), {
      TopicArn: 'arn:aws:sns:us-east-1:123456789012:not-trusted',
      Timestamp: new Date(Date.now() - 2 * 3600_000).toISOString(),
    });
    const r = await runBin(['verify', '-c', EXAMPLE, '--no-cache', file('three', three)], server.env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^rejected: unknown_topic\n/);
    expect(r.stdout).toMatch(/ {2}topic +fail \(unknown_topic\)/);
    expect(r.stdout).toMatch(/ {2}timestamp +fail \(stale_message\)/);
    expect(r.stdout).toMatch(/ {2}message +fail \(unknown_group\)/);
    expect(r.stdout).toMatch(/ {2}signature +pass/);
  });

  it('no network (the certificate cannot be fetched): exit 5, "cannot judge here", never "forged"', async () => {
    const env = { ...server.env, https_proxy: 'http://127.0.0.1:1', HTTPS_PROXY: 'http://127.0.0.1:1' };
    const r = await runBin(['verify', '-c', EXAMPLE, '--no-cache', file('launch-v2-subject')], env);
    expect(r.code).toBe(5);
    expect(r.stdout).toMatch(/^undetermined: cert_fetch_failed/);
    const noCa = await runBin(['verify', '-c', EXAMPLE, '--no-cache', '--json', file('launch-v2-subject')], {
      ...server.env,
      SSL_CERT_FILE: '/nonexistent',
    });
    expect(noCa.code).toBe(5); // TLS is verified: without the test CA the certificate cannot be had
    expect(JSON.parse(noCa.stdout).verdict).toBe('undetermined');
  });

  it('no python3: one line, exit 5', async () => {
    const r = await runBin(['verify', '-c', EXAMPLE, '--python', join(work, 'no-python'), file('launch-v2-subject')]);
    expect(r.code).toBe(5);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toContain('no-python was not found');
  });

  it('--at judges a captured message as of its arrival, the certificate dates included', async () => {
    const old = new Date(Date.now() - 2 * 3600_000);
    const capture = set.notification({ timestamp: old });
    const f = file('old', capture);
    const [now, then, before] = await inTurn([
      () => runBin(['verify', '-c', EXAMPLE, '--no-cache', f], server.env),
      () => runBin(['verify', '-c', EXAMPLE, '--no-cache', '--at', old.toISOString(), f], server.env),
      () => runBin(['verify', '-c', EXAMPLE, '--no-cache', '--json', '--at', '2020-01-01T00:00:10Z', f], server.env),
    ]);
    expect(now.stdout).toMatch(/^rejected: stale_message/);
    expect(then.code).toBe(0);
    expect(then.stdout).toContain(`as of ${old.toISOString()}`);
    // In 2020 the message was from the future and the certificate not yet valid: both are reported.
    expect(resultOf(before.stdout, 'timestamp').reason).toBe('future_message');
    expect(resultOf(before.stdout, 'certificate').reason).toBe('cert_expired');
  });
});

describe('verify usage errors (exit 2)', () => {
  it('a missing message file, a directory, a missing --cache-dir, a broken config, a bad --at', async () => {
    const badConfig = join(work, 'bad.yaml');
    writeFileSync(badConfig, readFileSync(EXAMPLE, 'utf8').replace('max_age_seconds: 3600', 'max_age_seconds: soon'));
    const [missing, directory, noCache, broken, at] = await inTurn([
      () => runBin(['verify', '-c', EXAMPLE, join(work, 'nope.json')]),
      () => runBin(['verify', '-c', EXAMPLE, '--no-cache', work]),
      () => runBin(['verify', '-c', EXAMPLE, '--cache-dir', join(work, 'no-such-dir'), file('launch-v2-subject')]),
      () => runBin(['verify', '-c', badConfig, file('launch-v2-subject')]),
      () => runBin(['verify', '-c', EXAMPLE, '--at', 'yesterday', file('launch-v2-subject')]),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope.json: cannot read the message (no such file)');
    expect(directory.code).toBe(2);
    expect(directory.stderr).toContain('cannot read the message (it is a directory)');
    expect(noCache.code).toBe(2);
    expect(noCache.stderr).toContain('no-such-dir: no such directory');
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/bad\.yaml:\d+:\d+: reactor\.max_age_seconds/);
    expect(at.code).toBe(2);
    expect(at.stderr).toContain('--at yesterday: not an ISO-8601 time');
  });
});

describe('verify stays light', () => {
  it('its module graph never loads the AWS SDK or inquirer', () => {
    const seen = new Set<string>();
    const bare = new Set<string>();
    const walk = (f: string) => {
      if (seen.has(f)) return;
      seen.add(f);
      for (const m of readFileSync(f, 'utf8').matchAll(
        /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g,
      )) {
        const spec = m[1] ?? m[2];
        if (spec.startsWith('.')) walk(resolve(dirname(f), spec).replace(/\.js$/, '.ts'));
        else bare.add(spec);
      }
    };
    // The sources: dist/ is one bundle, where the same graph is flattened.
    walk(resolve('src/commands/verify.ts'));
    expect(seen.size).toBeGreaterThan(5);
    expect(
      [...bare].filter((s) => s.startsWith('@aws-sdk/') || s === 'inquirer' || s.startsWith('@inquirer/')),
    ).toEqual([]);
    expect([...bare].filter((s) => !s.startsWith('node:')).sort()).toEqual(['yaml']);
  });
});
