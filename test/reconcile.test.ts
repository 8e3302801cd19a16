// salt-autoscale reconcile against the fake AWS (Auto Scaling, EC2, SQS) and a temporary pki dir and reactor cache,
// with events lost on purpose. The master's side is the gate package run by python3, as on a master.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { reconcilePolicy } from '../src/aws/iam.js';
import { parseConfigText } from '../src/config/load.js';
import { awsEnv } from './aws-helpers.js';
import { type FakeAws, startFakeAws } from './fakes/aws.js';
import { journalPath, plantLedger, readLedger } from './helpers/ledger-journal.js';
import { runInProcess } from './helpers/run-cli.js';
import { buildVectors, CERT_PATH, type VectorSet } from './helpers/sns-vectors.js';

const KEY_DIRS = {
  accepted: 'minions',
  pending: 'minions_pre',
  rejected: 'minions_rejected',
  denied: 'minions_denied',
};
type KeyState = keyof typeof KEY_DIRS;

// The instances of the story, by what happened to them.
const IN_STEP = 'i-0a0000000000000a1'; // worker-asg, admitted, key accepted
const LOST_LAUNCH = 'i-0a0000000000000b2'; // worker-asg, InService: its launch notification never arrived
const PENDING = 'i-0a0000000000000c3'; // worker-asg, key pending and a live stub: Salt accepts it on next auth
const WEB = 'i-0a0000000000000d4'; // web-asg, key accepted
const LOST_TERMINATE = 'i-0a0000000000000e5'; // admitted (ledger), terminated: its terminate notification was lost
const FORGOTTEN = 'i-0a0000000000000f6'; // admitted (ledger), terminated long ago: EC2 no longer knows it
const TAGGED = 'i-0a000000000000017'; // web-asg's before the ledger existed, terminated (EC2 still tags it)
const REUSED = 'i-0a000000000000028'; // worker-asg, InService, accepted key and a denied one left by a reused id
const STRANGER = 'i-0badc0ffee0000000'; // someone else's instance: no group, no ledger entry
const NOT_AN_INSTANCE = 'db01'; // someone else's minion

interface Master {
  dir: string;
  pki: string;
  cache: string;
  config: string;
}

function masterDirs(): Master {
  const dir = mkdtempSync(join(tmpdir(), 'salt-autoscale-reconcile-'));
  const pki = join(dir, 'pki');
  const cache = join(dir, 'cache');
  for (const sub of [...Object.values(KEY_DIRS), 'minions_autosign']) mkdirSync(join(pki, sub), { recursive: true });
  mkdirSync(join(cache, 'instances'), { recursive: true, mode: 0o700 });
  chmodSync(cache, 0o700);
  const config = join(dir, 'salt-autoscale.yaml');
  writeFileSync(
    config,
    [
      'version: 1',
      'aws:',
      '  region: us-east-1',
      'sns:',
      '  topic_name: salt-autoscale',
      '  topic_arn: arn:aws:sns:us-east-1:123456789012:salt-autoscale',
      'salt_api:',
      '  public_url: https://salt.example.com:8000',
      '  ssl_crt: /etc/pki/tls/certs/salt-api.crt',
      '  ssl_key: /etc/pki/tls/private/salt-api.key',
      'salt:',
      '  master_address: salt.example.com',
      `  pki_dir: ${pki}`,
      'reactor:',
      `  cache_dir: ${cache}`,
      'groups:',
      '  worker-asg:',
      '    bootstrap: preauth',
      '    salt_version: "3007.1"',
      '  web-asg:',
      '    bootstrap: preauth',
      '    salt_version: "3007.1"',
      '',
    ].join('\n'),
  );
  return { dir, pki, cache, config };
}

const keyText = (id: string) => `-----BEGIN PUBLIC KEY-----\n${id}\n-----END PUBLIC KEY-----\n`;
const putKey = (m: Master, state: KeyState, id: string) => writeFileSync(join(m.pki, KEY_DIRS[state], id), keyText(id));
const keys = (m: Master, state: KeyState) => readdirSync(join(m.pki, KEY_DIRS[state])).sort();
const stubs = (m: Master) => readdirSync(join(m.pki, 'minions_autosign')).sort();
const putStub = (m: Master, id: string) => writeFileSync(join(m.pki, 'minions_autosign', id), '');
/** A ledger entry as docs/reactor.md documents it (the reactor wrote it when it admitted the instance). */
const putLedger = (m: Master, id: string, group: string) =>
  plantLedger(m.cache, {
    ledger: 1,
    instance_id: id,
    group,
    launched_at: null,
    admitted_at: Date.now() / 1000 - 3600,
    admitted_how: 'stub_written',
    admitted_via: 'a-message-id',
  });
const ledger = (m: Master, id: string) => readLedger(m.cache).get(id);
/** The ledger's bytes on disk: a dry run must leave them as they were. */
const ledgerBytes = (m: Master) => readFileSync(journalPath(m.cache), 'utf8');

/** What Salt's master does when a minion with a stub authenticates: accepts its key once, removes the stub. */
function minionsConnect(m: Master) {
  for (const id of stubs(m)) {
    rmSync(join(m.pki, 'minions_pre', id), { force: true });
    putKey(m, 'accepted', id);
    rmSync(join(m.pki, 'minions_autosign', id));
  }
}

let fake: FakeAws;
let m: Master;

beforeEach(async () => {
  fake = await startFakeAws({ groups: ['worker-asg', 'web-asg'] });
  m = masterDirs();
});
afterEach(async () => {
  await fake.close();
  rmSync(m.dir, { recursive: true, force: true });
});

const reconcile = (...args: string[]) =>
  runInProcess(['reconcile', '--config', m.config, ...args], { env: awsEnv(fake.url, m.dir), wholeEnv: true });

/** The story: every kind of lost event at once, and keys that are not ours. */
function loseEvents() {
  for (const id of [IN_STEP, LOST_LAUNCH, PENDING, REUSED]) fake.launchInstance('worker-asg', id);
  fake.launchInstance('web-asg', WEB);
  for (const id of [LOST_TERMINATE, FORGOTTEN]) fake.launchInstance('worker-asg', id);
  fake.launchInstance('web-asg', TAGGED);
  fake.terminateInstance(LOST_TERMINATE);
  fake.terminateInstance(TAGGED);
  fake.forgetInstance(FORGOTTEN);
  for (const id of [IN_STEP, WEB, LOST_TERMINATE, FORGOTTEN, TAGGED, REUSED, STRANGER, NOT_AN_INSTANCE])
    putKey(m, 'accepted', id);
  putKey(m, 'pending', PENDING);
  putStub(m, PENDING);
  putKey(m, 'denied', REUSED);
  putKey(m, 'pending', 'laptop');
  for (const id of [IN_STEP, PENDING, LOST_TERMINATE, FORGOTTEN, REUSED]) putLedger(m, id, 'worker-asg');
  putStub(m, FORGOTTEN);
}

describe('reconcile', () => {
  it('converges every lost event in one run, leaves what is not managed here alone, and a second run plans nothing', async () => {
    loseEvents();
    const strangerKey = readFileSync(join(m.pki, 'minions', STRANGER), 'utf8');

    const first = await reconcile('--yes', '--clear-denied');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^\+ stub i-0a0000000000000b2: InService in worker-asg \(preauth\)/m);
    expect(first.stdout).toMatch(/^- key i-0a0000000000000e5: terminated; admitted by this tool \(ledger\)/m);
    expect(first.stdout).toMatch(/^- key i-0a0000000000000f6: EC2 does not know it;/m);
    expect(first.stdout).toMatch(/^- key i-0a000000000000017: terminated; launched by web-asg \(EC2 tag\)/m);
    expect(first.stdout).toMatch(/^= key i-0badc0ffee0000000: accepted: not managed here/m);
    expect(first.stdout).toMatch(/^= key laptop: pending: not managed here/m);
    expect(first.stdout).toMatch(/Applied 5 change\(s\)\./);

    // Gone instances: no key in any state, no stub; the ledger says who removed them.
    for (const id of [LOST_TERMINATE, FORGOTTEN, TAGGED]) {
      for (const state of Object.keys(KEY_DIRS) as KeyState[]) expect(keys(m, state)).not.toContain(id);
      expect(ledger(m, id)).toMatchObject({ terminated_how: 'key_deleted', terminated_by: 'reconcile' });
    }
    expect(stubs(m)).toEqual([LOST_LAUNCH, PENDING].sort());
    expect(ledger(m, LOST_LAUNCH)).toMatchObject({ admitted_how: 'stub_written', admitted_via: 'reconcile' });
    expect(keys(m, 'denied')).toEqual([]);

    // The minions connect; then the accepted keys are exactly the groups' instances plus what is not ours.
    minionsConnect(m);
    const held = [...fake.state.groups.values()].flatMap((g) => [...g.instances.keys()]);
    expect(keys(m, 'accepted')).toEqual([...held, STRANGER, NOT_AN_INSTANCE].sort());
    expect(readFileSync(join(m.pki, 'minions', STRANGER), 'utf8')).toBe(strangerKey);
    expect(keys(m, 'pending')).toEqual(['laptop']);

    const second = await reconcile('--dry-run');
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/0 to create, 0 to update, 0 to delete, 3 not managed here; 5 instance\(s\) in step/);
    expect(fake.mutatingCalls()).toEqual([]);
  });

  it('a dry run changes nothing and exits 1 with changes pending; --json is the plan as data', async () => {
    loseEvents();
    const before = JSON.stringify([keys(m, 'accepted'), stubs(m), ledgerBytes(m)]);
    const r = await reconcile('--dry-run', '--json');
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ command: 'reconcile', dry_run: true, outcome: 'dry_run', applied: 0, in_step: 4 });
    const byName = Object.fromEntries(doc.plan.map((i: { name: string }) => [i.name, i]));
    expect(byName[LOST_LAUNCH]).toMatchObject({
      change: 'create',
      resource: 'stub',
      state: 'lost_launch',
      group: 'worker-asg',
    });
    expect(byName[LOST_TERMINATE]).toMatchObject({ change: 'delete', resource: 'key', state: 'gone' });
    expect(byName[REUSED]).toMatchObject({ change: 'blocked', resource: 'denied_key', state: 'denied' });
    expect(byName[STRANGER]).toMatchObject({ change: 'unchanged', state: 'not_managed', group: null });
    expect(JSON.stringify([keys(m, 'accepted'), stubs(m), ledgerBytes(m)])).toBe(before);
  });

  it('without --clear-denied a denied key is reported, not deleted', async () => {
    loseEvents();
    const r = await reconcile('--yes');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^! denied_key i-0a000000000000028: .*run with --clear-denied/m);
    expect(keys(m, 'denied')).toEqual([REUSED]);
  });

  it('refuses to change keys without a terminal and without --yes (exit 3), and changes nothing', async () => {
    loseEvents();
    const r = await reconcile();
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/pass --yes/);
    expect(keys(m, 'accepted')).toContain(LOST_TERMINATE);
  });

  it('an id EC2 is asked about goes by a filter, so one unknown id does not fail the others', async () => {
    loseEvents();
    await reconcile('--dry-run');
    const asked = fake.calls.filter((c) => c.action === 'DescribeInstances');
    expect(asked).toHaveLength(1);
    expect(asked[0].status).toBe(200);
    expect(Object.keys(asked[0].params).some((k) => k.startsWith('InstanceId.'))).toBe(false);
  });

  it('a cache directory others can write is refused with what to do (exit 3)', async () => {
    chmodSync(m.cache, 0o777);
    const r = await reconcile('--yes');
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/writable by group or others/);
    expect(existsSync(join(m.cache, 'ledger.lock'))).toBe(false);
  });
});

describe("reconcile and the dead-letter queue (a master down past SNS's window)", () => {
  let vectors: VectorSet;
  let sqs: import('@aws-sdk/client-sqs').SQSClient;
  let sqsSdk: typeof import('@aws-sdk/client-sqs');
  let queueUrl: string;
  const LATE_LAUNCH = 'i-0a000000000000039'; // worker-asg, InService; its launch waited in the queue
  const DEAD = 'i-0a00000000000004a'; // terminated while the master was down; EC2 has forgotten it, no ledger entry

  beforeAll(async () => {
    vectors = await buildVectors(); // a test PKI and signing key: made once, it takes a while
  });
  afterAll(() => vectors.cleanup());

  beforeEach(async () => {
    // The reactor's certificate cache holds the signing certificate (no fetch in the test).
    mkdirSync(join(m.cache, 'certs'), { recursive: true, mode: 0o700 });
    const certName = createHash('sha256').update(vectors.signingCertUrl).digest('hex');
    writeFileSync(join(m.cache, 'certs', `${certName}.pem`), vectors.certs[CERT_PATH], { mode: 0o600 });
    sqsSdk = await import('@aws-sdk/client-sqs');
    sqs = new sqsSdk.SQSClient({
      region: 'us-east-1',
      endpoint: fake.url,
      credentials: { accessKeyId: 'AKIAFAKE', secretAccessKey: 'fake' },
    });
    queueUrl = (await sqs.send(new sqsSdk.CreateQueueCommand({ QueueName: 'salt-autoscale-dlq' }))).QueueUrl!;
    // What SNS put in the queue after an hour of retries; two hours ago by now.
    const twoHoursAgo = new Date(Date.now() - 2 * 3600 * 1000);
    const letters = [
      vectors.notification({ group: 'worker-asg', instanceId: LATE_LAUNCH, timestamp: twoHoursAgo }),
      vectors.notification({
        event: 'autoscaling:EC2_INSTANCE_TERMINATE',
        group: 'worker-asg',
        instanceId: DEAD,
        timestamp: twoHoursAgo,
      }),
      vectors.notification({ group: 'someone-elses-asg', instanceId: STRANGER, timestamp: twoHoursAgo }),
    ];
    for (const body of letters)
      await sqs.send(new sqsSdk.SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    fake.launchInstance('worker-asg', LATE_LAUNCH);
    fake.launchInstance('worker-asg', DEAD);
    fake.forgetInstance(DEAD);
    putKey(m, 'accepted', DEAD);
    putKey(m, 'accepted', STRANGER);
  });

  const queued = async () => fake.state.queues.get('salt-autoscale-dlq')!.messages.length;

  it('judges each letter with the gate, applies what it accepts, deletes each once handled; a second run plans nothing', async () => {
    const r = await reconcile('--yes');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // The launch: its stub (the instance is InService with no key); the termination: the key only the letter claims.
    expect(stubs(m)).toEqual([LATE_LAUNCH]);
    expect(keys(m, 'accepted')).toEqual([STRANGER]);
    expect(r.stdout).toMatch(
      /^- key i-0a00000000000004a: EC2 does not know it; named by a verified dead letter of worker-asg/m,
    );
    expect(r.stdout).toMatch(/^- message \S+: rejected by the gate \(unknown_group\)/m);
    expect(r.stdout.match(/^- message \S+: accepted/gm)).toHaveLength(2);
    expect(await queued()).toBe(0);
    expect(ledger(m, DEAD)).toMatchObject({ terminated_how: 'key_deleted', group: 'worker-asg' });

    const second = await reconcile('--dry-run');
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/0 to create, 0 to update, 0 to delete, 1 not managed here/);
  });

  it('a signal while applying stops before the queue deletions: the letters stay, it says so (exit 130), the next run converges', async () => {
    // A python that lingers half a second after the master's batch, so the signal surely lands between the
    // batch (the stub is written) and the queue deletions.
    const python = join(m.dir, 'python-lingering');
    writeFileSync(python, '#!/bin/sh\npython3 "$@"\nstatus=$?\nsleep 0.5\nexit $status\n', { mode: 0o755 });
    const signals = new EventEmitter();
    const watch = setInterval(() => {
      if (existsSync(join(m.pki, 'minions_autosign', LATE_LAUNCH))) {
        clearInterval(watch);
        signals.emit('SIGINT');
      }
    }, 5);
    const r = await runInProcess(['reconcile', '--config', m.config, '--yes', '--python', python], {
      env: awsEnv(fake.url, m.dir),
      wholeEnv: true,
      signals,
    });
    clearInterval(watch);
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/interrupted \(SIGINT\): 2 of 5 change\(s\) were made, 3 were not/);
    expect(r.stderr).toMatch(/not done: - message/);
    expect(await queued()).toBe(3);
    for (const msg of fake.state.queues.get('salt-autoscale-dlq')!.messages) msg.visibleAt = 0; // its visibility ran out
    const again = await reconcile('--yes');
    expect(again.code).toBe(0);
    expect(await queued()).toBe(0);
    expect(keys(m, 'accepted')).toEqual([STRANGER]);
  });

  it("every call reconcile makes is granted by iam-policy's reconcile policy, and nothing else is", async () => {
    loseEvents();
    await reconcile('--yes');
    const policy = reconcilePolicy(parseConfigText(readFileSync(m.config, 'utf8'), m.config).config);
    const granted = policy.Statement.flatMap((st) => st.Action);
    const called = [...new Set(fake.calls.map((c) => `${c.service}:${c.action}`))].filter(
      (a) => !['sqs:CreateQueue', 'sqs:SendMessage'].includes(a), // the test's own set-up
    );
    expect(called.sort()).toEqual([...granted].sort());
  });
});
