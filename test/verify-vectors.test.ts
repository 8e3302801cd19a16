// verify on every shared SNS vector (test/fixtures/sns/cases.json): the same verdict and reason code as the
// reactor must give. Most vectors are judged in-process through the real certificate fetch path (HTTPS via
// a CONNECT proxy, test CA); a handful go through the built bin as a user would run it.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../src/config/load.js';
import { handledPath, handledRecord } from '../src/sns/cache.js';
import { CertificateStore } from '../src/sns/certificate-store.js';
import { verifySettings } from '../src/sns/settings.js';
import { type Verdict, verifyMessage } from '../src/sns/verify-message.js';
import { type CertServer, startCertServer } from './helpers/cert-server.js';
import { buildVectors, type Vector, type VectorSet } from './helpers/sns-vectors.js';
import { runBin } from './verify-support.js';

const EXAMPLE = 'examples/salt-autoscale.yaml';
const settings = verifySettings(parseConfigText(readFileSync(EXAMPLE, 'utf8'), EXAMPLE).config);

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
  mkdirSync(join(dir, 'handled'), { recursive: true });
  if (v.replayOf) writeFileSync(handledPath(dir, v.messageId!), '');
  return dir;
}

const summary = (v: Verdict) =>
  v.verdict === 'accepted' ? { verdict: v.verdict, outcome: v.outcome } : { verdict: v.verdict, reason: v.reason };

describe('verify on the shared SNS vectors', () => {
  it('gives every vector its expected verdict and reason code, fetching the certificate once per URL', async () => {
    const store = new CertificateStore({ timeoutMs: 5000, env: server.env });
    const got: Record<string, unknown> = {};
    const want: Record<string, unknown> = {};
    for (const v of set.vectors) {
      const cacheDir = cacheDirFor(v);
      const verdict = await verifyMessage(v.body, settings, {
        now: () => new Date(),
        certificate: (url, now) => store.certificate(url, now),
        handled: (id) => handledRecord(cacheDir, id),
      });
      got[v.name] = summary(verdict);
      want[v.name] = v.expect;
      if (verdict.verdict === 'rejected') expect(verdict.reaction).toEqual([]);
    }
    expect(got).toEqual(want);
    expect(set.vectors.length).toBeGreaterThanOrEqual(60);
    // valid, expired, garbage and missing certificates: one request each, whatever the number of messages
    expect(server.fetches(set.signingCertUrl.replace(/^https:\/\/[^/]+/, ''))).toBe(1);
    expect(server.connects.every((c) => c === 'sns.us-east-1.amazonaws.com:443')).toBe(true);
  });

  it('the built bin agrees on a sample of vectors (exit code and --json)', async () => {
    const sample = [
      'launch-v1-no-subject',
      'launch-preauth-v2',
      'subscription-confirmation-v2',
      'cert-url-userinfo',
      'cert-expired',
      'signature-version-3',
      'message-changed-after-signing',
      'replay-launch-v2',
      'instance-id-star',
      'body-several-megabytes',
    ];
    const results = await Promise.all(
      sample.map(async (name) => {
        const v = set.vectors.find((x) => x.name === name)!;
        const file = join(work, `${name}.json`);
        writeFileSync(file, v.body);
        const r = await runBin(
          ['verify', '--config', EXAMPLE, '--cache-dir', cacheDirFor(v), '--json', file],
          server.env,
        );
        return { name, v, r };
      }),
    );
    for (const { name, v, r } of results) {
      expect(r.stderr, name).toBe('');
      const out = JSON.parse(r.stdout);
      expect({ name, ...summary(out) }).toEqual({ name, ...v.expect });
      expect(r.code, name).toBe(v.expect.verdict === 'accepted' ? 0 : 1);
    }
  });
});
