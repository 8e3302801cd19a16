// Calls test/helpers/engine-harness.py: starts a Salt engine from master opts as salt-master does (see there),
// with Salt's runner/wheel clients faked and recording, for a bounded number of rounds.
import { spawn } from 'node:child_process';
import { copyFile, mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LogLine } from './reactor-harness.js';
import { requireTool } from './tools.js';

export const ENGINE_HARNESS = fileURLToPath(new URL('./engine-harness.py', import.meta.url));
const ENGINE_SOURCE = fileURLToPath(new URL('../../reactor/engines/ec2_autoscale_sqs.py', import.meta.url));

export interface SaltCall {
  client: 'runner' | 'wheel' | 'salt.utils.aws';
  fun: string;
  kwarg: Record<string, unknown>;
  user?: string;
}
export interface EngineRun {
  found: { engine: string; module: string; path: string | null; config: Record<string, unknown> | null }[];
  calls: SaltCall[];
  logs: LogLine[];
  error: string | null;
}
export interface EngineJob {
  opts: Record<string, unknown>;
  engine?: string;
  /** Loop rounds before the harness stops the engine (each is one receive). */
  rounds?: number;
  seconds?: number;
  cloudCreate?: 'ok' | 'raise' | 'false';
  /** The first n cloud.create calls raise. */
  cloudCreateFailures?: number;
  wheelRaises?: boolean;
  saltRunners?: string[];
  fakeSaltAws?: boolean;
  blockBoto3?: boolean;
}

export function runEngine(
  job: EngineJob,
  env: Record<string, string | undefined>,
  python = 'python3',
): Promise<EngineRun> {
  requireTool('python3');
  return new Promise((resolve, reject) => {
    const child = spawn(python, [ENGINE_HARNESS], { env: env as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b) => out.push(b));
    child.stderr.on('data', (b) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      const stdout = Buffer.concat(out).toString('utf8');
      if (code !== 0) return reject(new Error(`engine harness exited ${code}: ${Buffer.concat(err).toString('utf8')}`));
      try {
        resolve(JSON.parse(stdout) as EngineRun);
      } catch {
        reject(new Error(`engine harness output: ${stdout.slice(0, 500)}`));
      }
    });
    child.stdin.end(JSON.stringify(job));
  });
}

/**
 * The engine beside a rendered reactor (<reactor_dir>/engines/ec2_autoscale_sqs.py), as render installs it; copied
 * from reactor/engines when the render under test does not write it. Returns the engines dir.
 */
export async function installEngine(reactorFile: string): Promise<string> {
  const dir = join(dirname(reactorFile), 'engines');
  const target = join(dir, 'ec2_autoscale_sqs.py');
  try {
    await stat(target);
  } catch {
    await mkdir(dir, { recursive: true });
    await copyFile(ENGINE_SOURCE, target);
  }
  return dir;
}

/** Master opts with the engine configured as the drop-in does (engines_dirs + engines). */
export function engineOpts(
  masterOpts: Record<string, unknown>,
  enginesDir: string,
  engineConfig: Record<string, unknown>,
): Record<string, unknown> {
  return {
    ...masterOpts,
    __role: 'master',
    extension_modules: join(String(masterOpts.cachedir), 'extmods'),
    engines_dirs: [enginesDir],
    engines: [{ ec2_autoscale_sqs: { wait_seconds: 0, max_messages: 10, ...engineConfig } }],
  };
}

/**
 * The engine's environment: this process's without any AWS_* variable, the cert server's proxy and CA (`certEnv`),
 * static keys, and AWS_ENDPOINT_URL pointing every call (whatever the queue URL's host) at the fake AWS.
 */
export function engineAwsEnv(
  fakeUrl: string,
  certEnv: Record<string, string | undefined>,
): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v;
  return {
    ...env,
    ...certEnv,
    AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKE0000',
    AWS_SECRET_ACCESS_KEY: 'fake-secret',
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: fakeUrl,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
  };
}
