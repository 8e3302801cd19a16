#!/usr/bin/env node
// Benchmark of the reactor's decision: N distinct signed launch notifications run through the rendered
// ec2-autoscale.sls by python3 exactly as Salt runs it (a fresh module per event), with a warm certificate
// cache (the certificate served over HTTPS through a CONNECT proxy on 127.0.0.1, as in the tests). Reports the
// time per decision and how many certificate fetches they caused (target: 1), for the `cryptography` path and
// the `openssl` command path.
//   node scripts/bench-reactor.mjs [--messages N] [--json] [--python python3]
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
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

const work = mkdtempSync(join(tmpdir(), 'bench-reactor-'));
// The test helpers are TypeScript: loaded through tsx (scripts/bench.mjs runs this file with `node --import tsx`).
const helpers = {
  'sns-vectors': await import('../test/helpers/sns-vectors.ts'),
  'cert-server': await import('../test/helpers/cert-server.ts'),
  'reactor-harness': await import('../test/helpers/reactor-harness.ts'),
};
const set = await helpers['sns-vectors'].buildVectors();
const server = await helpers['cert-server'].startCertServer({ tls: set.tls, caFile: set.caFile, certs: set.certs });
const figures = [];
try {
  const reactor = join(work, 'ec2-autoscale.sls');
  const template = readFileSync(join(root, 'templates/ec2-autoscale.sls.hbs'), 'utf8');
  writeFileSync(reactor, Handlebars.compile(template, { noEscape: true })({ version: 'bench' }));
  const id = (i) => `i-${(0x1000000000000 + i).toString(16).padStart(17, '0')}`;
  for (const [label, blockCryptography] of [
    ['cryptography', false],
    ['openssl command', true],
  ]) {
    const master = join(work, blockCryptography ? 'openssl' : 'cryptography');
    mkdirSync(join(master, 'pki'), { recursive: true });
    // The settings the master.d drop-in gives the reactor (docs/rendered-files.md), for the example config.
    const opts = {
      cachedir: join(master, 'cache'),
      pki_dir: join(master, 'pki'),
      'ec2.autoscale': {
        topic_arns: [helpers['sns-vectors'].TOPIC_ARN],
        groups: {
          'web-asg': { bootstrap: 'salt-cloud', provider: 'ec2-autoscale', settings: { ssh_username: 'ec2-user' } },
        },
        max_age: 3600,
        clock_skew: 300,
        cache_dir: null,
        pki_dir: null,
        subscription_confirmation: 'auto',
        cert_fetch_timeout: 10,
        alerts: { email: false, password_file: null, min_interval: 300 },
      },
    };
    server.reset();
    const warm = [{ body: set.notification({ instanceId: id(0) }) }];
    const deliveries = Array.from({ length: count }, (_, i) => ({ body: set.notification({ instanceId: id(i + 1) }) }));
    const run = (d) =>
      helpers['reactor-harness'].runHarness({ reactor, opts, deliveries: d, blockCryptography }, server.env, python);
    const first = await run(warm);
    const timed = await run(deliveries);
    const accepted = timed.results.filter((r) => r.reaction && Object.keys(r.reaction).length === 1).length;
    const sorted = (key) => timed.results.map((r) => r[key]).sort((a, b) => a - b);
    const times = sorted('seconds');
    const runs = sorted('runSeconds');
    const loads = sorted('loadSeconds');
    figures.push({
      backend: timed.backend,
      label,
      messages: count,
      accepted,
      certFetches: server.fetches(helpers['sns-vectors'].CERT_PATH),
      firstMessageMs: ms(first.results[0].seconds),
      meanMs: ms(times.reduce((a, b) => a + b, 0) / times.length),
      p50Ms: ms(quantile(times, 0.5)),
      p95Ms: ms(quantile(times, 0.95)),
      maxMs: ms(times[times.length - 1]),
      runMeanMs: ms(runs.reduce((a, b) => a + b, 0) / runs.length),
      runP50Ms: ms(quantile(runs, 0.5)),
      runP95Ms: ms(quantile(runs, 0.95)),
      loadP50Ms: ms(quantile(loads, 0.5)),
      totalSeconds: Math.round(timed.elapsedSeconds * 100) / 100,
    });
  }
} finally {
  await server.close();
  await set.cleanup();
  rmSync(work, { recursive: true, force: true });
}

if (json) {
  console.log(JSON.stringify({ reactor: figures }, null, 2));
} else {
  for (const f of figures) {
    console.log(`reactor (${python}, ${f.label}): ${f.messages} signed launch notifications, warm certificate cache`);
    console.log(
      `  decision time per message: mean ${f.meanMs} ms, p50 ${f.p50Ms} ms, p95 ${f.p95Ms} ms, max ${f.maxMs} ms`,
    );
    console.log(
      `    of which run() (verify + react): mean ${f.runMeanMs} ms, p50 ${f.runP50Ms} ms, p95 ${f.runP95Ms} ms;`,
    );
    console.log(`    loading the file as a fresh module, as Salt does per event: p50 ${f.loadP50Ms} ms`);
    console.log(`  first message (cold certificate cache, fetched through the proxy): ${f.firstMessageMs} ms`);
    console.log(
      `  accepted ${f.accepted}/${f.messages}; certificate fetches: ${f.certFetches} (target 1); total ${f.totalSeconds} s`,
    );
  }
}
const ok = figures.every((f) => f.certFetches === 1 && f.accepted === f.messages);
process.exitCode = ok ? 0 : 1;
