// Lifecycle hooks end to end: the rendered reactor in the Salt-like harness (fresh module per event, Salt's own
// tags and event data), the fake AWS holding instances in Pending:Wait / Terminating:Wait, and the gate's
// worker thread calling CompleteLifecycleAction / RecordLifecycleActionHeartbeat with boto3 through
// AWS_ENDPOINT_URL. Each harness run is one master process; the ledger carries the open action across runs
// (a master restart), as on a real master.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  AutoScalingClient,
  CompleteLifecycleActionCommand,
  PutLifecycleHookCommand,
} from '@aws-sdk/client-auto-scaling';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { lifecycleItems } from '../src/reconcile/plan.js';
import { gateSourceDir } from '../src/render/gate-files.js';
import { type FakeAws, type FakeLifecycleAction, startFakeAws } from './fakes/aws.js';
import { listFiles, type Master, type ReactorFixture, setupReactorFixture } from './helpers/reactor-fixture.js';
import type { Delivery, DeliveryResult } from './helpers/reactor-harness.js';
import { runHarness } from './helpers/reactor-harness.js';
import { TOPIC_ARN } from './helpers/sns-vectors.js';

const GROUP = 'worker-asg'; // preauth in the example config
const LAUNCH_HOOK = 'salt-autoscale-launch';
const TERMINATE_HOOK = 'salt-autoscale-terminate';

let fx: ReactorFixture;
let fake: FakeAws;
let asg: AutoScalingClient;
beforeAll(async () => {
  fx = await setupReactorFixture();
  fake = await startFakeAws({ groups: [GROUP] });
  asg = new AutoScalingClient({
    endpoint: fake.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  for (const [name, transition] of [
    [LAUNCH_HOOK, 'autoscaling:EC2_INSTANCE_LAUNCHING'],
    [TERMINATE_HOOK, 'autoscaling:EC2_INSTANCE_TERMINATING'],
  ]) {
    await asg.send(
      new PutLifecycleHookCommand({
        AutoScalingGroupName: GROUP,
        LifecycleHookName: name,
        LifecycleTransition: transition,
        HeartbeatTimeout: 600,
        DefaultResult: 'ABANDON',
        NotificationMetadata: 'salt-autoscale',
      }),
    );
  }
}, 120_000);
afterAll(async () => {
  asg?.destroy();
  await fake?.close();
  await fx?.close();
});

interface Lifecycle {
  ready?: string;
  on_failure?: string;
  heartbeat_timeout?: number;
  drain?: Record<string, unknown> | null;
}

/** A master whose drop-in turns lifecycle hooks on for GROUP (the contract's keys, as render will write them). */
async function lifecycleMaster(launch: Lifecycle = {}, terminate: Lifecycle = {}): Promise<Master> {
  const master = await fx.master();
  const settings = master.opts['ec2.autoscale'] as Record<string, unknown>;
  settings.region = 'us-east-1';
  const groups = settings.groups as Record<string, Record<string, unknown>>;
  groups[GROUP].lifecycle = {
    launch: { hook_name: LAUNCH_HOOK, ready: 'highstate', on_failure: 'ABANDON', heartbeat_timeout: 900, ...launch },
    terminate: {
      hook_name: TERMINATE_HOOK,
      heartbeat_timeout: 600,
      drain: { state: 'drain', timeout: 300 },
      ...terminate,
    },
  };
  return master;
}

const awsEnv = () => ({
  AWS_ENDPOINT_URL: fake.url,
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_EC2_METADATA_DISABLED: 'true',
});

async function deliver(master: Master, deliveries: Delivery[]): Promise<DeliveryResult[]> {
  const run = await runHarness(
    { reactor: fx.reactor, opts: master.opts, deliveries, settle: true },
    { ...fx.server.env, ...awsEnv() },
  );
  for (const [i, r] of run.results.entries()) {
    if (r.error) throw new Error(`delivery ${i}: ${r.error}`);
    if (r.saltErrors.length > 0) throw new Error(`Salt would refuse reaction ${i}: ${r.saltErrors.join('; ')}`);
  }
  return run.results;
}

/** The signed SNS delivery of the lifecycle notification Auto Scaling publishes for this action. */
function lifecycleBody(action: FakeLifecycleAction, messageId = randomUUID()): string {
  const kind = action.transition.endsWith('LAUNCHING') ? 'LAUNCHING' : 'TERMINATING';
  const message = {
    Origin: action.origin,
    LifecycleHookName: action.hook,
    Destination: action.destination,
    AccountId: '123456789012',
    RequestId: randomUUID(),
    LifecycleTransition: action.transition,
    AutoScalingGroupName: action.group,
    Service: 'AWS Auto Scaling',
    Time: new Date().toISOString(),
    EC2InstanceId: action.instanceId,
    NotificationMetadata: 'salt-autoscale',
    LifecycleActionToken: action.token,
  };
  return JSON.stringify(
    fx.set.sign({
      Type: 'Notification',
      MessageId: messageId,
      TopicArn: TOPIC_ARN,
      Subject: `Auto Scaling:  Lifecycle action '${kind}' for instance ${action.instanceId} in progress.`,
      Message: JSON.stringify(message),
      Timestamp: new Date().toISOString(),
    }),
  );
}

let n = 0;
const newInstanceId = () => `i-0${(0xabc000 + ++n).toString(16).padStart(16, '0')}`;

function launched(): FakeLifecycleAction {
  const id = newInstanceId();
  fake.launchInstance(GROUP, id);
  const action = fake.lifecycleActionsOf(id).find((a) => a.hook === LAUNCH_HOOK);
  if (!action) throw new Error('the fake started no launch action');
  return action;
}

const auth = (id: string, master: Master): Delivery => ({
  tag: 'salt/auth',
  // salt/channel/server.py: what the master fires once it accepted the key (auth_events: True, the default);
  // written first: the autosign stub made Salt accept it (AutoKey.check_autosign_dir)
  data: { result: true, act: 'accept', id, pub: '-----BEGIN PUBLIC KEY-----\n...' },
  write: { [join(master.pkiDir, 'minions', id)]: '-----BEGIN PUBLIC KEY-----\n...\n' },
});
const start = (id: string): Delivery => ({
  tag: `salt/minion/${id}/start`,
  // the minion's _fire_master_minion_start through masterapi._minion_event: the load on the bus
  data: {
    id,
    cmd: '_minion_event',
    pretag: null,
    data: `Minion ${id} started at Thu Jan  1 00:00:00 2026`,
    tag: `salt/minion/${id}/start`,
  },
});
/** salt/job/<jid>/ret/<id> as masterapi._return fires it (the minion's return load). */
const jobReturn = (id: string, fun: string, ret: unknown, retcode = 0, funArgs: unknown[] = []): Delivery => {
  const jid = `2026010100000${Math.floor(Math.random() * 1e6)}`;
  return {
    tag: `salt/job/${jid}/ret/${id}`,
    data: { cmd: '_return', id, fun, fun_args: funArgs, jid, retcode, success: retcode === 0, return: ret },
  };
};
const highstate = (ok: boolean) => ({
  'pkg_|-nginx_|-nginx_|-installed': { result: true, comment: 'installed', changes: {} },
  'service_|-nginx_|-nginx_|-running': { result: ok, comment: ok ? 'running' : 'failed to start', changes: {} },
});

const completions = (token: string) =>
  fake.calls.filter((c) => c.action === 'CompleteLifecycleAction' && c.params.LifecycleActionToken === token);
const actionFile = (master: Master, id: string) => join(master.cachedir, 'ec2-autoscale', 'lifecycle', `${id}.json`);
const logText = (results: DeliveryResult[]) => results.flatMap((r) => r.logs.map((l) => `${l.level} ${l.message}`));

describe('a launch', () => {
  test('is held in Pending:Wait until its first highstate returns, then CONTINUE with its own token', async () => {
    const master = await lifecycleMaster();
    const action = launched();
    const id = action.instanceId;
    const first = await deliver(master, [{ body: lifecycleBody(action) }, auth(id, master), start(id)]);
    expect(logText(first).join('\n')).toContain(`lifecycle launch of ${id} in group "${GROUP}"`);
    // admitted as preauth says: the stub for exactly that id, and the open action in the ledger
    expect(await listFiles(join(master.pkiDir, 'minions_autosign'))).toEqual([id]);
    expect(JSON.parse(await readFile(actionFile(master, id), 'utf8'))).toMatchObject({
      token: action.token,
      hook: LAUNCH_HOOK,
      ready: 'highstate',
      state: 'waiting',
    });
    expect(completions(action.token)).toEqual([]);
    expect(fake.lifecycleActionsOf(id)[0].result).toBeUndefined();
    // a job that is not the highstate does not release it
    await deliver(master, [jobReturn(id, 'test.ping', true)]);
    expect(completions(action.token)).toEqual([]);

    const second = await deliver(master, [jobReturn(id, 'state.highstate', highstate(true))]);
    const calls = completions(action.token);
    expect(calls).toHaveLength(1);
    expect(calls[0].params).toMatchObject({
      AutoScalingGroupName: GROUP,
      LifecycleHookName: LAUNCH_HOOK,
      InstanceId: id,
      LifecycleActionResult: 'CONTINUE',
    });
    expect(calls[0].status).toBe(200);
    expect(fake.lifecycleActionsOf(id)[0]).toMatchObject({ result: 'CONTINUE', completedBy: 'call' });
    expect(existsSync(actionFile(master, id))).toBe(false);
    expect(logText(second).join('\n')).toMatch(/completed the lifecycle action of .* CONTINUE, because highstate/);
  }, 120_000);

  test('a failed highstate gives ABANDON (on_failure)', async () => {
    const master = await lifecycleMaster();
    const action = launched();
    const id = action.instanceId;
    await deliver(master, [
      { body: lifecycleBody(action) },
      auth(id, master),
      jobReturn(id, 'state.apply', highstate(false), 2),
    ]);
    expect(completions(action.token).map((c) => c.params.LifecycleActionResult)).toEqual(['ABANDON']);
    expect(fake.lifecycleActionsOf(id)[0].result).toBe('ABANDON');
  }, 120_000);

  test('heartbeats keep a long highstate from timing out', async () => {
    // heartbeat_timeout 12 s here (render allows 30-7200; the gate heartbeats every third of it): a 13 s wait
    const master = await lifecycleMaster({ heartbeat_timeout: 12 });
    const action = launched();
    const id = action.instanceId;
    await deliver(master, [
      { body: lifecycleBody(action) },
      auth(id, master),
      { ...jobReturn(id, 'state.highstate', highstate(true)), sleep: 13 },
    ]);
    const beats = fake.calls.filter(
      (c) => c.action === 'RecordLifecycleActionHeartbeat' && c.params.LifecycleActionToken === action.token,
    );
    expect(beats.length).toBeGreaterThanOrEqual(2);
    expect(beats.every((c) => c.status === 200)).toBe(true);
    expect(fake.lifecycleActionsOf(id)[0]).toMatchObject({ result: 'CONTINUE', heartbeats: beats.length });
  }, 120_000);

  test('a duplicate lifecycle message (SNS again, or a new MessageId for the same token) completes once', async () => {
    const master = await lifecycleMaster({ ready: 'key_accepted' });
    const action = launched();
    const id = action.instanceId;
    const body = lifecycleBody(action);
    const results = await deliver(master, [
      { body },
      { body },
      { body: lifecycleBody(action) },
      auth(id, master),
      { body: lifecycleBody(action) },
      auth(id, master),
    ]);
    expect(completions(action.token)).toHaveLength(1);
    const text = logText(results).join('\n');
    expect(text).toContain('reason=duplicate_message');
    expect(text).toMatch(/this action is open or completed already; nothing to do/);
  }, 120_000);

  test('a CompleteLifecycleAction that fails is retried with backoff, also by the next master process', async () => {
    const master = await lifecycleMaster({ ready: 'key_accepted' });
    const action = launched();
    const id = action.instanceId;
    fake.inject({ kind: 'server', action: 'CompleteLifecycleAction', times: 1 });
    const first = await deliver(master, [{ body: lifecycleBody(action) }, auth(id, master)]);
    expect(completions(action.token)[0].status).toBe(500);
    // the worker retries 2 s later: in this process if it still runs, else in the next one (a restarted master,
    // whose first event, whatever it is, finds the open action in the ledger)
    const second = await deliver(master, [{ sleep: 2.2, body: '{}' }]);
    expect(completions(action.token).map((c) => c.status)).toEqual([500, 200]);
    expect(logText([...first, ...second]).join('\n')).toMatch(
      /reason=lifecycle_call_failed, attempt 1 of 8, next in 2 s/,
    );
    expect(existsSync(actionFile(master, id))).toBe(false);
    expect(fake.lifecycleActionsOf(id)[0].result).toBe('CONTINUE');
  }, 120_000);
});

/** reconcile's master side (reconcile_cli.py, as `salt-autoscale reconcile` runs it), with the fake's credentials.
 * Asynchronous: the fake AWS answers from this process. */
function reconcileCli(master: Master, job: Record<string, unknown>): Promise<Record<string, unknown>> {
  const boot =
    'import sys; sys.path.insert(0, sys.argv[1]); from salt_autoscale_gate.reconcile_cli import main; main()';
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-E', '-c', boot, gateSourceDir()], {
      env: { ...process.env, ...awsEnv(), AWS_ENDPOINT_URL: '' },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b) => out.push(b));
    child.stderr.on('data', (b) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(JSON.parse(Buffer.concat(out).toString()))
        : reject(new Error(Buffer.concat(err).toString())),
    );
    child.stdin.end(JSON.stringify({ ...job, opts: master.opts }));
  });
}

test('a completion that keeps failing stays open in the ledger; reconcile shows it and completes it', async () => {
  const master = await lifecycleMaster({ ready: 'key_accepted' });
  const action = launched();
  const id = action.instanceId;
  fake.inject({ kind: 'server', action: 'CompleteLifecycleAction', times: Number.POSITIVE_INFINITY });
  try {
    await deliver(master, [{ body: lifecycleBody(action) }, auth(id, master)]);
  } finally {
    fake.faults.length = 0;
  }
  expect(fake.lifecycleActionsOf(id)[0].result).toBeUndefined();
  const snapshot = await reconcileCli(master, { op: 'snapshot', dlq: [] });
  const open = snapshot.lifecycle as Record<string, Record<string, unknown>>;
  expect(open[id]).toMatchObject({ state: 'complete', result: 'CONTINUE', hook: LAUNCH_HOOK });
  expect(open[id].attempts).toBeGreaterThanOrEqual(1);
  expect(JSON.stringify(open)).not.toContain(action.token); // the token completes the action: never shown
  const items = lifecycleItems(open as never);
  expect(items.map((i) => [i.name, i.state, i.change])).toEqual([[id, 'lifecycle_unsent', 'update']]);
  const applied = await reconcileCli(master, {
    op: 'apply',
    actions: items.map((i) => i.master),
    aws: { region: 'us-east-1', endpoint_url: fake.url },
  });
  expect(applied.results).toEqual([{ ok: true, state: 'completed', result: 'CONTINUE' }]);
  expect(fake.lifecycleActionsOf(id)[0]).toMatchObject({ result: 'CONTINUE', completedBy: 'call' });
  expect(existsSync(actionFile(master, id))).toBe(false);
  // and once done, a second run has nothing left
  expect((await reconcileCli(master, { op: 'snapshot', dlq: [] })).lifecycle).toEqual({});
}, 120_000);

describe('a termination', () => {
  test('drains the minion, then deletes its key, then CONTINUE', async () => {
    const master = await lifecycleMaster({ ready: 'key_accepted' });
    const launch = launched();
    const id = launch.instanceId;
    await asg.send(
      new CompleteLifecycleActionCommand({
        AutoScalingGroupName: GROUP,
        LifecycleHookName: LAUNCH_HOOK,
        LifecycleActionToken: launch.token,
        InstanceId: id,
        LifecycleActionResult: 'CONTINUE',
      }),
    );
    fake.terminateInstance(id);
    const action = fake.lifecycleActionsOf(id).find((a) => a.hook === TERMINATE_HOOK)!;
    const key = join(master.pkiDir, 'minions', id);
    const first = await deliver(master, [
      { body: lifecycleBody(action), write: { [key]: '-----BEGIN PUBLIC KEY-----\n' } },
    ]);
    // the drain: LocalClient.cmd_async(tgt=id, fun=state.sls, kwarg={mods: drain}) as Salt's reactor runs it
    expect(first[0].saltCalls).toEqual([
      { client: 'local', fun: 'state.sls', tgt: id, arg: [], kwarg: { mods: 'drain' } },
    ]);
    expect(existsSync(key)).toBe(true);
    expect(completions(action.token)).toEqual([]);
    await deliver(master, [
      jobReturn(id, 'state.sls', { 'cmd_|-drain_|-drain_|-run': { result: true } }, 0, [
        { mods: 'drain', __kwarg__: true },
      ]),
    ]);
    expect(existsSync(key)).toBe(false);
    expect(completions(action.token).map((c) => c.params.LifecycleActionResult)).toEqual(['CONTINUE']);
    expect(fake.lifecycleActionsOf(id).find((a) => a.hook === TERMINATE_HOOK)?.result).toBe('CONTINUE');
  }, 120_000);
});

describe('minion events', () => {
  test('a forged event for an instance without an open action does nothing: no AWS call, no file', async () => {
    const master = await lifecycleMaster({ ready: 'key_accepted' });
    const id = newInstanceId();
    const before = await listFiles(master.dir);
    const callsBefore = fake.calls.length;
    const results = await deliver(master, [
      auth(id, master),
      start(id),
      jobReturn(id, 'state.highstate', highstate(true)),
      // what any accepted minion can put on the bus (masterapi._minion_event fires a batched event's data as sent)
      { tag: 'salt/auth', data: { result: true, act: 'accept', id, pub: 'x', cmd: '_minion_event' } },
    ]);
    expect(results.every((r) => JSON.stringify(r.reaction) === '{}' && r.logs.length === 0)).toBe(true);
    expect(fake.calls.length).toBe(callsBefore);
    // only the key file this test wrote itself (as Salt would have); nothing in the cache
    expect(await listFiles(master.dir)).toEqual([...before, `pki/minions/${id}`].sort());
  }, 120_000);
});
