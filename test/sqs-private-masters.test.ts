// A private master set up as the README says (provision, render --master, restart), end to end with no inbound
// port: provision (delivery sqs, two masters) against the fake AWS; each master's drop-in as render writes it,
// loaded as the master would load it; its engine started from that drop-in by the engine loader's mirror
// (test/helpers/engine-harness.py); SNS's fan-out of one signed notification into both masters' queues
// (fake.deliver, which honours the queue policy provision wrote). Nothing here listens for SNS.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { awsEnv, runInProcess } from './aws-helpers.js';
import { type FakeAws, startFakeAws } from './fakes/aws.js';
import { type EngineRun, engineAwsEnv, runEngine } from './helpers/engine-harness.js';
import { EXAMPLE_CONFIG, listFiles, type ReactorFixture, setupReactorFixture } from './helpers/reactor-fixture.js';
import { TOPIC_ARN } from './helpers/sns-vectors.js';

let fx: ReactorFixture;
let fake: FakeAws;
let configFile: string;
const masters = ['a', 'b'] as const;
type Name = (typeof masters)[number];
const paths = (m: Name) => ({
  etc: join(fx.dir, `host-${m}`, 'etc/salt'),
  reactor: join(fx.dir, `host-${m}`, 'srv/reactor'),
  cachedir: join(fx.dir, `host-${m}`, 'cache'),
  pki: join(fx.dir, `host-${m}`, 'pki'),
});

/** The example config, made private: SQS delivery, no salt_api, masters a (primary) and b, paths in the temp dir. */
async function privateConfig(m: Name): Promise<string> {
  const text = (await readFile(EXAMPLE_CONFIG, 'utf8'))
    .replace(/\nsalt_api:\n(?: {2}.*\n)+/, '\ndelivery:\n  mode: sqs\nmasters:\n  a: {primary: true}\n  b: {}\n')
    .replace('config_dir: /etc/salt', `config_dir: ${paths(m).etc}`)
    .replace('reactor_dir: /srv/reactor', `reactor_dir: ${paths(m).reactor}`);
  expect(text).not.toContain('salt_api:');
  return text;
}

const cli = (args: string[]) => runInProcess(args, awsEnv(fake.url, fx.dir));

/** The master opts after salt-master read its master.d drop-in, plus its own cachedir and pki_dir. */
async function masterOpts(m: Name): Promise<Record<string, unknown>> {
  const dropIn = parse(await readFile(join(paths(m).etc, 'master.d/ec2-autoscale.conf'), 'utf8'), {
    version: '1.1',
  }) as Record<string, unknown>;
  return { __role: 'master', cachedir: paths(m).cachedir, pki_dir: paths(m).pki, ...dropIn };
}

const engineEnv = () => engineAwsEnv(fake.url, fx.server.env);

const runMaster = async (m: Name): Promise<EngineRun> =>
  runEngine({ opts: await masterOpts(m), rounds: 2 }, engineEnv());
const waiting = () => [...fake.state.queues.values()].map((q) => [q.name, q.messages.length]);

beforeAll(async () => {
  fx = await setupReactorFixture();
  fake = await startFakeAws({ groups: ['web-asg', 'worker-asg'] });
  for (const m of masters) {
    await mkdir(join(paths(m).etc, 'master.d'), { recursive: true });
    await writeFile(join(paths(m).etc, 'master'), '');
    await mkdir(join(paths(m).pki, 'minions'), { recursive: true });
  }
  configFile = join(fx.dir, 'salt-autoscale.yaml');
  await writeFile(configFile, await privateConfig('a'));
  const provision = await cli(['provision', '--config', configFile, '--yes']);
  expect(provision.stderr).toBe('');
  expect(provision.code).toBe(0);
  for (const m of masters) {
    // Each master's host has the same config but its own paths (one file per host, as an admin copies it).
    const own = join(fx.dir, `host-${m}`, 'salt-autoscale.yaml');
    await writeFile(own, await privateConfig(m));
    const render = await cli(['render', '--config', own, '--master', m, '--out', paths(m).etc]);
    expect(render.stderr).toBe('');
    expect(render.code).toBe(0);
  }
}, 120_000);
afterAll(async () => {
  await fake?.close();
  await fx?.close();
});

describe('delivery sqs: private masters, no inbound port', { timeout: 150_000 }, () => {
  test('provision makes a queue per master, each subscribed with raw delivery off; status shows them', async () => {
    const queues = [...fake.state.queues.keys()].sort();
    expect(queues).toEqual(['salt-autoscale-a', 'salt-autoscale-b', 'salt-autoscale-dlq']);
    const subs = [...fake.state.subscriptions.values()].filter((s) => s.protocol === 'sqs');
    expect(subs.map((s) => [s.endpoint, s.confirmed, s.attributes.RawMessageDelivery]).sort()).toEqual([
      ['arn:aws:sqs:us-east-1:123456789012:salt-autoscale-a', true, 'false'],
      ['arn:aws:sqs:us-east-1:123456789012:salt-autoscale-b', true, 'false'],
    ]);
    const status = await cli(['status', '--config', configFile, '--json']);
    expect(status.code).toBe(0);
    const json = JSON.parse(status.stdout) as { subscriptions: { state: string }[] };
    expect(json.subscriptions.map((s) => s.state)).toEqual(['confirmed', 'confirmed']);
  });

  test('each drop-in starts ec2_autoscale_sqs on its own queue and opens no listener', async () => {
    for (const m of masters) {
      const opts = await masterOpts(m);
      expect(opts.engines).toEqual([
        {
          ec2_autoscale_sqs: expect.objectContaining({
            queue_url: `https://sqs.us-east-1.amazonaws.com/123456789012/salt-autoscale-${m}`,
          }),
        },
      ]);
      expect(opts).not.toHaveProperty('rest_cherrypy');
      expect(JSON.stringify(opts)).not.toContain('webhook');
    }
  });

  test('one launch: both masters admit it (stubs on each pki), salt-cloud bootstraps once, on the primary', async () => {
    const preauth = 'i-0aaaaaaaaaaaaaaa1';
    const cloud = 'i-0aaaaaaaaaaaaaaa2';
    expect(fake.deliver(TOPIC_ARN, fx.set.notification({ group: 'worker-asg', instanceId: preauth }))).toBe(2);
    expect(fake.deliver(TOPIC_ARN, fx.set.notification({ group: 'web-asg', instanceId: cloud }))).toBe(2);
    const [a, b] = [await runMaster('a'), await runMaster('b')];
    for (const run of [a, b]) {
      expect(run.error).toBeNull();
      expect(run.logs.filter((l) => l.level === 'ERROR' || l.level === 'WARNING')).toEqual([]);
    }
    expect(a.calls.filter((c) => c.fun === 'cloud.create')).toHaveLength(1);
    expect(b.calls.filter((c) => c.fun === 'cloud.create')).toEqual([]);
    for (const m of masters) expect(await listFiles(join(paths(m).pki, 'minions_autosign'))).toEqual([preauth]);
    expect(waiting()).toEqual([
      ['salt-autoscale-dlq', 0],
      ['salt-autoscale-a', 0],
      ['salt-autoscale-b', 0],
    ]);
  });

  test('one terminate: each master deletes its own key; a master that was down converges when it is back', async () => {
    const id = 'i-0aaaaaaaaaaaaaaa3';
    for (const m of masters) await writeFile(join(paths(m).pki, 'minions', id), 'key\n');
    const terminate = fx.set.notification({
      event: 'autoscaling:EC2_INSTANCE_TERMINATE',
      group: 'worker-asg',
      instanceId: id,
    });
    expect(fake.deliver(TOPIC_ARN, terminate)).toBe(2);
    const a = await runMaster('a'); // b is down
    expect(a.calls.filter((c) => c.client === 'wheel').map((c) => c.kwarg)).toEqual([{ match: id }]);
    const keys = async (m: Name) => (await readdir(join(paths(m).pki, 'minions'))).filter((k) => k === id);
    expect(await keys('a')).toEqual([]);
    expect(await keys('b')).toEqual([id]);
    expect(fake.state.queues.get('salt-autoscale-b')!.messages).toHaveLength(1);
    await runMaster('b'); // b is back: its queue kept the terminate
    expect(await keys('b')).toEqual([]);
    expect(fake.state.queues.get('salt-autoscale-b')!.messages).toHaveLength(0);
  });

  test('a message sent to the queue by anyone but SNS, unsigned, is deleted with its WARNING line and changes nothing', async () => {
    const forged = JSON.parse(fx.set.notification({ group: 'worker-asg', instanceId: 'i-0aaaaaaaaaaaaaaa4' }));
    forged.Signature = Buffer.from('forged').toString('base64');
    fake.state.queues.get('salt-autoscale-a')!.messages.push({
      id: 'f0000000-0000-4000-8000-000000000000',
      body: JSON.stringify(forged),
      sentAt: Date.now(),
      receiveCount: 0,
      visibleAt: 0,
    });
    const before = await listFiles(paths('a').pki);
    const a = await runMaster('a');
    expect(a.logs.filter((l) => l.level === 'WARNING').map((l) => l.message)).toEqual([
      expect.stringMatching(/rejected SNS message: reason=bad_signature/),
    ]);
    expect(a.calls).toEqual([]);
    expect(await listFiles(paths('a').pki)).toEqual(before);
    expect(fake.state.queues.get('salt-autoscale-a')!.messages).toHaveLength(0);
  });
});
