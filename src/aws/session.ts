// What every AWS command does first: load the config, settle region/profile/endpoint (flags win over the
// config; the SDK's default chain does the rest), build the clients and the desired state.

import { type LoadedConfig, loadConfig } from '../config/load.js';
import { checkRegion } from '../config/schema.js';
import { EXIT, UserError } from '../errors.js';
import type { AwsClients } from './api.js';
import { createAwsClients } from './clients.js';
import { type DesiredState, desiredState } from './desired.js';
import { type AwsErrorContext, toUserError } from './errors.js';
import { resolveTimeoutMs } from './transport.js';

export interface AwsCommandOptions {
  config: string;
  profile?: string;
  region?: string;
  endpointUrl?: string;
  /** --aws-timeout SECONDS: the per-attempt limit (else SALT_AUTOSCALE_AWS_TIMEOUT, else 10). */
  awsTimeout?: string;
  json?: boolean;
}

export interface AwsSession {
  loaded: LoadedConfig;
  clients: AwsClients;
  desired: DesiredState;
  errorContext: AwsErrorContext;
}

export async function openSession(opts: AwsCommandOptions): Promise<AwsSession> {
  const loaded = await loadConfig(opts.config);
  const region = opts.region ?? loaded.config.aws.region;
  // The config schema's region rule, the one place it lives.
  const wrongRegion = checkRegion(region);
  if (wrongRegion) throw new UserError(`--region ${JSON.stringify(region)} ${wrongRegion}`, EXIT.usage);
  const profile = opts.profile ?? loaded.config.aws.profile;
  const desired = desiredState(loaded.config, region);
  const timeoutMs = resolveTimeoutMs(opts.awsTimeout, process.env);
  const clients = await createAwsClients({ region, profile, endpointUrl: opts.endpointUrl, timeoutMs });
  return {
    loaded,
    clients,
    desired,
    errorContext: { region, profile, endpointLabel: clients.endpointLabel, timeoutMs },
  };
}

/** Runs `fn`, turning AWS failures into clear UserErrors. */
export async function withAwsErrors<T>(ctx: AwsErrorContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toUserError(err, ctx);
  }
}
