// `salt-autoscale verify` as a user runs it: the built bin, the reactor's cache read (never written), the
// certificate fetched over verified TLS through a CONNECT proxy, and clear errors for bad usage.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certCachePath, handledPath } from '../src/sns/cache.js';
import { fetchCertificate } from '../src/sns/fetch-cert.js';
import { type CertServer, startCertServer } from './helpers/cert-server.js';
import { buildVectors, CERT_PATH, type VectorSet } from './helpers/sns-vectors.js';
import { runBin } from './verify-support.js';

const EXAMPLE = 'examples/salt-autoscale.yaml';
let set: VectorSet;
let server: CertServer;
let work: string;
const body = (name: string) => set.vectors.find((v) => v.name === name)!.body;
const file = (name: string) => {
  const f = join(work, `${name}.json`);
  writeFileSync(f, body(name));
  return f;
};
/** Lists every file under a directory, to prove verify wrote nothing there. */
const tree = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? tree(join(dir, e.name)).map((f) => `${e.name}/${f}`) : [e.name]))
    .sort();

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
    const cache = join(work, 'warm');
    mkdirSync(join(cache, 'certs'), { recursive: true });
    mkdirSync(join(cache, 'handled'));
    writeFileSync(certCachePath(cache, set.signingCertUrl), set.certs[CERT_PATH]);
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

  it('fetches again a cached certificate that has expired', async () => {
    const cache = join(work, 'stale-cert');
    mkdirSync(join(cache, 'certs'), { recursive: true });
    writeFileSync(certCachePath(cache, set.signingCertUrl), set.certs['/SimpleNotificationService-expired.pem']);
    server.reset();
    const r = await runBin(
      ['verify', '-c', EXAMPLE, '--cache-dir', cache, '--json', file('launch-v2-no-subject')],
      server.env,
    );
    expect(JSON.parse(r.stdout)).toMatchObject({ verdict: 'accepted', outcome: 'launch' });
    expect(server.fetches(CERT_PATH)).toBe(1);
  });

  it('ignores a corrupt cached certificate and fetches it instead', async () => {
    const cache = join(work, 'corrupt');
    mkdirSync(join(cache, 'certs'), { recursive: true });
    writeFileSync(certCachePath(cache, set.signingCertUrl), '-----BEGIN CERTIFICATE-----\ntruncated');
    server.reset();
    const r = await runBin(
      ['verify', '-c', EXAMPLE, '--cache-dir', cache, '--json', file('terminate-v1-no-subject')],
      server.env,
    );
    expect(JSON.parse(r.stdout)).toMatchObject({ verdict: 'accepted', outcome: 'terminate' });
    expect(server.fetches(CERT_PATH)).toBe(1);
  });

  it('reports a MessageId the reactor already handled as duplicate_message (exit 1)', async () => {
    const cache = join(work, 'handled');
    mkdirSync(join(cache, 'handled'), { recursive: true });
    const v = set.vectors.find((x) => x.name === 'launch-preauth-v2')!;
    writeFileSync(handledPath(cache, v.messageId!), '');
    const r = await runBin(['verify', '-c', EXAMPLE, '--cache-dir', cache, file('launch-preauth-v2')], server.env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^rejected: duplicate_message\n/);
    expect(r.stdout).toContain(`MessageId ${v.messageId} was already handled`);
    // --no-cache judges the message itself: it would be accepted, and a preauth launch writes the stub
    const fresh = await runBin(['verify', '-c', EXAMPLE, '--no-cache', file('launch-preauth-v2')], server.env);
    expect(fresh.code).toBe(0);
    expect(fresh.stdout).toContain('write autosign stub /etc/salt/pki/master/minions_autosign/i-0123456789abcdef0');
  });
});

describe('verify output', () => {
  it('--json carries verdict, reason, explanation, remedy, empty reaction, messageId and topicArn', async () => {
    const r = await runBin(['verify', '-c', EXAMPLE, '--no-cache', '--json', file('unknown-topic-suffix')], server.env);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out)).toEqual([
      'verdict',
      'reason',
      'explanation',
      'remedy',
      'reaction',
      'saltReaction',
      'messageId',
      'topicArn',
    ]);
    expect(out).toMatchObject({
      verdict: 'rejected',
      reason: 'unknown_topic',
      reaction: [],
      topicArn: 'arn:aws:sns:us-east-1:123456789012:salt-autoscale-evil',
    });
    expect(out.remedy).toContain('sns.extra_topic_arns');
    expect(out.saltReaction).toEqual({});
  });

  it('--json shows the reaction dict the reactor returns to Salt for a launch and a terminate', async () => {
    const [launch, terminate] = await Promise.all(
      ['launch-v1-subject', 'terminate-v2-no-subject'].map((n) =>
        runBin(['verify', '-c', EXAMPLE, '--no-cache', '--json', file(n)], server.env),
      ),
    );
    const id = 'i-0123456789abcdef0';
    expect(JSON.parse(launch.stdout).saltReaction).toEqual({
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
    expect(JSON.parse(terminate.stdout).saltReaction).toEqual({
      [`ec2_autoscale_terminate_${id}`]: { 'wheel.key.delete': [{ args: [{ match: id }] }] },
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
    // the 256 KiB limit is the body's: a capture of a body just under it (twice over, with post) still passes
    const big = JSON.parse(body('launch-v2-subject'));
    big.Padding = ' '.repeat(250 * 1024);
    const raw = JSON.stringify(big);
    const capture = JSON.stringify({ body: raw, post: big, headers: {} });
    expect(Buffer.byteLength(capture)).toBeGreaterThan(500 * 1024);
    const r2 = await runBin(['verify', '-c', EXAMPLE, '--no-cache', '--json', '-'], server.env, capture);
    expect(JSON.parse(r2.stdout)).toMatchObject({ verdict: 'accepted', outcome: 'launch' });
  });

  it('reads a several-megabyte body from stdin only up to the limit, and rejects it as body_too_large', async () => {
    const r = await runBin(['verify', '-c', EXAMPLE, '--no-cache', '-'], server.env, body('body-several-megabytes'));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^rejected: body_too_large\n/);
  });

  it('never lets a sender-controlled field forge an output line', async () => {
    const forged = JSON.parse(body('cert-url-userinfo'));
    forged.MessageId = 'x\naccepted: launch\u001b[2K';
    const r = await runBin(['verify', '-c', EXAMPLE, '--no-cache', '-'], server.env, JSON.stringify(forged));
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(/^accepted/m);
    expect(r.stdout).not.toContain('\u001b');
    expect(r.stdout).toContain('MessageId: "x\\naccepted: launch\\u001b[2K"');
    const notJson = await runBin(['verify', '-c', EXAMPLE, '--no-cache', '-'], server.env, 'x\naccepted: launch');
    expect(notJson.stdout).toMatch(/^rejected: not_json\n/);
    expect(notJson.stdout).not.toMatch(/^accepted/m);
  });

  it('says rejected, why and what to do for a forged certificate URL', async () => {
    const r = await runBin(['verify', '-c', EXAMPLE, '--no-cache', file('cert-url-s3-bucket')], server.env);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('rejected: cert_url_invalid');
    expect(r.stdout).toContain('is not sns.<region>.amazonaws.com(.cn)');
    expect(r.stdout).toContain('what to do:');
    expect(server.connects.some((c) => c.includes('s3'))).toBe(false);
  });
});

describe('verify usage errors (exit 2)', () => {
  it('a missing message file, a missing --cache-dir, a broken config', async () => {
    const badConfig = join(work, 'bad.yaml');
    writeFileSync(badConfig, readFileSync(EXAMPLE, 'utf8').replace('max_age_seconds: 3600', 'max_age_seconds: soon'));
    const [missing, directory, noCache, broken] = await Promise.all([
      runBin(['verify', '-c', EXAMPLE, join(work, 'nope.json')]),
      runBin(['verify', '-c', EXAMPLE, '--no-cache', work]),
      runBin(['verify', '-c', EXAMPLE, '--cache-dir', join(work, 'no-such-dir'), file('launch-v2-subject')]),
      runBin(['verify', '-c', badConfig, file('launch-v2-subject')]),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope.json: cannot read the message (no such file)');
    expect(directory.code).toBe(2);
    expect(directory.stderr).toContain('cannot read the message (it is a directory)');
    expect(noCache.code).toBe(2);
    expect(noCache.stderr).toContain('no-such-dir: no such directory');
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/bad\.yaml:\d+:\d+: reactor\.max_age_seconds/);
  });
});

describe('certificate fetch', () => {
  const url = () => set.signingCertUrl;
  it('verifies TLS: without the test CA the fetch fails', async () => {
    const env = { ...server.env, SSL_CERT_FILE: '', NODE_EXTRA_CA_CERTS: '' };
    await expect(fetchCertificate(url(), { timeoutMs: 5000, env })).rejects.toMatchObject({
      reason: 'cert_fetch_failed',
    });
    await expect(fetchCertificate(url(), { timeoutMs: 5000, env: server.env })).resolves.toContain('BEGIN CERTIFICATE');
  });

  it('calls an oversized answer cert_invalid without buffering it', async () => {
    const big = await startCertServer({ tls: set.tls, caFile: set.caFile, certs: { '/big.pem': 'A'.repeat(1 << 20) } });
    try {
      await expect(
        fetchCertificate('https://sns.us-east-1.amazonaws.com/big.pem', { timeoutMs: 5000, env: big.env }),
      ).rejects.toMatchObject({ reason: 'cert_invalid' });
    } finally {
      await big.close();
    }
  });

  it('gives up after the timeout', async () => {
    const slow = await startCertServer({ tls: set.tls, caFile: set.caFile, certs: set.certs, delayMs: 3000 });
    try {
      const started = Date.now();
      await expect(fetchCertificate(url(), { timeoutMs: 300, env: slow.env })).rejects.toMatchObject({
        reason: 'cert_fetch_failed',
        detail: expect.stringContaining('no answer within 0.3 s'),
      });
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      await slow.close();
    }
  });

  it('reports a proxy that refuses the tunnel or is not there', async () => {
    await expect(
      fetchCertificate('https://sns.us-east-1.amazonaws.com.evil.example/x.pem', { timeoutMs: 2000, env: server.env }),
    ).rejects.toMatchObject({ detail: expect.stringContaining('answered CONNECT with HTTP 403') });
    await expect(
      fetchCertificate(url(), { timeoutMs: 2000, env: { https_proxy: 'http://127.0.0.1:1' } }),
    ).rejects.toMatchObject({ detail: expect.stringContaining('cannot reach the proxy 127.0.0.1:1') });
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
    expect(seen.size).toBeGreaterThan(8);
    expect(
      [...bare].filter((s) => s.startsWith('@aws-sdk/') || s === 'inquirer' || s.startsWith('@inquirer/')),
    ).toEqual([]);
    expect([...bare].filter((s) => !s.startsWith('node:')).sort()).toEqual(['yaml']);
  });
});
