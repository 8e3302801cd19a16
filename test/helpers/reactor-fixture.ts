// Everything a reactor test needs: the rendered reactor, the shared vectors, the cert server behind its proxy,
// and throwaway "masters" (cachedir + pki_dir) with opts built from the example config.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfigText } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { type CertServer, type CertServerOptions, startCertServer } from './cert-server.js';
import { type Delivery, type DeliveryResult, type HarnessJob, runHarness } from './reactor-harness.js';
import { reactorDirFiles, reactorOpts } from './reactor-opts.js';
import { buildVectors, type Expect, type VectorSet } from './sns-vectors.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const EXAMPLE_CONFIG = join(ROOT, 'examples', 'salt-autoscale.yaml');

/** Writes the reactor and its gate package as `render` renders them for the example config. */
export async function renderReactor(dir: string): Promise<string> {
  const files = reactorDirFiles(await exampleConfig());
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, 'reactor', rel)), { recursive: true });
    await writeFile(join(dir, 'reactor', rel), content);
  }
  return join(dir, 'reactor', 'ec2-autoscale.sls');
}

export async function exampleConfig(): Promise<Config> {
  return parseConfigText(await readFile(EXAMPLE_CONFIG, 'utf8'), EXAMPLE_CONFIG).config;
}

export interface Master {
  dir: string;
  cachedir: string;
  pkiDir: string;
  opts: Record<string, unknown>;
}

export interface ReactorFixture {
  dir: string;
  reactor: string;
  set: VectorSet;
  server: CertServer;
  config: Config;
  master(edit?: (c: Config) => void): Promise<Master>;
  /** A cert server of its own (same certificates), for a test that counts requests while others run. */
  startServer(opts?: Partial<CertServerOptions>): Promise<CertServer>;
  deliver(
    master: Master,
    deliveries: Delivery[],
    extra?: Partial<HarnessJob>,
    python?: string,
    via?: CertServer,
  ): Promise<{ results: DeliveryResult[]; backend: string; saltSmtpCalls: HarnessJobCalls }>;
  close(): Promise<void>;
}
type HarnessJobCalls = { kwargs: Record<string, unknown>; optsKeys: string[] }[];

export async function setupReactorFixture(): Promise<ReactorFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'reactor-test-'));
  const set = await buildVectors();
  const server = await startCertServer(set);
  const reactor = await renderReactor(dir);
  const config = await exampleConfig();
  let n = 0;
  const extraServers: CertServer[] = [];
  return {
    dir,
    reactor,
    set,
    server,
    config,
    async master(edit) {
      const mdir = join(dir, `master-${++n}`);
      const cachedir = join(mdir, 'cache');
      const pkiDir = join(mdir, 'pki');
      await mkdir(join(pkiDir, 'minions'), { recursive: true });
      const c = structuredClone(config);
      edit?.(c);
      return { dir: mdir, cachedir, pkiDir, opts: reactorOpts(c, { cachedir, pki_dir: pkiDir }) };
    },
    async startServer(opts = {}) {
      const s = await startCertServer({ ...set, ...opts });
      extraServers.push(s);
      return s;
    },
    async deliver(master, deliveries, extra = {}, python = 'python3', via = server) {
      const run = await runHarness({ reactor, opts: master.opts, deliveries, ...extra }, via.env, python);
      // Every reaction the real reactor returns must be one Salt's reactor can run (salt_reactwrap.py); only a
      // delivery that loads a reactor file of its own (a test of the checker) may be refused.
      run.results.forEach((r, i) => {
        if (r.saltErrors.length > 0 && !deliveries[i].reactor)
          throw new Error(`Salt's reactor would refuse reaction ${i}: ${r.saltErrors.join('; ')}`);
      });
      return { results: run.results, backend: run.backend, saltSmtpCalls: run.saltSmtpCalls };
    },
    async close() {
      await Promise.all([server, ...extraServers].map((s) => s.close()));
      await set.cleanup();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The verdict a delivery came to, read from what the reactor did and logged (as an operator would). */
export function verdictOf(r: DeliveryResult): Expect | { verdict: 'error'; detail: string } {
  if (r.error) return { verdict: 'error', detail: r.error };
  const rejected = r.logs.map((l) => /rejected SNS message: reason=([a-z_]+)/.exec(l.message)).find(Boolean);
  if (rejected) return { verdict: 'rejected', reason: rejected[1] as never };
  const reaction = r.reaction ?? {};
  const fun = Object.values(reaction).map((v) => Object.keys(v as object)[0])[0];
  const text = r.logs.map((l) => l.message).join('\n');
  if (fun === 'runner.cloud.create' || /launch of .* wrote the autosign stub/.test(text))
    return { verdict: 'accepted', outcome: 'launch' };
  if (fun === 'wheel.key.delete') return { verdict: 'accepted', outcome: 'terminate' };
  if (/EC2_INSTANCE_LAUNCH_ERROR/.test(text)) return { verdict: 'accepted', outcome: 'launch_error' };
  if (/EC2_INSTANCE_TERMINATE_ERROR/.test(text)) return { verdict: 'accepted', outcome: 'terminate_error' };
  if (/test notification for group/.test(text)) return { verdict: 'accepted', outcome: 'test_notification' };
  if (/confirmed the SNS subscription|emailing the confirmation link/.test(text))
    return { verdict: 'accepted', outcome: 'subscription_confirmation' };
  if (/UnsubscribeConfirmation for/.test(text)) return { verdict: 'accepted', outcome: 'unsubscribe_confirmation' };
  return { verdict: 'error', detail: `no verdict in ${JSON.stringify(r)}` };
}

/** Every file under dir, relative, sorted (to prove hostile messages wrote nothing). */
export async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e.isDirectory()) out.push(...(await listFiles(join(dir, e.name), `${prefix}${e.name}/`)));
    else out.push(`${prefix}${e.name}`);
  }
  return out.sort();
}
