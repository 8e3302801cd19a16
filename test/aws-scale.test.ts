// 25 groups through the real SDK clients, in-process (no CLI start-up), with latency on every call.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { applyPlan, DEFAULT_CONCURRENCY } from '../src/aws/apply.js';
import { createAwsClients, listGroupNames } from '../src/aws/clients.js';
import { desiredState } from '../src/aws/desired.js';
import { planProvision } from '../src/aws/plan.js';
import { readState } from '../src/aws/read.js';
import { parseConfigText } from '../src/config/load.js';
import { configText } from './aws-helpers.js';
import { type FakeAws, startFakeAws } from './fakes/aws.js';

/** Per call: large enough that 27 rounds one at a time stand clear of a loaded machine's overhead. */
const LATENCY_MS = 60;
const GROUPS = Array.from({ length: 25 }, (_, i) => `asg-${String(i + 1).padStart(2, '0')}`);
const ENV = {
  AWS_ACCESS_KEY_ID: 'AKIAFAKE',
  AWS_SECRET_ACCESS_KEY: 'x',
  AWS_EC2_METADATA_DISABLED: 'true',
  SALT_AUTOSCALE_RETRY_BASE_MS: '5',
};

describe('many groups', () => {
  let fake: FakeAws;
  beforeEach(async () => {
    // The SDK's credential chain reads the process environment.
    for (const [k, v] of Object.entries(ENV)) vi.stubEnv(k, v);
    fake = await startFakeAws({
      groups: [...GROUPS, 'other-1', 'other-2'],
      latencyMs: LATENCY_MS,
      groupPageSize: 10,
      notificationPageSize: 30,
    });
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await fake.close();
  });

  it('provisions 25 groups concurrently, within the bound, and converges', async () => {
    const { config } = parseConfigText(configText({ groups: GROUPS }), 'test.yaml');
    const clients = await createAwsClients({ region: 'us-east-1', endpointUrl: fake.url }, ENV);
    const desired = desiredState(config, 'us-east-1');
    const plan = planProvision(await readState(clients, desired), desired);
    expect(plan.items.filter((i) => i.change === 'create')).toHaveLength(29);

    const started = Date.now();
    const result = await applyPlan(clients, plan);
    const elapsed = Date.now() - started;
    expect(result.done).toHaveLength(29);
    const peak = fake.peakInFlight.get('PutNotificationConfiguration')!;
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(DEFAULT_CONCURRENCY);
    // CreateTopic and CreateQueue, then 27 calls 8 at a time: 6 rounds. One at a time would take 29 rounds.
    expect(elapsed).toBeLessThan(LATENCY_MS * 29);
    for (const g of GROUPS) expect(fake.state.groups.get(g)!.notifications.get(result.topicArn!)!.size).toBe(4);

    // Paged reads see all of it: nothing left to do.
    const again = planProvision(await readState(clients, desired), desired);
    expect(again.items.every((i) => i.change === 'unchanged')).toBe(true);
  });

  it('listGroupNames pages through every group in the region (for init)', async () => {
    const clients = await createAwsClients({ region: 'us-east-1', endpointUrl: fake.url }, ENV);
    const names = await listGroupNames(clients);
    expect(names).toEqual([...GROUPS, 'other-1', 'other-2']);
    expect(fake.calls.filter((c) => c.action === 'DescribeAutoScalingGroups')).toHaveLength(3);
  });
});
