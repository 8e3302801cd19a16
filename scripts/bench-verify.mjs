#!/usr/bin/env node
// Benchmark of `salt-autoscale verify`'s decision: 1000 distinct signed launch notifications judged in one
// process with a warm certificate cache (the certificate served over HTTPS through a CONNECT proxy on
// 127.0.0.1, as in the tests), reporting the time per decision and how many certificate fetches they caused
// (target: 1). Then the wall time of the CLI itself (one process per message, reactor cache warm).
//   node --import tsx scripts/bench-verify.mjs [--messages N] [--json]      (run `npm run build` first)
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const json = args.includes('--json');
const at = args.indexOf('--messages');
const count = at >= 0 ? Number(args[at + 1]) : 1000;
if (!Number.isInteger(count) || count < 1) {
  console.error('bench-verify: --messages needs a whole number of at least 1');
  process.exit(2);
}
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const ms = (x) => Math.round(x * 1000) / 1000;

const work = mkdtempSync(join(tmpdir(), 'bench-verify-'));
// TypeScript sources and test helpers load through tsx (scripts/bench.mjs runs this file with `node --import tsx`).
const vectors = await import('../test/helpers/sns-vectors.ts');
const certServer = await import('../test/helpers/cert-server.ts');
const { parseConfigText } = await import('../src/config/load.ts');
const { verifySettings } = await import('../src/sns/settings.ts');
const { CertificateStore } = await import('../src/sns/certificate-store.ts');
const { handledRecord, certCachePath } = await import('../src/sns/cache.ts');
const { verifyMessage } = await import('../src/sns/verify-message.ts');

const set = await vectors.buildVectors();
const server = await certServer.startCertServer({ tls: set.tls, caFile: set.caFile, certs: set.certs });
try {
  const example = join(root, 'examples/salt-autoscale.yaml');
  const settings = verifySettings(parseConfigText(readFileSync(example, 'utf8'), example).config);
  const cacheDir = join(work, 'cache');
  mkdirSync(join(cacheDir, 'handled'), { recursive: true });
  const hex = (i, width) => i.toString(16).padStart(width, '0');
  const bodies = Array.from({ length: count + 1 }, (_, i) =>
    set.notification({
      instanceId: `i-${hex(i, 17)}`,
      messageId: `bench-${hex(i, 8)}-0000-4000-8000-000000000000`,
      version: i % 2 ? '1' : '2',
    }),
  );

  const store = new CertificateStore({ timeoutMs: 10_000, env: server.env });
  const deps = {
    now: () => new Date(),
    certificate: (url, now) => store.certificate(url, now),
    handled: (id) => handledRecord(cacheDir, id),
  };
  const warm = await verifyMessage(bodies[0], settings, deps); // fills the certificate cache
  if (warm.verdict !== 'accepted') throw new Error(`warm-up message rejected: ${warm.reason}`);

  const times = [];
  let accepted = 0;
  const started = process.hrtime.bigint();
  for (const body of bodies.slice(1)) {
    const t0 = process.hrtime.bigint();
    const v = await verifyMessage(body, settings, deps);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (v.verdict === 'accepted') accepted++;
  }
  const totalMs = Number(process.hrtime.bigint() - started) / 1e6;
  times.sort((a, b) => a - b);

  // The CLI end to end: a fresh process per message, certificate already in the reactor's cache.
  mkdirSync(join(cacheDir, 'certs'), { recursive: true });
  writeFileSync(certCachePath(cacheDir, set.signingCertUrl), set.certs[vectors.CERT_PATH]);
  const cliTimes = [];
  for (let i = 1; i <= 5; i++) {
    const msg = join(work, `m${i}.json`);
    writeFileSync(msg, bodies[i]);
    const t0 = process.hrtime.bigint();
    const r = spawnSync(
      process.execPath,
      [join(root, 'bin/salt-autoscale.js'), 'verify', '-c', example, '--cache-dir', cacheDir, '--json', msg],
      {
        env: { ...process.env, ...server.env },
        encoding: 'utf8',
      },
    );
    cliTimes.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.status !== 0) throw new Error(`CLI run ${i} exited ${r.status}: ${r.stdout}${r.stderr}`);
  }
  cliTimes.sort((a, b) => a - b);

  const result = {
    messages: count,
    accepted,
    perMessageMs: {
      mean: ms(totalMs / count),
      p50: ms(quantile(times, 0.5)),
      p95: ms(quantile(times, 0.95)),
      max: ms(times[times.length - 1]),
    },
    certificateFetches: { store: store.fetches, server: server.fetches(vectors.CERT_PATH) },
    cliProcessMs: { median: Math.round(quantile(cliTimes, 0.5)), runs: cliTimes.length },
  };
  if (json) {
    console.log(JSON.stringify(result, null, 2));
  } else {
    console.log(`verify: ${count} signed launch notifications (SignatureVersion 1 and 2), warm certificate cache`);
    console.log(`  accepted ${accepted}/${count}`);
    console.log(
      `  decision time per message: mean ${result.perMessageMs.mean} ms, p50 ${result.perMessageMs.p50} ms, p95 ${result.perMessageMs.p95} ms, max ${result.perMessageMs.max} ms`,
    );
    console.log(
      `  certificate fetches: ${server.fetches(vectors.CERT_PATH)} (for ${count + 1} messages, warm-up included)`,
    );
    console.log(
      `  the CLI, one process per message (reactor cache warm): median ${result.cliProcessMs.median} ms over ${cliTimes.length} runs`,
    );
  }
  if (accepted !== count || server.fetches(vectors.CERT_PATH) !== 1) process.exitCode = 1;
} finally {
  await server.close();
  await set.cleanup();
  rmSync(work, { recursive: true, force: true });
}
