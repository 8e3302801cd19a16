#!/usr/bin/env node
// reconcile's wall time and heap for 1 group x 1 instance and for 25 groups x 40 instances with 1000 keys in the
// pki dir (some events lost: launches, terminations, 10 letters in the dead-letter queue), against the fake AWS with 50 ms latency on every call.
// The CLI runs in-process (src/cli.ts, the I/O layer with captured streams), the master's side in python3 as on
// a master. Targets: the large case takes at most 3x the small one; the heap grows with the plan, not beyond.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 50);
const TARGET_RATIO = 3;
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

const { startFakeAws } = await import('../test/fakes/aws.ts');
const { plantLedger } = await import('../test/helpers/ledger-journal.ts');
const { runCli } = await import('../src/cli.ts');
const { SQSClient, CreateQueueCommand, SendMessageCommand } = await import('@aws-sdk/client-sqs');

class Sink extends Writable {
  text = '';
  _write(chunk, _enc, cb) {
    this.text += chunk;
    cb();
  }
}

async function cli(args) {
  const stdout = new Sink();
  const stderr = new Sink();
  const code = await runCli(['node', 'salt-autoscale', ...args], {
    stdin: Readable.from(['']),
    stdout,
    stderr,
    interactive: false,
  });
  if (code > 1) throw new Error(`reconcile exited ${code}: ${stderr.text}`);
  return { code, stdout: stdout.text };
}

const hex = (n) => `i-${n.toString(16).padStart(17, '0')}`;

/** A master and a fleet: `groups` x `perGroup` instances, `keys` keys in the pki dir, a few events lost. */
async function scenario(dir, groups, perGroup, keys) {
  const fake = await startFakeAws({ latencyMs: LATENCY_MS });
  const pki = join(dir, 'pki');
  const cache = join(dir, 'cache');
  for (const sub of ['minions', 'minions_pre', 'minions_rejected', 'minions_denied', 'minions_autosign'])
    mkdirSync(join(pki, sub), { recursive: true });
  mkdirSync(join(cache, 'instances'), { recursive: true });
  chmodSync(cache, 0o700);
  chmodSync(join(cache, 'instances'), 0o700);
  const names = Array.from({ length: groups }, (_, g) => `bench-asg-${String(g + 1).padStart(2, '0')}`);
  let n = 1;
  let written = 0;
  const key = (id) => {
    writeFileSync(join(pki, 'minions', id), `-----BEGIN PUBLIC KEY-----\n${id}\n-----END PUBLIC KEY-----\n`);
    written++;
  };
  for (const g of names) {
    fake.addGroup(g);
    for (let i = 0; i < perGroup; i++) {
      const id = hex(n++);
      fake.launchInstance(g, id);
      // One in 20 lost its launch (no key; in the small case, its one instance); the others are in step.
      if (i % 20 !== 0) key(id);
    }
  }
  // Lost terminations: keys of instances the ledger admitted and EC2 no longer knows.
  const lostTerminations = groups > 1 ? 20 : 0;
  for (let i = 0; i < lostTerminations; i++) {
    const id = hex(n++);
    key(id);
    plantLedger(cache, { ledger: 1, instance_id: id, group: names[0], admitted_how: 'stub_written', admitted_at: 1 });
  }
  // The rest of the keys are someone else's minions.
  for (let i = 0; written < keys; i++) key(`other-minion-${i}`);
  // The dead-letter queue, with what SNS left there in the large case (forged-looking letters: the gate rejects
  // each, reconcile deletes each).
  const sqs = new SQSClient({
    region: 'us-east-1',
    endpoint: fake.url,
    credentials: { accessKeyId: 'AKIAFAKEBENCH', secretAccessKey: 'bench' },
  });
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'bench-topic-dlq' }));
  for (let i = 0; i < (groups > 1 ? 10 : 1); i++)
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify({ Type: 'Notification', n: i }) }));
  fake.calls.length = 0;
  const config = join(dir, 'salt-autoscale.yaml');
  writeFileSync(
    config,
    [
      'version: 1',
      'aws: {region: us-east-1}',
      'sns: {topic_name: bench-topic, topic_arn: "arn:aws:sns:us-east-1:123456789012:bench-topic"}',
      'salt_api: {public_url: "https://salt.example.com:8000", ssl_crt: /etc/ssl/a.crt, ssl_key: /etc/ssl/a.key}',
      `salt: {master_address: salt.example.com, pki_dir: ${pki}}`,
      `reactor: {cache_dir: ${cache}}`,
      'groups:',
      ...names.map((g) => `  ${g}: {bootstrap: preauth, salt_version: "3007.1"}`),
      '',
    ].join('\n'),
  );
  return { fake, config };
}

async function measure(groups, perGroup, keys) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-reconcile-'));
  const { fake, config } = await scenario(dir, groups, perGroup, keys);
  try {
    const base = ['reconcile', '--config', config, '--endpoint-url', fake.url];
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    let peak = heapBefore;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    }, 5);
    let t = performance.now();
    await cli([...base, '--yes']);
    const first = performance.now() - t;
    clearInterval(sampler);
    const calls = fake.calls.length;
    t = performance.now();
    const dry = await cli([...base, '--dry-run', '--json']);
    const second = performance.now() - t;
    const plan = JSON.parse(dry.stdout);
    const pending = plan.plan.filter((i) => i.change !== 'unchanged' && i.change !== 'blocked').length;
    return {
      label: `${groups} group(s) x ${perGroup}, ${keys} key(s)`,
      first,
      second,
      calls,
      heapPeakMb: (peak - heapBefore) / 2 ** 20,
      planKb: dry.stdout.length / 1024,
      pending,
      inStep: plan.in_step,
    };
  } finally {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

process.env.AWS_ACCESS_KEY_ID = 'AKIAFAKEBENCH';
process.env.AWS_SECRET_ACCESS_KEY = 'bench';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_CONFIG_FILE = '/nonexistent';
process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent';

await measure(1, 1, 1); // warm-up: the SDK's modules load once
const small = await measure(1, 1, 1);
const large = await measure(25, 40, 1000);
const larger = await measure(25, 40, 5000);
console.log(
  `reconcile against the fake AWS, ${LATENCY_MS} ms latency per call (in-process CLI, python3 for the master)`,
);
for (const r of [small, large, larger]) {
  console.log(
    `  ${r.label.padEnd(34)} apply ${r.first.toFixed(0).padStart(5)} ms (${r.calls} AWS calls)  second run ${r.second.toFixed(0).padStart(5)} ms (${r.pending} pending, ${r.inStep} in step)  heap peak +${r.heapPeakMb.toFixed(1)} MB  plan ${r.planKb.toFixed(0)} KB`,
  );
}
const ratio = large.first / small.first;
const ok = ratio <= TARGET_RATIO;
console.log(
  `  25x40 with 1000 keys / 1x1 (apply): ${ratio.toFixed(2)}x (target <= ${TARGET_RATIO}x): ${ok ? 'ok' : 'MISSED'}`,
);
console.log(
  `  heap per key beyond 1000 (5000 vs 1000 keys): ${(((larger.heapPeakMb - large.heapPeakMb) * 2 ** 20) / 4000).toFixed(0)} B/key; plan per key ${(((larger.planKb - large.planKb) * 1024) / 4000).toFixed(0)} B/key`,
);
process.exitCode = ok ? 0 : 1;
