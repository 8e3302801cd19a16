// The rendered #!py reactor, run by python3 the way Salt's py renderer runs it, against the shared vectors.
// The certificate and SubscribeURL are fetched for real (urllib, TLS verified) from 127.0.0.1 through a
// CONNECT proxy named in https_proxy.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { CertServer } from './helpers/cert-server.js';
import {
  listFiles,
  type Master,
  type ReactorFixture,
  setupReactorFixture,
  verdictOf,
} from './helpers/reactor-fixture.js';
import { type DeliveryResult, runHarness } from './helpers/reactor-harness.js';
import {
  CERT_PATH,
  INSTANCE_ID,
  SUBSCRIBE_PATH_PREFIX,
  TERMINATED_INSTANCE_ID,
  TOPIC_ARN,
  type Vector,
} from './helpers/sns-vectors.js';

let fx: ReactorFixture;
interface FullRun {
  master: Master;
  results: DeliveryResult[];
  backend: string;
  server: CertServer;
}
let fullRuns: Record<'cryptography' | 'openssl', FullRun>;
beforeAll(async () => {
  fx = await setupReactorFixture();
  // The two full runs (one per crypto path) are the slow part: run them side by side, each with its own cert
  // server so that its request counts are its own.
  const full = async (blockCryptography: boolean): Promise<FullRun> => {
    const server = await fx.startServer();
    const master = await fx.master();
    const { results, backend } = await fx.deliver(
      master,
      fx.set.vectors.map((v) => ({ body: v.body })),
      { blockCryptography },
      'python3',
      server,
    );
    return { master, results, backend, server };
  };
  const [cryptography, openssl] = await Promise.all([full(false), full(true)]);
  fullRuns = { cryptography, openssl };
});
afterAll(async () => {
  await fx?.close();
});

const byName = (name: string): Vector => {
  const v = fx.set.vectors.find((x) => x.name === name);
  if (!v) throw new Error(`no vector ${name}`);
  return v;
};
const warnings = (r: DeliveryResult) => r.logs.filter((l) => l.level === 'WARNING');
const errors = (r: DeliveryResult) => r.logs.filter((l) => l.level === 'ERROR' || l.level === 'CRITICAL');

function expectVerdicts(vectors: Vector[], results: DeliveryResult[]) {
  expect(results).toHaveLength(vectors.length);
  const mismatches: string[] = [];
  vectors.forEach((v, i) => {
    const r = results[i];
    const got = verdictOf(r);
    if (JSON.stringify(got) !== JSON.stringify(v.expect))
      mismatches.push(`${v.name}: expected ${JSON.stringify(v.expect)}, got ${JSON.stringify(got)}`);
    if (!r.optsUnchanged) mismatches.push(`${v.name}: __opts__ was modified`);
    if (errors(r).length) mismatches.push(`${v.name}: logged ${JSON.stringify(errors(r))}`);
    if (v.expect.verdict === 'rejected') {
      // A rejection: no reaction, exactly one WARNING line, naming the reason (and the ids when there are ids).
      if (JSON.stringify(r.reaction) !== '{}')
        mismatches.push(`${v.name}: rejected but reacted ${JSON.stringify(r.reaction)}`);
      const w = warnings(r);
      if (w.length !== 1) mismatches.push(`${v.name}: ${w.length} WARNING lines`);
      else if (!w[0].message.includes(`reason=${v.expect.reason}`)) mismatches.push(`${v.name}: ${w[0].message}`);
      else if (
        v.messageId &&
        v.expect.reason !== 'body_too_large' &&
        v.expect.reason !== 'not_json' &&
        JSON.parse(v.body).MessageId === v.messageId &&
        !w[0].message.includes(v.messageId)
      ) {
        mismatches.push(`${v.name}: the WARNING line lacks the MessageId: ${w[0].message}`);
      }
    }
  });
  expect(mismatches).toEqual([]);
}

describe.each([
  { path: 'cryptography', block: false },
  { path: 'openssl command', block: true },
])('every shared vector, in order, on one master ($path)', ({ block }) => {
  let master: Master;
  let results: DeliveryResult[];
  let backend: string;
  let server: CertServer;
  beforeAll(() => {
    ({ master, results, backend, server } = fullRuns[block ? 'openssl' : 'cryptography']);
  });

  test('uses the crypto path under test', () => {
    expect(backend).toBe(block ? 'openssl' : 'cryptography');
  });

  test('comes to the expected verdict on each vector; rejections react with nothing and log one WARNING', () => {
    expectVerdicts(fx.set.vectors, results);
    expect(fx.set.vectors.filter((v) => v.expect.verdict === 'rejected').length).toBeGreaterThanOrEqual(30);
  });

  test('fetched the signing certificate once for all messages, and contacted SNS hosts only', () => {
    expect(server.fetches(CERT_PATH)).toBe(1);
    expect(new Set(server.connects)).toEqual(new Set(['sns.us-east-1.amazonaws.com:443']));
  });

  test('confirmed each verified subscription by visiting its SubscribeURL, and never an unsubscribe one', () => {
    const visited = server.requests.filter((r) => r.path.startsWith(SUBSCRIBE_PATH_PREFIX)).map((r) => r.path);
    const urlPath = (name: string) =>
      JSON.parse(byName(name).body).SubscribeURL.replace('https://sns.us-east-1.amazonaws.com', '');
    expect(visited.sort()).toEqual(
      [urlPath('subscription-confirmation-v1'), urlPath('subscription-confirmation-v2')].sort(),
    );
    expect(visited).not.toContain(urlPath('unsubscribe-confirmation-v2'));
  });

  test('launch in a salt-cloud group reacts with runner.cloud.create for exactly that instance', () => {
    const r = results[fx.set.vectors.findIndex((v) => v.name === 'launch-v2-subject')];
    expect(r.reaction).toEqual({
      [`ec2_autoscale_launch_${INSTANCE_ID}`]: {
        'runner.cloud.create': [
          {
            args: [
              { provider: 'ec2-autoscale' },
              { instances: INSTANCE_ID },
              { instance_id: INSTANCE_ID },
              { minion: { master: 'salt.example.com', grains: { role: 'web' }, startup_states: 'highstate' } },
              { ssh_username: 'ec2-user' },
            ],
          },
        ],
      },
    });
  });

  test('terminate reacts with wheel.key.delete of exactly that instance id', () => {
    const r = results[fx.set.vectors.findIndex((v) => v.name === 'terminate-v1-no-subject')];
    expect(r.reaction).toEqual({
      [`ec2_autoscale_terminate_${TERMINATED_INSTANCE_ID}`]: {
        'wheel.key.delete': [{ args: [{ match: TERMINATED_INSTANCE_ID }] }],
      },
    });
  });

  test('test notifications and error events react with nothing', () => {
    for (const name of [
      'test-notification-v2',
      'launch-error-v2',
      'terminate-error-v2',
      'unsubscribe-confirmation-v2',
    ]) {
      expect(results[fx.set.vectors.findIndex((v) => v.name === name)].reaction, name).toEqual({});
    }
    const info = results[fx.set.vectors.findIndex((v) => v.name === 'test-notification-v2')].logs;
    expect(info.map((l) => l.level)).toEqual(['INFO']);
  });

  test('handled messages are journalled by sha256 of the MessageId and of the signed string, accepted ones only', async () => {
    const accepted = fx.set.vectors.filter((v) => v.expect.verdict === 'accepted' && !v.replayOf);
    const dir = join(master.cachedir, 'ec2-autoscale', 'handled');
    const journals = await listFiles(dir);
    expect(journals).toHaveLength(1);
    expect(journals[0]).toMatch(/^\d+\.log$/);
    const lines = (await readFile(join(dir, journals[0]), 'utf8')).trimEnd().split('\n');
    expect(lines.map((l) => l.split(' ')[0])).toEqual(
      accepted.map((v) => createHash('sha256').update(v.messageId!).digest('hex')),
    );
    expect(lines.every((l) => /^[0-9a-f]{64} [0-9a-f]{64} \d+\.\d{3} [a-z_]+ (i-[0-9a-f]+|-)$/.test(l))).toBe(true);
  });
});

describe.concurrent('preauth groups', () => {
  const stub = (m: Master, id = INSTANCE_ID) => join(m.pkiDir, 'minions_autosign', id);

  test('a verified launch writes exactly one 0600 stub for exactly that id; a second delivery writes nothing more', async () => {
    const m = await fx.master();
    const v = byName('launch-preauth-v2');
    const { results } = await fx.deliver(m, [{ body: v.body }, { body: v.body }]);
    expect(results[0].reaction).toEqual({});
    expect(verdictOf(results[0])).toEqual({ verdict: 'accepted', outcome: 'launch' });
    expect(verdictOf(results[1])).toEqual({ verdict: 'rejected', reason: 'duplicate_message' });
    expect(await listFiles(join(m.pkiDir, 'minions_autosign'))).toEqual([INSTANCE_ID]);
    expect((await stat(stub(m))).mode & 0o777).toBe(0o600);
    expect(await listFiles(m.pkiDir)).toEqual([`minions_autosign/${INSTANCE_ID}`]);
  });

  test('hostile and broken messages write nothing under pki_dir', async () => {
    const m = await fx.master();
    const hostile = fx.set.vectors.filter((v) => v.expect.verdict === 'rejected' && !v.replayOf);
    const at = new Date();
    // Signed by the real key but naming the preauth group with hostile ids, or from an untrusted topic.
    const signed = ['*', 'i-*', '../x', '../../minions/evil', 'i-0123456789abcdef0/../../x'].map((id) =>
      fx.set.notification({ group: 'worker-asg', instanceId: id, timestamp: at }),
    );
    const foreign = JSON.stringify(
      fx.set.sign({
        ...JSON.parse(fx.set.notification({ group: 'worker-asg', timestamp: at })),
        TopicArn: 'arn:aws:sns:us-east-1:999999999999:evil',
      }),
    );
    const stale = fx.set.notification({ group: 'worker-asg', timestamp: new Date(Date.now() - 2 * 3600_000) });
    const bodies = [...hostile.map((v) => v.body), ...signed, foreign, stale];
    const { results } = await fx.deliver(
      m,
      bodies.map((body) => ({ body })),
    );
    expect(results.map((r) => verdictOf(r).verdict)).toEqual(bodies.map(() => 'rejected'));
    expect(await listFiles(m.pkiDir)).toEqual([]);
  });

  test('terminate removes the stub left for that id and deletes its key', async () => {
    const m = await fx.master();
    const { results } = await fx.deliver(m, [
      { body: byName('launch-preauth-v2').body },
      {
        body: fx.set.notification({
          event: 'autoscaling:EC2_INSTANCE_TERMINATE',
          group: 'worker-asg',
          instanceId: INSTANCE_ID,
        }),
      },
    ]);
    expect(results[1].reaction).toEqual({
      [`ec2_autoscale_terminate_${INSTANCE_ID}`]: { 'wheel.key.delete': [{ args: [{ match: INSTANCE_ID }] }] },
    });
    expect(results[1].logs.some((l) => l.message.includes('removed its unused autosign stub'))).toBe(true);
    expect(await listFiles(m.pkiDir)).toEqual([]);
  });

  test('the stub goes to ec2.autoscale.pki_dir when it is set', async () => {
    const m = await fx.master();
    const custom = join(m.dir, 'custom-pki');
    (m.opts['ec2.autoscale'] as Record<string, unknown>).pki_dir = custom;
    await fx.deliver(m, [{ body: byName('launch-preauth-v2').body }]);
    expect(await listFiles(custom)).toEqual([`minions_autosign/${INSTANCE_ID}`]);
    expect(await listFiles(m.pkiDir)).toEqual([]);
  });
});

describe.concurrent('input, cache and configuration', () => {
  test('takes data["post"] when salt-api parsed the body, else parses data["body"]', async () => {
    const m = await fx.master();
    const a = JSON.parse(fx.set.notification({ instanceId: 'i-0aaaaaaaaaaaaaaa1' }));
    const b = fx.set.notification({ instanceId: 'i-0bbbbbbbbbbbbbbb2' });
    const { results } = await fx.deliver(m, [
      { data: { post: a, headers: {} } },
      { data: { body: b, post: {} } },
      { data: { body: 'x'.repeat(300 * 1024), post: a } },
    ]);
    expect(Object.keys(results[0].reaction!)).toEqual(['ec2_autoscale_launch_i-0aaaaaaaaaaaaaaa1']);
    expect(Object.keys(results[1].reaction!)).toEqual(['ec2_autoscale_launch_i-0bbbbbbbbbbbbbbb2']);
    // The raw body is what came over the wire: its size counts even when a parsed post is present.
    expect(verdictOf(results[2])).toEqual({ verdict: 'rejected', reason: 'body_too_large' });
  });

  test('before provision wrote sns.topic_arn the reactor trusts no topic: every message is unknown_topic', async () => {
    const m = await fx.master((c) => {
      delete c.sns.topic_arn;
      c.sns.extra_topic_arns = [];
    });
    expect((m.opts['ec2.autoscale'] as { topic_arns: string[] }).topic_arns).toEqual([]);
    const { results } = await fx.deliver(m, [
      { body: byName('launch-v2-subject').body },
      { body: byName('subscription-confirmation-v2').body },
    ]);
    for (const r of results) {
      expect(verdictOf(r)).toEqual({ verdict: 'rejected', reason: 'unknown_topic' });
      expect(r.logs.map((l) => l.level)).toEqual(['WARNING']);
    }
  });

  test('a body nested deeper than Python can parse is not_json, not a crash', async () => {
    const m = await fx.master();
    const deep = '['.repeat(50_000) + ']'.repeat(50_000);
    const { results } = await fx.deliver(m, [{ data: { body: deep, post: {} } }]);
    expect(verdictOf(results[0]), JSON.stringify(results[0]).slice(0, 2000)).toEqual({
      verdict: 'rejected',
      reason: 'not_json',
    });
    expect(results[0].reaction).toEqual({});
  });

  test('many messages share one certificate fetch (on-disk cache across fresh module loads)', async () => {
    const m = await fx.master();
    const server = await fx.startServer();
    const bodies = Array.from({ length: 25 }, (_, i) =>
      fx.set.notification({ instanceId: `i-${(0x100000000 + i).toString(16).padStart(17, '0').slice(-17)}` }),
    );
    const { results } = await fx.deliver(
      m,
      bodies.map((body) => ({ body })),
      {},
      'python3',
      server,
    );
    expect(results.map((r) => verdictOf(r))).toEqual(bodies.map(() => ({ verdict: 'accepted', outcome: 'launch' })));
    expect(server.fetches(CERT_PATH)).toBe(1);
  });

  test('handled records older than max_age + clock_skew are pruned (files of an earlier version too); newer ones are kept', async () => {
    const m = await fx.master();
    const handled = join(m.cachedir, 'ec2-autoscale', 'handled');
    await mkdir(handled, { recursive: true, mode: 0o700 });
    const keep = 3600 + 300;
    const bucket = Math.floor(Date.now() / 1000 / keep);
    const old = join(handled, 'a'.repeat(64));
    const recent = join(handled, 'b'.repeat(64));
    await writeFile(old, '');
    await writeFile(recent, '');
    await writeFile(join(handled, `${bucket - 2}.log`), '');
    await writeFile(join(handled, `${bucket - 1}.log`), '');
    const { utimes } = await import('node:fs/promises');
    const past = (Date.now() - (keep + 60) * 1000) / 1000;
    await utimes(old, past, past);
    const recentTime = (Date.now() - 3000 * 1000) / 1000;
    await utimes(recent, recentTime, recentTime);
    const { results } = await fx.deliver(m, [{ body: fx.set.notification({}) }]);
    expect(verdictOf(results[0])).toEqual({ verdict: 'accepted', outcome: 'launch' });
    expect((await listFiles(handled)).sort()).toEqual(['b'.repeat(64), `${bucket - 1}.log`, `${bucket}.log`].sort());
  });

  test('a form-encoded POST (empty raw body, params in post) is still size-checked and verified', async () => {
    const m = await fx.master();
    const { results } = await fx.deliver(m, [
      { data: { body: '', post: { Type: 'Notification', Message: 'x'.repeat(300 * 1024) } } },
      { data: { body: '', post: { Type: 'Notification', MessageId: 'm', TopicArn: TOPIC_ARN } } },
    ]);
    expect(results.map((r) => verdictOf(r))).toEqual([
      { verdict: 'rejected', reason: 'body_too_large' },
      { verdict: 'rejected', reason: 'bad_envelope' },
    ]);
  });

  test('a corrupt cached certificate is ignored: fetched again, message accepted, cache repaired', async () => {
    const m = await fx.master();
    const certs = join(m.cachedir, 'ec2-autoscale', 'certs');
    await mkdir(certs, { recursive: true });
    const file = join(certs, `${createHash('sha256').update(fx.set.signingCertUrl).digest('hex')}.pem`);
    await writeFile(file, '-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n');
    const server = await fx.startServer();
    const { results } = await fx.deliver(m, [{ body: fx.set.notification({}) }], {}, 'python3', server);
    expect(verdictOf(results[0])).toEqual({ verdict: 'accepted', outcome: 'launch' });
    expect(errors(results[0])).toEqual([]);
    expect(server.fetches(CERT_PATH)).toBe(1);
    expect(await readFile(file, 'utf8')).toBe(fx.set.certs[CERT_PATH]);
  });

  test('a certificate fetch that outlasts cert_fetch_timeout is cert_fetch_failed', async () => {
    const slow = await fx.startServer({ delayMs: 20_000 });
    const m = await fx.master((c) => {
      c.reactor.cert_fetch_timeout_seconds = 1;
    });
    const { results } = await fx.deliver(m, [{ body: fx.set.notification({}) }], {}, 'python3', slow);
    expect(verdictOf(results[0])).toEqual({ verdict: 'rejected', reason: 'cert_fetch_failed' });
    // the reactor's own time for the event (not python's start-up): it gave up after ~1 s, not the server's 20 s
    expect(results[0].seconds).toBeLessThan(10);
  });

  test('without the master.d settings it logs one ERROR and reacts with nothing', async () => {
    const m = await fx.master();
    delete m.opts['ec2.autoscale'];
    const { results } = await fx.deliver(m, [{ body: fx.set.notification({}) }]);
    expect(results[0].reaction).toEqual({});
    expect(errors(results[0]).map((l) => l.message)).toEqual([
      expect.stringContaining("__opts__['ec2.autoscale'] is missing"),
    ]);
  });

  test('a lone surrogate in a signed field is a bad signature, not a crash', async () => {
    const m = await fx.master();
    const env = JSON.parse(fx.set.notification({}));
    const body = JSON.stringify(env).replace('"Subject":"', '"Subject":"\\ud800');
    const { results } = await fx.deliver(m, [{ body }]);
    expect(verdictOf(results[0])).toEqual({ verdict: 'rejected', reason: 'bad_signature' });
    expect(errors(results[0])).toEqual([]);
  });

  test('an unusable cache_dir logs one ERROR and reacts with nothing', async () => {
    const m = await fx.master();
    const file = join(m.dir, 'not-a-dir');
    await mkdir(m.dir, { recursive: true });
    await writeFile(file, '');
    (m.opts['ec2.autoscale'] as Record<string, unknown>).cache_dir = join(file, 'cache');
    const { results } = await fx.deliver(m, [{ body: fx.set.notification({}) }]);
    expect(results[0].reaction).toEqual({});
    expect(errors(results[0]).map((l) => l.message)).toEqual([
      expect.stringContaining('cannot use the cache directory'),
    ]);
  });

  test('a SubscribeURL that fails (HTTP 404) logs one ERROR and reacts with nothing', async () => {
    const m = await fx.master();
    const base = JSON.parse(byName('subscription-confirmation-v2').body);
    const env = fx.set.sign({
      Type: base.Type,
      MessageId: '5d6c2a10-0b8e-4a57-9a0e-3f1c2b4d5e6f',
      Token: base.Token,
      TopicArn: base.TopicArn,
      Message: base.Message,
      SubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=NotThere',
      Timestamp: new Date().toISOString(),
    });
    const { results } = await fx.deliver(m, [{ body: JSON.stringify(env) }]);
    expect(results[0].reaction).toEqual({});
    expect(errors(results[0]).map((l) => l.message)).toEqual([
      expect.stringMatching(/could not confirm the SNS subscription .*HTTP Error 404/),
    ]);
    expect(warnings(results[0])).toEqual([]);
  });

  test('the log line never carries a raw newline from the sender', async () => {
    const m = await fx.master();
    const body = JSON.stringify({ Type: 'Notification', MessageId: 'x\nFAKE LOG LINE', TopicArn: TOPIC_ARN });
    const { results } = await fx.deliver(m, [{ body }]);
    expect(warnings(results[0])).toHaveLength(1);
    expect(warnings(results[0])[0].message).not.toContain('\n');
    expect(warnings(results[0])[0].message).toContain('reason=bad_envelope');
  });
});

describe.concurrent('Salt versions', () => {
  test('on a master without the cloud runner (Salt 3008), a salt-cloud launch says what to do instead of failing in Salt', async () => {
    const m = await fx.master();
    const launch = byName('launch-v2-subject').body;
    const preauth = byName('launch-preauth-v2').body;
    const { results } = await fx.deliver(m, [{ body: launch }, { body: preauth }], {
      saltRunners: ['manage.status', 'jobs.list_jobs'],
    });
    expect(results[0].reaction).toEqual({});
    expect(results[0].logs.map((l) => l.level)).toEqual(['ERROR']);
    expect(results[0].logs[0].message).toMatch(
      /cannot bootstrap it, this master has no cloud runner \(Salt 3008 .*Set `bootstrap: preauth`/,
    );
    // preauth needs no runner: it still works there.
    expect(verdictOf(results[1])).toEqual({ verdict: 'accepted', outcome: 'launch' });
  });

  test('a master with neither cryptography nor the openssl command: one clear ERROR line, no reaction', async () => {
    const m = await fx.master();
    const python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
    const run = await runHarness(
      {
        reactor: fx.reactor,
        opts: m.opts,
        deliveries: [{ body: byName('launch-v2-subject').body }],
        blockCryptography: true,
      },
      { ...fx.server.env, PATH: '/nonexistent' },
      python,
    );
    const [r] = run.results;
    expect(r.error).toBeNull();
    expect(r.reaction).toEqual({});
    expect(r.logs.map((l) => [l.level, l.message])).toEqual([
      [
        'ERROR',
        expect.stringMatching(/^ec2-autoscale: neither the python `cryptography` package nor the `openssl` command/),
      ],
    ]);
  });

  test('on a master with the cloud runner (Salt 3006/3007), the launch reacts with runner.cloud.create', async () => {
    const m = await fx.master();
    const { results } = await fx.deliver(m, [{ body: byName('launch-v2-subject').body }], {
      saltRunners: ['cloud.create', 'cloud.profile'],
    });
    expect(Object.values(results[0].reaction!).map((v) => Object.keys(v as object)[0])).toEqual([
      'runner.cloud.create',
    ]);
  });
});

describe('the reaction shape', () => {
  // The harness compiles each reaction as Salt's reactor does (test/helpers/salt_reactwrap.py: pad_funcs,
  // verify_high, compile_high_data, ReactWrap.run's "args" form, repack_dictlist); here the calls it yields are
  // bound to the signatures of cloud.create (salt/runners/cloud.py) and key.delete (salt/wheel/key.py).
  const BIND = `
import inspect, json, sys
def create(provider, instances, opts=None, **kwargs): pass
def delete(match): pass
funs = {("runner", "cloud.create"): create, ("wheel", "key.delete"): delete}
out = []
for call in json.loads(sys.stdin.read()):
    bound = inspect.signature(funs[(call["client"], call["fun"])]).bind(*call["arg"], **call["kwarg"])
    out.append({"client": call["client"], "fun": call["fun"], "bound": dict(bound.arguments)})
print(json.dumps(out))
`;
  test('Salt compiles the launch and terminate reactions into cloud.create(provider, instances, **kwargs) and key.delete(match)', async () => {
    const m = await fx.master();
    const { results } = await fx.deliver(m, [
      { body: byName('launch-v1-subject').body },
      { body: byName('terminate-v2-subject').body },
    ]);
    expect(results.flatMap((x) => x.saltErrors)).toEqual([]);
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync('python3', ['-c', BIND], {
      input: JSON.stringify(results.flatMap((x) => x.saltCalls)),
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual([
      {
        client: 'runner',
        fun: 'cloud.create',
        bound: {
          provider: 'ec2-autoscale',
          instances: INSTANCE_ID,
          kwargs: {
            instance_id: INSTANCE_ID,
            ssh_username: 'ec2-user',
            minion: { master: 'salt.example.com', grains: { role: 'web' }, startup_states: 'highstate' },
          },
        },
      },
      { client: 'wheel', fun: 'key.delete', bound: { match: TERMINATED_INSTANCE_ID } },
    ]);
  });

  test('the harness refuses what Salt would: args that are not one-key dicts, a state with no function', async () => {
    const m = await fx.master();
    const sls = async (name: string, reaction: string) => {
      const path = join(fx.dir, `${name}.sls`);
      await writeFile(path, `#!py\ndef run():\n    return ${reaction}\n`);
      return path;
    };
    const twoKeys = await sls('two-keys', '{"x": {"wheel.key.delete": [{"args": [{"match": "i-1", "extra": 1}]}]}}');
    const noFun = await sls('no-fun', '{"y": {"runner": [{"args": []}]}}');
    const { results } = await fx.deliver(m, [
      { body: '{}', reactor: twoKeys },
      { body: '{}', reactor: noFun },
    ]);
    expect(results.map((r) => r.saltCalls)).toEqual([[], []]);
    expect(results.map((r) => r.saltErrors)).toEqual([
      ["Reactor 'x' failed to execute wheel 'key.delete': Incorrect argument format"],
      ['No function declared in state runner in ID y'],
    ]);
  });
});

describe('the template', () => {
  test('holds no Handlebars expression but {{version}} and {{entryKey}}: no config value is ever pasted into the Python', async () => {
    const src = await readFile(new URL('../templates/ec2-autoscale.sls.hbs', import.meta.url), 'utf8');
    expect(new Set(src.match(/\{\{[^}]*\}\}/g))).toEqual(new Set(['{{version}}', '{{entryKey}}']));
    expect(src.startsWith('#!py\n')).toBe(true);
    const rendered = await readFile(fx.reactor, 'utf8');
    const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
    expect(rendered).toContain(`salt-autoscale ${version}`);
    expect(rendered).not.toContain('{{');
  });
});
