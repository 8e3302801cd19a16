#!/usr/bin/env node
// Provision wall time for 1 and for 25 groups against the fake AWS with 50 ms latency on every call, and
// the calls made. Target: 25 groups take at most 3x the time of 1. Needs `npm run build` first (for the CLI
// run) and `node --import tsx` (the fake and the core are imported from their TypeScript sources).
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 50);
const TARGET_RATIO = 3;

const work = await mkdtemp(join(tmpdir(), 'bench-provision-'));
// TypeScript sources are loaded through tsx (scripts/bench.mjs runs this file with `node --import tsx`).
const { startFakeAws } = await import('../test/fakes/aws.ts');
const { openSession } = await import('../src/aws/session.ts');
const { planFor } = await import('../src/commands/provision.ts');
const { applyPlan } = await import('../src/aws/apply.ts');

Object.assign(process.env, {
  AWS_ACCESS_KEY_ID: 'AKIAFAKEBENCH',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_CONFIG_FILE: join(work, 'none'),
  AWS_SHARED_CREDENTIALS_FILE: join(work, 'none'),
});

function configYaml(groups) {
  return [
    'version: 1',
    'aws: {region: us-east-1}',
    'sns: {topic_name: bench-topic, topic_arn: "arn:aws:sns:us-east-1:123456789012:bench-topic"}',
    'salt_api: {public_url: "https://salt.example.com:8000", ssl_crt: /etc/ssl/a.crt, ssl_key: /etc/ssl/a.key}',
    'salt: {master_address: salt.example.com}',
    'cloud_provider: {name: ec2}',
    'groups:',
    ...groups.map((g) => `  ${g}: {bootstrap: preauth, salt_version: "3007.1"}`),
    '',
  ].join('\n');
}

/** The provision core in-process: read, plan, apply (what the command does minus printing). */
async function provisionOnce(configFile, fake) {
  const session = await openSession({ config: configFile, endpointUrl: fake.url });
  const plan = await planFor(session, {});
  await applyPlan(session.clients, plan);
}

function runCli(configFile, fake) {
  return new Promise((done, fail) => {
    const child = spawn(
      process.execPath,
      [join(ROOT, 'bin/salt-autoscale.js'), 'provision', '--yes', '--config', configFile, '--endpoint-url', fake.url],
      { stdio: 'ignore' },
    );
    child.on('error', fail);
    child.on('close', (code) => (code === 0 ? done() : fail(new Error(`provision exited ${code}`))));
  });
}

async function measure(n) {
  const groups = Array.from({ length: n }, (_, i) => `bench-asg-${String(i + 1).padStart(2, '0')}`);
  const fake = await startFakeAws({ groups, latencyMs: LATENCY_MS });
  const configFile = join(work, `bench-${n}.yaml`);
  await writeFile(configFile, configYaml(groups));
  try {
    let t = performance.now();
    await provisionOnce(configFile, fake);
    const first = { ms: performance.now() - t, calls: fake.calls.length, mutating: fake.mutatingCalls().length };
    fake.calls.length = 0;
    t = performance.now();
    await provisionOnce(configFile, fake);
    const second = { ms: performance.now() - t, calls: fake.calls.length, mutating: fake.mutatingCalls().length };
    // The whole CLI, process start-up and SDK loading included (a second run: reads only).
    fake.calls.length = 0;
    t = performance.now();
    await runCli(configFile, fake);
    const cli = { ms: performance.now() - t, calls: fake.calls.length, mutating: fake.mutatingCalls().length };
    return { n, first, second, cli, peak: fake.peakInFlight.get('PutNotificationConfiguration') ?? 0 };
  } finally {
    await fake.close();
  }
}

try {
  // Warm up the SDK (module loading) so the 1-group figure is not the cost of the first import.
  await measure(1);
  const one = await measure(1);
  const many = await measure(25);
  const fmt = (r) => `${r.ms.toFixed(0).padStart(5)} ms  ${String(r.calls).padStart(3)} calls (${r.mutating} mutating)`;
  console.log(`provision against the fake AWS, ${LATENCY_MS} ms latency per call`);
  for (const r of [one, many]) {
    console.log(
      `  ${String(r.n).padStart(2)} group(s)  first run ${fmt(r.first)}   second run ${fmt(r.second)}   CLI second run ${fmt(r.cli)}   peak concurrent PutNotificationConfiguration ${r.peak}`,
    );
  }
  const ratio = many.first.ms / one.first.ms;
  const ok = ratio <= TARGET_RATIO;
  console.log(
    `  25 groups / 1 group (first run): ${ratio.toFixed(2)}x (target <= ${TARGET_RATIO}x): ${ok ? 'ok' : 'MISSED'}`,
  );
  process.exitCode = ok ? 0 : 1;
} finally {
  await rm(work, { recursive: true, force: true });
}
