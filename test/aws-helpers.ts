// Shared by the AWS tests: a config file in a temp folder, and the built CLI run against the fake AWS.

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { type FakeAws, type FakeAwsOptions, startFakeAws } from './fakes/aws.js';
import { runInProcess as runCliInProcess } from './helpers/run-cli.js';

export const ROOT = resolve(import.meta.dirname, '..');

export interface ConfigOptions {
  groups?: string[];
  topicName?: string;
  /** Default: the ARN the fake gives topic salt-autoscale, as after a first provision; null: none yet. */
  topicArn?: string | null;
  publicUrl?: string;
  allowHttp?: boolean;
  /** sns.publishers */
  publishers?: string[];
  /** groups.<name>.lifecycle, as YAML flow text per group (e.g. '{launch: {}}'). */
  lifecycle?: Record<string, string>;
  /** aws.lifecycle_role_arn */
  lifecycleRoleArn?: string;
}

/** A config with comments in it, so the tests can check that provision keeps them. */
export function configText(o: ConfigOptions = {}): string {
  const groups = o.groups ?? ['web-asg', 'worker-asg'];
  return [
    '# salt-autoscale.yaml (test)',
    'version: 1',
    'aws:',
    '  region: us-east-1   # the region of the fake',
    ...(o.lifecycleRoleArn ? [`  lifecycle_role_arn: ${o.lifecycleRoleArn}`] : []),
    'sns:',
    `  topic_name: ${o.topicName ?? 'salt-autoscale'}`,
    ...(o.topicArn === null
      ? []
      : [`  topic_arn: ${o.topicArn ?? `arn:aws:sns:us-east-1:123456789012:${o.topicName ?? 'salt-autoscale'}`}`]),
    '  extra_topic_arns: []           # further topics',
    ...(o.publishers ? ['  publishers:', ...o.publishers.map((p) => `    - ${p}`)] : []),
    'salt_api:',
    `  public_url: ${o.publicUrl ?? 'https://salt.example.com:8000'}`,
    ...(o.allowHttp ? ['  allow_http: true'] : []),
    '  ssl_crt: /etc/pki/tls/certs/salt-api.crt',
    '  ssl_key: /etc/pki/tls/private/salt-api.key',
    'salt:',
    '  master_address: salt.example.com',
    'cloud_provider:',
    '  name: ec2-autoscale',
    'groups:',
    ...groups.flatMap((g) => [
      `  ${g}:`,
      '    bootstrap: preauth',
      '    salt_version: "3007.1"',
      ...(o.lifecycle?.[g] ? [`    lifecycle: ${o.lifecycle[g]}`] : []),
    ]),
    '',
  ].join('\n');
}

export interface Workspace {
  dir: string;
  configFile: string;
  readConfig(): Promise<string>;
  cleanup(): Promise<void>;
}

export async function workspace(config: string | ConfigOptions = {}): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), 'salt-autoscale-aws-'));
  const configFile = join(dir, 'salt-autoscale.yaml');
  await writeFile(configFile, typeof config === 'string' ? config : configText(config));
  return {
    dir,
    configFile,
    readConfig: () => readFile(configFile, 'utf8'),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Env for the SDK: dummy static keys, no shared files, no IMDS, fast retries. */
export function awsEnv(
  endpoint: string | undefined,
  home: string,
  extra: Record<string, string | undefined> = {},
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v;
  Object.assign(env, {
    HOME: home,
    AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKE0000',
    AWS_SECRET_ACCESS_KEY: 'fake-secret-do-not-print',
    AWS_CONFIG_FILE: join(home, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    SALT_AUTOSCALE_RETRY_BASE_MS: '5',
    ...(endpoint ? { AWS_ENDPOINT_URL: endpoint } : {}),
  });
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI with `env` as the whole environment, in-process through its I/O layer (helpers/run-cli.ts). */
export function runInProcess(args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<CliResult> {
  return runCliInProcess(args, { env, wholeEnv: true, input });
}

export interface FakeAwsContext {
  fake: FakeAws;
  /** A test may replace it with another config (cleaning up the one it replaces). */
  ws: Workspace;
}

/**
 * For each test of the calling describe block: a fresh fake AWS (default groups web-asg and worker-asg) and a
 * fresh config workspace, both gone after the test.
 */
export function useFakeAws(fakeOptions: FakeAwsOptions = {}, workspaceOptions: ConfigOptions = {}): FakeAwsContext {
  const t = {} as FakeAwsContext;
  beforeEach(async () => {
    t.fake = await startFakeAws({ groups: ['web-asg', 'worker-asg'], ...fakeOptions });
    t.ws = await workspace(workspaceOptions);
  });
  afterEach(async () => {
    await t.fake.close();
    await t.ws.cleanup();
  });
  return t;
}
