// How AWS calls travel: time limits, an egress proxy and AWS_CA_BUNDLE (issue 9, items 7 and 8).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_TIMEOUT_SECONDS, resolveTimeoutMs } from '../src/aws/transport.js';
import { awsEnv, runInProcess, useFakeAws, workspace } from './aws-helpers.js';
import { type FakeAws, startFakeAws } from './fakes/aws.js';
import { selfSignedIdentity, startTestProxy, type TestProxy } from './fakes/proxy.js';

const NO_PROXY_ENV = {
  HTTPS_PROXY: undefined,
  https_proxy: undefined,
  HTTP_PROXY: undefined,
  http_proxy: undefined,
  NO_PROXY: undefined,
  no_proxy: undefined,
  ALL_PROXY: undefined,
  all_proxy: undefined,
};

describe('time limits on AWS calls', () => {
  const t = useFakeAws();
  const status = (extra: Record<string, string | undefined>, ...flags: string[]) =>
    runInProcess(['status', '--config', t.ws.configFile, ...flags], awsEnv(t.fake.url, t.ws.dir, extra));

  it('an endpoint that accepts and never answers ends in one clear line within the limit', async () => {
    t.fake.inject({ kind: 'hang', times: Infinity });
    const started = Date.now();
    const r = await status({ ...NO_PROXY_ENV, SALT_AUTOSCALE_AWS_TIMEOUT: '0.3' });
    const elapsed = Date.now() - started;
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(
      /^salt-autoscale: http:\/\/127\.0\.0\.1:\d+ \(AWS_ENDPOINT_URL\) did not answer (sns|autoscaling):\w+ within 0\.3 s \(3 attempts\): check the network, the proxy .* --aws-timeout SECONDS \(or SALT_AUTOSCALE_AWS_TIMEOUT\) sets the limit\.\n$/,
    );
    expect(r.stderr).not.toMatch(/smithy|requestTimeout|at .*\.js/);
    // Three attempts of 0.3 s and the test retry base of 5 ms, not the SDK's minutes (the bound leaves room
    // for a loaded machine loading the SDK).
    expect(elapsed).toBeLessThan(10_000);
  });

  it('--aws-timeout wins over the variable; a bad value is a usage error naming where it came from', async () => {
    t.fake.inject({ kind: 'hang', action: 'ListTopics', times: Infinity });
    const r = await status({ ...NO_PROXY_ENV, SALT_AUTOSCALE_AWS_TIMEOUT: '600' }, '--aws-timeout', '0.2');
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('did not answer sns:ListTopics within 0.2 s');

    const callsBefore = t.fake.calls.length;
    const bad = await status({ SALT_AUTOSCALE_AWS_TIMEOUT: 'soon' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('SALT_AUTOSCALE_AWS_TIMEOUT must be a number of seconds');
    expect(t.fake.calls.length).toBe(callsBefore);
  });

  it('defaults to 10 s per attempt, well under a minute for three attempts', () => {
    expect(DEFAULT_TIMEOUT_SECONDS).toBe(10);
    expect(resolveTimeoutMs(undefined, {})).toBe(10_000);
    expect(resolveTimeoutMs(undefined, { SALT_AUTOSCALE_AWS_TIMEOUT: '2.5' })).toBe(2500);
    expect(() => resolveTimeoutMs('0', {})).toThrow(/--aws-timeout must be a number of seconds/);
  });
});

describe('an egress proxy and AWS_CA_BUNDLE, as the AWS CLI takes them', () => {
  const AWS_HOSTS = [
    'sns.us-east-1.amazonaws.com',
    'autoscaling.us-east-1.amazonaws.com',
    'sqs.us-east-1.amazonaws.com',
  ];
  let identity: { cert: string; key: string };
  let tlsFake: FakeAws;
  let plainFake: FakeAws;
  let proxy: TestProxy;
  let ws: Awaited<ReturnType<typeof workspace>>;
  let caFile: string;

  beforeAll(async () => {
    identity = selfSignedIdentity(AWS_HOSTS);
    tlsFake = await startFakeAws({ groups: ['web-asg', 'worker-asg'], tls: identity });
    plainFake = await startFakeAws({ groups: ['web-asg', 'worker-asg'] });
    const tlsPort = Number(new URL(tlsFake.url).port);
    proxy = await startTestProxy(Object.fromEntries(AWS_HOSTS.map((h) => [`${h}:443`, tlsPort])));
    ws = await workspace();
    caFile = join(ws.dir, 'ca-bundle.pem');
    await writeFile(caFile, identity.cert);
  });
  afterAll(async () => {
    await Promise.all([tlsFake.close(), plainFake.close(), proxy.close()]);
    await ws.cleanup();
  });

  const run = (endpoint: string | undefined, extra: Record<string, string | undefined>) =>
    runInProcess(
      ['status', '--config', ws.configFile],
      awsEnv(endpoint, ws.dir, { ...NO_PROXY_ENV, SALT_AUTOSCALE_AWS_TIMEOUT: '3', ...extra }),
    );

  it("reaches AWS's own https endpoints only through HTTPS_PROXY (CONNECT), trusting AWS_CA_BUNDLE", async () => {
    const r = await run(undefined, { HTTPS_PROXY: proxy.url, AWS_CA_BUNDLE: caFile });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1); // nothing provisioned yet: drift, but AWS answered
    expect(r.stdout).toContain('topic         salt-autoscale: missing');
    expect(new Set(proxy.connects)).toEqual(new Set(AWS_HOSTS.map((h) => `${h}:443`)));
    expect(new Set(tlsFake.calls.map((c) => c.service))).toEqual(new Set(['sns', 'autoscaling', 'sqs']));
  });

  it('without AWS_CA_BUNDLE the tunnelled TLS is not trusted; a lowercase https_proxy works too', async () => {
    const r = await run(undefined, { https_proxy: proxy.url });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/cannot reach AWS in us-east-1 for \w+:\w+ \(.*(self.signed|certificate)/i);
    const missing = await run(undefined, { HTTPS_PROXY: proxy.url, AWS_CA_BUNDLE: join(ws.dir, 'nope.pem') });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`AWS_CA_BUNDLE names ${join(ws.dir, 'nope.pem')}, which cannot be read (ENOENT)`);
  });

  it("init's group lookup goes through the same proxy and CA bundle", async () => {
    const { listGroupNames } = await import('../src/init/discover.js');
    const env = awsEnv(undefined, ws.dir, { ...NO_PROXY_ENV, HTTPS_PROXY: proxy.url, AWS_CA_BUNDLE: caFile });
    for (const [k, v] of Object.entries(env)) if (k.startsWith('AWS_') || /_PROXY$/i.test(k)) vi.stubEnv(k, v);
    for (const k of Object.keys(NO_PROXY_ENV)) if (env[k] === undefined) vi.stubEnv(k, undefined);
    vi.stubEnv('AWS_ENDPOINT_URL', undefined);
    proxy.connects.length = 0;
    try {
      expect(await listGroupNames({ region: 'us-east-1' })).toEqual(['web-asg', 'worker-asg']);
    } finally {
      vi.unstubAllEnvs();
    }
    expect(proxy.connects).toContain('autoscaling.us-east-1.amazonaws.com:443');
  });

  it('an http endpoint goes through HTTP_PROXY, and NO_PROXY bypasses it', async () => {
    proxy.forwarded.length = 0;
    const proxied = await run(plainFake.url, { HTTP_PROXY: proxy.url });
    expect(proxied.code, proxied.stderr).toBe(1);
    expect(proxied.stdout).toContain('topic         salt-autoscale: missing');
    expect(proxy.forwarded.length).toBeGreaterThanOrEqual(2);
    expect(proxy.forwarded.every((u) => u.startsWith(`${plainFake.url}/`))).toBe(true);

    proxy.forwarded.length = 0;
    const direct = await run(plainFake.url, { HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' });
    expect(direct.code).toBe(1);
    expect(proxy.forwarded).toEqual([]);
    expect(plainFake.calls.length).toBeGreaterThan(0);
  });
});
