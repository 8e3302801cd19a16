#!/usr/bin/env node
// Benchmark of `salt-autoscale verify`, which runs the reactor's own gate (python3, judge-only): N distinct
// signed launch notifications judged in one python3 (judge_cli's batch mode, every check explained, a warm
// certificate cache in the reactor's layout), then the CLI end to end (one node + one python3 per message).
//   node --import tsx scripts/bench-verify.mjs [--messages N] [--json]      (run `npm run build` first)
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
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
const ms = (x) => Math.round(x * 1000) / 1000;

const work = mkdtempSync(join(tmpdir(), 'bench-verify-'));
// TypeScript sources and test helpers load through tsx (scripts/bench.mjs runs this file with `node --import tsx`).
const vectors = await import('../test/helpers/sns-vectors.ts');
const certServer = await import('../test/helpers/cert-server.ts');
const { parseConfigText } = await import('../src/config/load.ts');
const { gateOpts } = await import('../src/commands/verify.ts');
const { gateSourceDir } = await import('../src/render/gate-files.ts');

const set = await vectors.buildVectors();
const server = await certServer.startCertServer({ tls: set.tls, caFile: set.caFile, certs: set.certs });
try {
  const example = join(root, 'examples/salt-autoscale.yaml');
  const config = parseConfigText(readFileSync(example, 'utf8'), example).config;
  const cacheDir = join(work, 'cache');
  for (const sub of ['certs', 'handled', 'instances']) mkdirSync(join(cacheDir, sub), { recursive: true, mode: 0o700 });
  const certFile = join(cacheDir, 'certs', `${createHash('sha256').update(set.signingCertUrl).digest('hex')}.pem`);
  writeFileSync(certFile, set.certs[vectors.CERT_PATH], { mode: 0o600 });
  const hex = (i, width) => i.toString(16).padStart(width, '0');
  const bodies = Array.from({ length: count }, (_, i) =>
    set.notification({ instanceId: `i-${hex(i, 17)}`, version: i % 2 ? '1' : '2' }),
  );
  const opts = gateOpts(config, cacheDir);
  const jobs = bodies.map((body) => ({ opts, body, cache: true, explain: true }));
  const boot =
    'import sys, time; sys.path.insert(0, sys.argv[1]); from salt_autoscale_gate import judge_cli; import json; ' +
    'jobs = json.load(sys.stdin)["jobs"]; t = time.perf_counter(); out = [judge_cli.answer(j) for j in jobs]; ' +
    'print(json.dumps({"seconds": time.perf_counter() - t, "accepted": sum(o.get("verdict") == "accepted" for o in out)}))';
  server.reset();
  const batch = JSON.parse(
    execFileSync('python3', ['-E', '-c', boot, gateSourceDir()], {
      input: JSON.stringify({ jobs }),
      env: { ...process.env, ...server.env },
      maxBuffer: 64 << 20,
    }).toString(),
  );

  // The CLI end to end: a fresh node and python3 per message, certificate already in the reactor's cache.
  const cliTimes = [];
  for (let i = 0; i < 5; i++) {
    const msg = join(work, `m${i}.json`);
    writeFileSync(msg, bodies[i]);
    const t0 = process.hrtime.bigint();
    const r = spawnSync(
      process.execPath,
      [join(root, 'bin/salt-autoscale.js'), 'verify', '-c', example, '--cache-dir', cacheDir, '--json', msg],
      { env: { ...process.env, ...server.env }, encoding: 'utf8' },
    );
    cliTimes.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.status !== 0) throw new Error(`CLI run ${i} exited ${r.status}: ${r.stdout}${r.stderr}`);
  }
  cliTimes.sort((a, b) => a - b);
  const result = {
    messages: count,
    accepted: batch.accepted,
    perMessageMs: ms((batch.seconds * 1000) / count),
    certificateFetches: server.fetches(vectors.CERT_PATH),
    cliProcessMs: { median: Math.round(cliTimes[Math.floor(cliTimes.length / 2)]), runs: cliTimes.length },
  };
  if (json) console.log(JSON.stringify(result, null, 2));
  else {
    console.log(`verify's gate (python3, judge-only, every check): ${count} signed launches, warm certificate cache`);
    console.log(
      `  accepted ${result.accepted}/${count}; ${result.perMessageMs} ms per message; certificate fetches ${result.certificateFetches} (target 0)`,
    );
    console.log(
      `  the CLI, one node and one python3 per message: median ${result.cliProcessMs.median} ms over ${cliTimes.length} runs`,
    );
  }
  if (result.accepted !== count || result.certificateFetches !== 0) process.exitCode = 1;
} finally {
  await server.close();
  await set.cleanup();
  rmSync(work, { recursive: true, force: true });
}
