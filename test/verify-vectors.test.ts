// verify on every shared SNS vector (test/fixtures/sns/cases.json): verify runs the reactor's own gate, so
// its verdicts are the reactor's. All vectors are judged in ONE python3 process (judge_cli's batch mode, with
// the opts verify builds from the example config) through the real certificate fetch path (HTTPS via a
// CONNECT proxy, test CA); a handful go through the built bin (a real process) as a user would run it.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gateOpts } from '../src/commands/verify.js';
import { parseConfigText } from '../src/config/load.js';
import { gateSourceDir } from '../src/render/gate-files.js';
import { type CertServer, startCertServer } from './helpers/cert-server.js';
import { buildVectors, CERT_PATH, type Vector, type VectorSet } from './helpers/sns-vectors.js';
import { runBuiltBin } from './verify-support.js';

const EXAMPLE = 'examples/salt-autoscale.yaml';
const config = parseConfigText(readFileSync(EXAMPLE, 'utf8'), EXAMPLE).config;

let set: VectorSet;
let server: CertServer;
let work: string;

beforeAll(async () => {
  set = await buildVectors();
  server = await startCertServer({ tls: set.tls, caFile: set.caFile, certs: set.certs });
  work = mkdtempSync(join(tmpdir(), 'verify-vectors-'));
});

afterAll(async () => {
  await server?.close();
  await set?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A cache dir in which the reactor has handled `replayOf`'s message (verify itself never writes one). */
function cacheDirFor(v: Vector): string {
  const dir = join(work, `cache-${v.name}`);
  for (const sub of ['certs', 'handled', 'instances']) mkdirSync(join(dir, sub), { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'handled', createHash('sha256').update(v.messageId!).digest('hex')), '{}');
  return dir;
}

function judgeBatch(jobs: unknown[]): Promise<Record<string, unknown>[]> {
  const boot = 'import sys; sys.path.insert(0, sys.argv[1]); from salt_autoscale_gate.judge_cli import main; main()';
  return new Promise((resolve, reject) => {
    const child = execFile(
      'python3',
      ['-E', '-c', boot, gateSourceDir()],
      { env: { ...process.env, ...server.env }, maxBuffer: 64 << 20 },
      (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout))),
    );
    child.stdin!.end(JSON.stringify({ jobs }));
  });
}

describe('verify on the shared SNS vectors', () => {
  it('gives every vector its expected verdict and reason code, with one certificate fetch per URL', async () => {
    server.reset();
    const jobs = set.vectors.map((v) => ({
      opts: gateOpts(config, v.replayOf ? cacheDirFor(v) : undefined),
      body: v.body,
      cache: Boolean(v.replayOf),
      explain: true,
    }));
    const answers = await judgeBatch(jobs);
    const got = Object.fromEntries(
      answers.map((a, i) => [
        set.vectors[i].name,
        a.verdict === 'accepted'
          ? { verdict: a.verdict, outcome: a.outcome }
          : { verdict: a.verdict, reason: a.reason },
      ]),
    );
    expect(got).toEqual(Object.fromEntries(set.vectors.map((v) => [v.name, v.expect])));
    // Each verify run is its own process, so nothing is remembered from one to the next: here, one batch
    // with a fresh memory per job, the valid certificate is fetched for every job that gets that far.
    expect(server.fetches(CERT_PATH)).toBeGreaterThan(10);
  });

  it('the built bin agrees on a sample of vectors (exit code and --json)', async () => {
    const sample = [
      'launch-v2-subject',
      'terminate-v1-no-subject',
      'cert-url-s3-bucket',
      'group-unknown',
      'cert-fetch-404',
    ];
    const runs = await Promise.all(
      sample.map((name) => {
        const v = set.vectors.find((x) => x.name === name)!;
        const f = join(work, `${name}.json`);
        writeFileSync(f, v.body);
        return runBuiltBin(['verify', '-c', EXAMPLE, '--no-cache', '--json', f], server.env);
      }),
    );
    expect(runs.map((r) => r.code)).toEqual([0, 0, 1, 1, 5]);
    expect(runs.map((r) => JSON.parse(r.stdout).verdict)).toEqual([
      'accepted',
      'accepted',
      'rejected',
      'rejected',
      'undetermined',
    ]);
  });
});
