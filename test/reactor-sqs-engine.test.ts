// The SQS engine ec2_autoscale_sqs, started from master opts the way salt-master starts engines
// (test/helpers/engine-harness.py mirrors salt/engines/__init__.py and salt.loader.engines), polling queues of
// the fake AWS (test/fakes/aws.ts) with boto3 (and with Salt's salt.utils.aws when boto3 is missing), judging
// each message with the rendered gate package, running Salt's runner/wheel calls through (fake, recording)
// RunnerClient/WheelClient, and deleting a message only once it is handled.
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type FakeAws, startFakeAws } from './fakes/aws.js';
import { type EngineJob, engineAwsEnv, engineOpts, installEngine, runEngine } from './helpers/engine-harness.js';
import { listFiles, type Master, type ReactorFixture, setupReactorFixture } from './helpers/reactor-fixture.js';
import { INSTANCE_ID } from './helpers/sns-vectors.js';

let fx: ReactorFixture;
let fake: FakeAws;
let sqs: SQSClient;
let sdk: typeof import('@aws-sdk/client-sqs');
let enginesDir: string;
let n = 0;

beforeAll(async () => {
  fx = await setupReactorFixture();
  enginesDir = await installEngine(fx.reactor);
  fake = await startFakeAws({});
  sdk = await import('@aws-sdk/client-sqs');
  sqs = new sdk.SQSClient({
    region: 'us-east-1',
    endpoint: fake.url,
    credentials: { accessKeyId: 'AKIAFAKE', secretAccessKey: 'fake' },
  });
});
afterAll(async () => {
  sqs?.destroy();
  await fake?.close();
  await fx?.close();
});

const engineEnv = () => engineAwsEnv(fake.url, fx.server.env);

async function newQueue(): Promise<{ name: string; url: string }> {
  const name = `salt-autoscale-master-${++n}`;
  const url = (await sqs.send(new sdk.CreateQueueCommand({ QueueName: name }))).QueueUrl!;
  return { name, url };
}
const send = (url: string, body: string) => sqs.send(new sdk.SendMessageCommand({ QueueUrl: url, MessageBody: body }));
const waiting = (name: string) => fake.state.queues.get(name)!.messages.length;

async function engineRun(
  master: Master,
  queueUrl: string,
  job: Partial<EngineJob> = {},
  config: Record<string, unknown> = {},
) {
  const run = await runEngine(
    { opts: engineOpts(master.opts, enginesDir, { queue_url: queueUrl, ...config }), rounds: 2, ...job },
    engineEnv(),
  );
  return run;
}
const lines = (run: { logs: { level: string; message: string }[] }, level: string) =>
  run.logs.filter((l) => l.level === level).map((l) => l.message);
const settingsOf = (m: Master) => m.opts['ec2.autoscale'] as Record<string, unknown>;

describe('the engine loader (as salt/engines/__init__.py)', { timeout: 150_000 }, () => {
  test('finds ec2_autoscale_sqs in engines_dirs and starts it with its engines: config as keyword arguments', async () => {
    const master = await fx.master();
    const q = await newQueue();
    const run = await engineRun(master, q.url, { rounds: 1 }, { max_messages: 5, wait_seconds: 1 });
    expect(run.error).toBeNull();
    expect(run.found).toEqual([
      {
        engine: 'ec2_autoscale_sqs',
        module: 'ec2_autoscale_sqs',
        path: join(enginesDir, 'ec2_autoscale_sqs.py'),
        config: { queue_url: q.url, max_messages: 5, wait_seconds: 1 },
      },
    ]);
    expect(lines(run, 'INFO')).toContain(`ec2-autoscale: polling ${q.url} (Boto3Queue)`);
  });

  test('a config without queue_url is one ERROR line saying what to do, and nothing is polled', async () => {
    const master = await fx.master();
    const run = await runEngine(
      { opts: engineOpts(master.opts, enginesDir, { queue_url: undefined }), rounds: 1 },
      engineEnv(),
    );
    expect(run.error).toBeNull();
    const errors = lines(run, 'ERROR');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/ec2_autoscale_sqs engine's config .*queue_url must be the queue's URL.*not polling/);
    expect(fake.calls.filter((c) => c.action === 'ReceiveMessage' && c.params.QueueUrl === undefined)).toEqual([]);
  });
});

describe('one master', { timeout: 150_000 }, () => {
  test('launches: cloud.create runs through Salt for a salt-cloud group, the stub is written for preauth, both deleted', async () => {
    const master = await fx.master();
    const q = await newQueue();
    await send(q.url, fx.set.notification({ group: 'web-asg', instanceId: INSTANCE_ID }));
    await send(q.url, fx.set.notification({ group: 'worker-asg', instanceId: 'i-0aaaaaaaaaaaaaaa1' }));
    const run = await engineRun(master, q.url);
    expect(run.error).toBeNull();
    expect(lines(run, 'ERROR')).toEqual([]);
    expect(run.calls.filter((c) => c.client === 'runner')).toEqual([
      {
        client: 'runner',
        fun: 'cloud.create',
        kwarg: expect.objectContaining({
          provider: expect.any(String),
          instances: INSTANCE_ID,
          instance_id: INSTANCE_ID,
        }),
        user: 'ec2_autoscale_sqs',
      },
    ]);
    expect(await listFiles(master.pkiDir)).toEqual([`minions/${INSTANCE_ID}`, 'minions_autosign/i-0aaaaaaaaaaaaaaa1']);
    expect(waiting(q.name)).toBe(0);
    expect(lines(run, 'INFO')).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`launch of ${INSTANCE_ID} in group "web-asg": runner.cloud.create`)),
        expect.stringMatching(/launch of i-0aaaaaaaaaaaaaaa1 in group "worker-asg": wrote the autosign stub/),
      ]),
    );
  });

  test('a hostile message is deleted with its WARNING line, and Salt is asked for nothing', async () => {
    const master = await fx.master();
    const q = await newQueue();
    const forged = JSON.parse(fx.set.notification({ group: 'worker-asg' })) as Record<string, string>;
    forged.Message = forged.Message.replace(INSTANCE_ID, 'i-0fedcba9876543210');
    await send(q.url, JSON.stringify(forged));
    const run = await engineRun(master, q.url);
    const warnings = lines(run, 'WARNING');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      new RegExp(`^ec2-autoscale: rejected SNS message: reason=bad_signature message_id="${forged.MessageId}"`),
    );
    expect(run.calls).toEqual([]);
    expect(await listFiles(master.pkiDir)).toEqual([]);
    expect(waiting(q.name)).toBe(0);
  });

  test('a runner that raises leaves the message in the queue; once Salt works, it is bootstrapped once and deleted', async () => {
    const master = await fx.master();
    const q = await newQueue();
    await send(q.url, fx.set.notification({ group: 'web-asg', instanceId: INSTANCE_ID }));
    // visibility_timeout 0: the message is visible again at once, so each round receives it again.
    const failing = await engineRun(master, q.url, { cloudCreate: 'raise', rounds: 3 }, { visibility_timeout: 0 });
    expect(failing.calls.filter((c) => c.client === 'runner')).toHaveLength(3);
    const errors = lines(failing, 'ERROR');
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatch(
      new RegExp(
        `^ec2-autoscale: runner.cloud.create for ${INSTANCE_ID} failed: RuntimeError: salt-cloud could not reach .*; not handled, it will be delivered again`,
      ),
    );
    expect(waiting(q.name)).toBe(1);
    expect(fake.state.queues.get(q.name)!.messages[0].receiveCount).toBe(3);
    expect(await listFiles(master.pkiDir)).toEqual([]);

    const working = await engineRun(master, q.url, { rounds: 2 }, { visibility_timeout: 0 });
    expect(working.calls.filter((c) => c.client === 'runner')).toHaveLength(1);
    expect(await listFiles(master.pkiDir)).toEqual([`minions/${INSTANCE_ID}`]);
    expect(waiting(q.name)).toBe(0);
  });

  test('a message that keeps failing reaches the dead-letter queue after max_receive_count receives, unhandled', async () => {
    const master = await fx.master();
    const dlq = await newQueue();
    const dlqArn = `arn:aws:sqs:us-east-1:123456789012:${dlq.name}`;
    const name = `salt-autoscale-master-${++n}`;
    const url = (
      await sqs.send(
        new sdk.CreateQueueCommand({
          QueueName: name,
          Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 }) },
        }),
      )
    ).QueueUrl!;
    const body = fx.set.notification({ group: 'web-asg', instanceId: 'i-0aaaaaaaaaaaaaa17' });
    await send(url, body);
    const run = await engineRun(master, url, { cloudCreate: 'raise', rounds: 4 }, { visibility_timeout: 0 });
    // Two receives, two failed bootstraps; the third receive finds it moved.
    expect(run.calls.filter((c) => c.fun === 'cloud.create')).toHaveLength(2);
    expect(waiting(name)).toBe(0);
    expect(fake.state.queues.get(dlq.name)!.messages.map((m) => m.body)).toEqual([body]);
    expect(await listFiles(master.pkiDir)).toEqual([]);
  });

  test('a duplicate delivery (SNS at least once) reacts once; both copies are deleted', async () => {
    const master = await fx.master();
    const q = await newQueue();
    const body = fx.set.notification({ group: 'web-asg', instanceId: 'i-0bbbbbbbbbbbbbbb2' });
    await send(q.url, body);
    await send(q.url, body);
    const run = await engineRun(master, q.url);
    expect(run.calls.filter((c) => c.client === 'runner')).toHaveLength(1);
    expect(lines(run, 'WARNING')).toEqual([expect.stringMatching(/reason=duplicate_message/)]);
    expect(waiting(q.name)).toBe(0);
  });

  test("without boto3, Salt's salt.utils.aws signs the same calls (sig4 for sqs) and the message is handled", async () => {
    const master = await fx.master();
    const q = await newQueue();
    await send(q.url, fx.set.notification({ group: 'worker-asg', instanceId: 'i-0ccccccccccccccc3' }));
    const run = await engineRun(master, q.url, { blockBoto3: true, fakeSaltAws: true });
    expect(run.error).toBeNull();
    expect(lines(run, 'INFO')).toContain(`ec2-autoscale: polling ${q.url} (SaltAwsQueue)`);
    expect(run.calls.find((c) => c.client === 'salt.utils.aws')).toEqual({
      client: 'salt.utils.aws',
      fun: 'sig4',
      kwarg: { product: 'sqs', location: 'us-east-1' },
    });
    expect(await listFiles(master.pkiDir)).toEqual(['minions_autosign/i-0ccccccccccccccc3']);
    expect(waiting(q.name)).toBe(0);
  });
});

describe('several masters, each with its own queue and pki', { timeout: 150_000 }, () => {
  test('a terminate reaches both queues and both masters delete their own key', async () => {
    const [a, b] = [await fx.master(), await fx.master()];
    settingsOf(b).performs_once_per_instance = false;
    const [qa, qb] = [await newQueue(), await newQueue()];
    const id = 'i-0ddddddddddddddd4';
    for (const m of [a, b]) {
      await mkdir(join(m.pkiDir, 'minions'), { recursive: true });
      await writeFile(join(m.pkiDir, 'minions', id), 'key\n');
    }
    // SNS fans the same signed envelope out to every subscribed queue.
    const terminate = fx.set.notification({
      event: 'autoscaling:EC2_INSTANCE_TERMINATE',
      group: 'web-asg',
      instanceId: id,
    });
    await send(qa.url, terminate);
    await send(qb.url, terminate);
    const [ra, rb] = await Promise.all([engineRun(a, qa.url), engineRun(b, qb.url)]);
    for (const r of [ra, rb]) {
      expect(r.calls.filter((c) => c.client === 'wheel')).toEqual([
        { client: 'wheel', fun: 'key.delete', kwarg: { match: id }, user: 'ec2_autoscale_sqs' },
      ]);
    }
    expect(await readdir(join(a.pkiDir, 'minions'))).toEqual([]);
    expect(await readdir(join(b.pkiDir, 'minions'))).toEqual([]);
    expect(waiting(qa.name) + waiting(qb.name)).toBe(0);
  });

  test('while one master is down its queue keeps the terminate; when it is back it converges too', async () => {
    const [a, b] = [await fx.master(), await fx.master()];
    const [qa, qb] = [await newQueue(), await newQueue()];
    const id = 'i-0eeeeeeeeeeeeeee5';
    for (const m of [a, b]) {
      await mkdir(join(m.pkiDir, 'minions'), { recursive: true });
      await writeFile(join(m.pkiDir, 'minions', id), 'key\n');
    }
    const terminate = fx.set.notification({
      event: 'autoscaling:EC2_INSTANCE_TERMINATE',
      group: 'web-asg',
      instanceId: id,
    });
    await send(qa.url, terminate);
    await send(qb.url, terminate);
    await engineRun(a, qa.url); // b is down
    expect(await readdir(join(a.pkiDir, 'minions'))).toEqual([]);
    expect(waiting(qb.name)).toBe(1);
    await engineRun(b, qb.url); // b is back
    expect(await readdir(join(b.pkiDir, 'minions'))).toEqual([]);
    expect(waiting(qb.name)).toBe(0);
  });

  test('a launch is bootstrapped once: only the master marked performs_once_per_instance runs cloud.create', async () => {
    const [a, b] = [await fx.master(), await fx.master()];
    settingsOf(b).performs_once_per_instance = false;
    const [qa, qb] = [await newQueue(), await newQueue()];
    const launch = fx.set.notification({ group: 'web-asg', instanceId: 'i-0fffffffffffffff6' });
    await send(qa.url, launch);
    await send(qb.url, launch);
    const [ra, rb] = await Promise.all([engineRun(a, qa.url), engineRun(b, qb.url)]);
    expect(ra.calls.filter((c) => c.fun === 'cloud.create')).toHaveLength(1);
    expect(rb.calls).toEqual([]);
    expect(lines(rb, 'INFO')).toContainEqual(
      expect.stringMatching(
        /launch of i-0fffffffffffffff6 in group "web-asg": bootstrapped by another master \(performs_once_per_instance is false here\)/,
      ),
    );
    expect(waiting(qa.name) + waiting(qb.name)).toBe(0);
  });
});

describe('a master cluster (cluster_id, shared cluster_pki_dir)', { timeout: 150_000 }, () => {
  test('key deletes go to cluster_pki_dir; autosign stubs to the master’s own pki_dir, where Salt reads them', async () => {
    const master = await fx.master();
    const shared = join(master.dir, 'cluster-pki');
    const id = 'i-0999999999999999a';
    await mkdir(join(shared, 'minions'), { recursive: true });
    await writeFile(join(shared, 'minions', id), 'key\n');
    master.opts = { ...master.opts, cluster_id: 'salt-cluster', cluster_pki_dir: shared };
    const q = await newQueue();
    await send(
      q.url,
      fx.set.notification({ event: 'autoscaling:EC2_INSTANCE_TERMINATE', group: 'web-asg', instanceId: id }),
    );
    await send(q.url, fx.set.notification({ group: 'worker-asg', instanceId: 'i-0888888888888888b' }));
    const run = await engineRun(master, q.url);
    expect(lines(run, 'ERROR')).toEqual([]);
    expect(await readdir(join(shared, 'minions'))).toEqual([]);
    expect(await listFiles(master.pkiDir)).toEqual(['minions_autosign/i-0888888888888888b']);
    expect(waiting(q.name)).toBe(0);
  });
});
