#!/usr/bin/env node
// Benchmark of the reactor as Salt pays for it, in one run (ratios, so a busy machine moves both sides):
//  1. per event: Salt's py-renderer load of the rendered ec2-autoscale.sls plus run(), for N distinct signed
//     launch notifications with a warm certificate cache, against the same cost for a trivial `#!py` file
//     returning {} (deliveries interleaved in one python3, a fresh module per event as Salt does), at Salt's
//     default log level (warning) and at info. Target: p50 <= 5x at the default level.
//  2. outbound requests caused by N malformed or untrusted-topic messages (target 0), and by N messages naming
//     the trusted topic with N different bogus certificate URLs (target: <= the README's bound, 10 at once and
//     10 a minute after that).
//   node --import tsx scripts/bench-reactor.mjs [--messages N] [--json] [--python python3]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const args = process.argv.slice(2);
const json = args.includes('--json');
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const count = Number(option('--messages', '1000'));
const python = option('--python', 'python3');
if (!Number.isInteger(count) || count < 1) {
  console.error('bench-reactor: --messages needs a whole number of at least 1');
  process.exit(2);
}
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const ms = (s) => Math.round(s * 1e6) / 1e3;
const p50 = (xs) =>
  quantile(
    [...xs].sort((a, b) => a - b),
    0.5,
  );

// The test helpers and render are TypeScript: loaded through tsx (scripts/bench.mjs runs this with --import tsx).
const vectors = await import('../test/helpers/sns-vectors.ts');
const { startCertServer } = await import('../test/helpers/cert-server.ts');
const { runHarness } = await import('../test/helpers/reactor-harness.ts');
const { exampleConfig } = await import('../test/helpers/reactor-fixture.ts');
const { reactorDirFiles, reactorOpts } = await import('../test/helpers/reactor-opts.ts');
// certificate.py's FETCH_BURST and FETCHES_PER_MINUTE: the bound the README states.
const FETCH_BOUND = { burst: 10, perMinute: 10 };

const work = mkdtempSync(join(tmpdir(), 'bench-reactor-'));
const set = await vectors.buildVectors();
const server = await startCertServer({ tls: set.tls, caFile: set.caFile, certs: set.certs });
const figures = {};
// Every harness run without a bytecode cache: Salt's py renderer then compiles the entry for every event (the
// dearer case), whatever this machine's environment says.
const env = { ...server.env, PYTHONDONTWRITEBYTECODE: '1' };
try {
  const config = await exampleConfig();
  for (const [rel, content] of Object.entries(reactorDirFiles(config))) {
    mkdirSync(dirname(join(work, 'reactor', rel)), { recursive: true });
    writeFileSync(join(work, 'reactor', rel), content);
  }
  const reactor = join(work, 'reactor', 'ec2-autoscale.sls');
  const trivial = join(work, 'reactor', 'trivial.sls');
  writeFileSync(trivial, '#!py\ndef run():\n    return {}\n');
  const id = (i) => `i-${(0x1000000000000 + i).toString(16).padStart(17, '0')}`;
  const master = (name) => {
    const dir = join(work, name);
    mkdirSync(join(dir, 'pki'), { recursive: true });
    return reactorOpts(config, { cachedir: join(dir, 'cache'), pki_dir: join(dir, 'pki') });
  };

  // 1. Per-event cost, interleaved with the trivial file. At Salt's default log level (log_level and
  // log_level_logfile: warning), where the reactor's INFO line for an accepted message is never formatted; once
  // more at info, where it is (the harness's own default is debug, so that tests see every line).
  for (const [label, blockCryptography, logLevel] of [
    ['cryptography', false, 'WARNING'],
    ['cryptography, log level info', false, 'INFO'],
    ['openssl command', true, 'WARNING'],
  ]) {
    const n = blockCryptography ? Math.min(count, 200) : count;
    const deliveries = [{ body: set.notification({ instanceId: id(0) }) }]; // warms the certificate cache
    for (let i = 1; i <= n; i++) {
      deliveries.push({ reactor: trivial, body: '{}' });
      deliveries.push({ body: set.notification({ instanceId: id(i) }) });
    }
    server.reset();
    const run = await runHarness(
      { reactor, opts: master(label), deliveries, blockCryptography, logLevel },
      env,
      python,
    );
    const timed = run.results.slice(1);
    const gate = timed.filter((_, i) => i % 2 === 1);
    const base = timed.filter((_, i) => i % 2 === 0);
    const accepted = gate.filter((r) => r.reaction && Object.keys(r.reaction).length === 1).length;
    figures[label] = {
      backend: run.backend,
      messages: n,
      accepted,
      trivialP50Ms: ms(p50(base.map((r) => r.seconds))),
      gateP50Ms: ms(p50(gate.map((r) => r.seconds))),
      gateLoadP50Ms: ms(p50(gate.map((r) => r.loadSeconds))),
      gateRunP50Ms: ms(p50(gate.map((r) => r.runSeconds))),
      firstEventMs: ms(run.results[0].seconds),
      certFetches: server.requests.length,
    };
    figures[label].ratio = Math.round((figures[label].gateP50Ms / figures[label].trivialP50Ms) * 100) / 100;
  }

  // 1b. salt/job/*/ret/* and salt/auth reach the reactor for every job return and minion auth once lifecycle
  // hooks are on: those that are not ours (no open lifecycle action for the id) must cost what a trivial file does.
  {
    const ret = (i, minion) => ({
      tag: `salt/job/2026010100000${i}/ret/${minion}`,
      data: {
        cmd: '_return',
        id: minion,
        fun: 'test.ping',
        fun_args: [],
        jid: `2026010100000${i}`,
        retcode: 0,
        return: true,
      },
    });
    const deliveries = [ret(0, 'web01')]; // loads the package
    for (let i = 1; i <= count; i++) {
      const minion = i % 2 ? 'web01' : id(i); // a plain minion id, and an instance id without an open action
      deliveries.push({ ...ret(i, minion), reactor: trivial });
      deliveries.push(ret(i, minion));
    }
    const run = await runHarness({ reactor, opts: master('job-returns'), deliveries }, env, python);
    const timed = run.results.slice(1);
    const gate = timed.filter((_, i) => i % 2 === 1);
    const base = timed.filter((_, i) => i % 2 === 0);
    figures.jobReturns = {
      events: count,
      reacted: gate.filter((r) => r.reaction && Object.keys(r.reaction).length > 0).length,
      trivialP50Ms: ms(p50(base.map((r) => r.seconds))),
      gateP50Ms: ms(p50(gate.map((r) => r.seconds))),
      gateRunP50Ms: ms(p50(gate.map((r) => r.runSeconds))),
    };
    figures.jobReturns.ratio = Math.round((figures.jobReturns.gateP50Ms / figures.jobReturns.trivialP50Ms) * 100) / 100;
  }

  // 2. Outbound requests an unauthenticated sender can cause.
  const fresh = () => new Date();
  const hostile = [];
  for (let i = 0; i < count; i++) {
    if (i % 3 === 0) hostile.push({ body: `{"Type": "Notification", "MessageId": ${i}` });
    else if (i % 3 === 1)
      hostile.push({
        body: JSON.stringify({
          ...JSON.parse(set.notification({ instanceId: id(i) })),
          TopicArn: 'arn:aws:sns:us-east-1:999999999999:not-ours',
          SigningCertURL: `https://sns.us-east-1.amazonaws.com/SimpleNotificationService-u${i}.pem`,
        }),
      });
    else hostile.push({ body: JSON.stringify({ ...JSON.parse(set.notification({})), MessageId: `m-${i}` }) });
  }
  server.reset();
  await runHarness({ reactor, opts: master('hostile'), deliveries: hostile }, env, python);
  figures.untrusted = { messages: count, requests: server.requests.length };

  const bogus = Array.from({ length: count }, (_, i) => ({
    body: JSON.stringify({
      ...JSON.parse(set.notification({ instanceId: id(10_000 + i), timestamp: fresh() })),
      SigningCertURL: `https://sns.us-east-1.amazonaws.com/SimpleNotificationService-bogus-${i}.pem`,
    }),
  }));
  server.reset();
  const started = Date.now();
  const bogusRun = await runHarness({ reactor, opts: master('bogus'), deliveries: bogus }, env, python);
  const minutes = (Date.now() - started) / 60_000;
  const bound = Math.floor(FETCH_BOUND.burst + FETCH_BOUND.perMinute * minutes);
  figures.bogusCertUrls = {
    messages: count,
    requests: server.requests.length,
    bound,
    seconds: Math.round(bogusRun.elapsedSeconds * 100) / 100,
  };
} finally {
  await server.close();
  await set.cleanup();
  rmSync(work, { recursive: true, force: true });
}

if (json) console.log(JSON.stringify({ reactor: figures }, null, 2));
else {
  for (const label of ['cryptography', 'cryptography, log level info', 'openssl command']) {
    const f = figures[label];
    const level = label.includes('log level') ? '' : ", Salt's default log level (warning)";
    console.log(
      `per event as Salt pays it (${python}, ${label}${level}): ${f.messages} signed launches, warm certificate cache`,
    );
    console.log(
      `  ec2-autoscale.sls load + run(): p50 ${f.gateP50Ms} ms (load ${f.gateLoadP50Ms} ms, run ${f.gateRunP50Ms} ms); trivial #!py returning {}: p50 ${f.trivialP50Ms} ms`,
    );
    console.log(
      `  ratio ${f.ratio}x (target <= 5x with cryptography); accepted ${f.accepted}/${f.messages}; first event (package load, certificate fetch) ${f.firstEventMs} ms; requests ${f.certFetches}`,
    );
  }
  const j = figures.jobReturns;
  console.log(
    `unrelated job returns (${python}): ${j.events} salt/job/*/ret/* events, no open lifecycle action: ec2-autoscale.sls p50 ${j.gateP50Ms} ms (run ${j.gateRunP50Ms} ms); trivial #!py p50 ${j.trivialP50Ms} ms; ratio ${j.ratio}x (target: at most 0.5 ms more); reacted ${j.reacted}`,
  );
  console.log(
    `outbound requests: ${figures.untrusted.messages} malformed or untrusted-topic messages -> ${figures.untrusted.requests} (target 0)`,
  );
  const b = figures.bogusCertUrls;
  console.log(
    `outbound requests: ${b.messages} trusted-topic messages with ${b.messages} bogus certificate URLs -> ${b.requests} in ${b.seconds} s (bound ${b.bound}: 10 at once, then 10 a minute)`,
  );
}
const ok =
  figures.cryptography.ratio <= 5 &&
  // the entry is a bigger file for Salt to compile than the trivial one: the bound is on the extra time, not a ratio
  figures.jobReturns.gateP50Ms - figures.jobReturns.trivialP50Ms <= 0.5 &&
  figures.jobReturns.reacted === 0 &&
  figures.untrusted.requests === 0 &&
  figures.bogusCertUrls.requests <= figures.bogusCertUrls.bound &&
  figures.cryptography.accepted === figures.cryptography.messages;
process.exitCode = ok ? 0 : 1;
