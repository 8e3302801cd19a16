// The gate's tag routing (salt_glue.ROUTES): Salt's webhook engine (salt/engines/webhook.py) fires
// salt/engines/hook/ec2/autoscale with {"headers", "body": bytes}; that event reaches the same gate as
// salt-api's webhook. An event that is not ours reacts with nothing, logs nothing and writes nothing.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { listFiles, type ReactorFixture, setupReactorFixture, verdictOf } from './helpers/reactor-fixture.js';
import { INSTANCE_ID } from './helpers/sns-vectors.js';

const ENGINE_TAG = 'salt/engines/hook/ec2/autoscale';
let fx: ReactorFixture;
beforeAll(async () => {
  fx = await setupReactorFixture();
});
afterAll(async () => {
  await fx?.close();
});

test("an SNS message through Salt's webhook engine (bytes body) is judged by the gate and acted on", async () => {
  const master = await fx.master();
  const launch = fx.set.notification({ group: 'worker-asg', instanceId: INSTANCE_ID });
  const { results } = await fx.deliver(master, [
    { engineBody: launch, tag: ENGINE_TAG },
    { engineBody: launch, tag: ENGINE_TAG },
  ]);
  expect(results[0].error).toBeNull();
  expect(verdictOf(results[0])).toEqual({ verdict: 'accepted', outcome: 'launch' });
  const stub = await stat(join(master.pkiDir, 'minions_autosign', INSTANCE_ID));
  expect(stub.mode & 0o777).toBe(0o600);
  // The same message again through the engine: the gate's dedupe sees it, as for salt-api deliveries.
  expect(verdictOf(results[1])).toEqual({ verdict: 'rejected', reason: 'duplicate_message' });
});

test('a forged message through the webhook engine is rejected with its WARNING line and writes nothing', async () => {
  const master = await fx.master();
  const forged = JSON.parse(fx.set.notification({ group: 'worker-asg' })) as Record<string, string>;
  forged.Message = forged.Message.replace(INSTANCE_ID, 'i-0fedcba9876543210');
  const { results } = await fx.deliver(master, [{ engineBody: JSON.stringify(forged), tag: ENGINE_TAG }]);
  expect(results[0].reaction).toEqual({});
  const warnings = results[0].logs.filter((l) => l.level === 'WARNING');
  expect(warnings).toHaveLength(1);
  expect(warnings[0].message).toMatch(/rejected SNS message: reason=bad_signature message_id="/);
  expect(await listFiles(master.pkiDir)).toEqual([]);
});

test('events that are not ours (other hooks, key events) react with nothing and log nothing', async () => {
  const master = await fx.master();
  const launch = fx.set.notification({ group: 'worker-asg' });
  const { results } = await fx.deliver(master, [
    { body: launch, tag: 'salt/netapi/hook/other' },
    { body: launch, tag: 'salt/key' },
    { engineBody: launch, tag: 'salt/engines/hook/other/path' },
  ]);
  for (const r of results) {
    expect(r.error).toBeNull();
    expect(r.reaction).toEqual({});
    expect(r.logs).toEqual([]);
  }
  expect(await listFiles(master.pkiDir)).toEqual([]);
  expect(await listFiles(master.cachedir)).toEqual([]);
});
