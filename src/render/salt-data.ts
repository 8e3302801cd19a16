// Pure: the config → the data structures of the Salt files. Templates only place these; values never pass
// through string pasting (see ./serialize.ts).
import {
  type Config,
  type GroupSettings,
  listener,
  masterQueueName,
  primaryMaster,
  trustedTopicArns,
} from '../config/types.js';
import { EXTRA_CERTS_DIR } from './attested.js';

export const REACTOR_FILE = 'ec2-autoscale.sls';
export const EVENT_TAG = 'salt/netapi/hook/ec2/autoscale';
/** salt-api fires POST <webhook_url>/ec2/autoscale/attest as this tag (attested groups' instances). */
export const ATTEST_EVENT_TAG = 'salt/netapi/hook/ec2/autoscale/attest';
/** Salt's webhook engine fires POST /<path> as salt/engines/hook/<path> (salt/engines/webhook.py). */
export const ENGINE_EVENT_TAG = 'salt/engines/hook/ec2/autoscale';
export const ENGINE_ATTEST_EVENT_TAG = 'salt/engines/hook/ec2/autoscale/attest';
/** The folder beside the reactor that render installs Salt engines to (the drop-in's engines_dirs). */
export const ENGINES_DIR = 'engines';

/** The tag an SNS notification arrives as, or none when the SQS engine hands it to the gate itself. */
export function snsEventTag(config: Config): string | undefined {
  if (config.delivery.mode === 'webhook') return EVENT_TAG;
  if (config.delivery.mode === 'webhook-engine') return ENGINE_EVENT_TAG;
  return undefined;
}

/** The tag an attestation arrives as: through Salt's webhook engine with that delivery, else through salt-api. */
export function attestEventTag(config: Config): string {
  return config.delivery.mode === 'webhook-engine' ? ENGINE_ATTEST_EVENT_TAG : ATTEST_EVENT_TAG;
}

const hasAttested = (config: Config) => Object.values(config.groups).some((g) => g.bootstrap === 'attested');

/** Whether the drop-in configures salt-api: the webhook delivery, or attestations under delivery sqs. */
export function usesSaltApi(config: Config): boolean {
  return config.delivery.mode === 'webhook' || (config.delivery.mode === 'sqs' && hasAttested(config));
}

/** The SQS queue URL of a master (the topic's region and account: provision creates it there). */
export function masterQueueUrl(config: Config, master: string): string {
  const arn = config.sns.topic_arn;
  if (!arn) throw new Error('internal: masterQueueUrl needs sns.topic_arn');
  const [, partition, , region, account] = arn.split(':');
  const host = partition === 'aws-cn' ? `sqs.${region}.amazonaws.com.cn` : `sqs.${region}.amazonaws.com`;
  return `https://${host}/${account}/${masterQueueName(config, master)}`;
}

/**
 * The drop-in's engines: Salt's webhook engine (delivery webhook-engine: a listener that fires events and serves
 * nothing else), or ours (delivery sqs: long-polls this master's queue), with the folder it is loaded from.
 */
export function engineSettings(
  config: Config,
  master: string,
): { engines_dirs?: string[]; engines: unknown[] } | undefined {
  if (config.delivery.mode === 'webhook-engine') {
    const api = listener(config);
    return {
      engines: [{ webhook: { address: api.host, port: api.port, ssl_crt: api.ssl_crt, ssl_key: api.ssl_key } }],
    };
  }
  if (config.delivery.mode !== 'sqs') return undefined;
  const sqs = config.delivery.sqs;
  return {
    engines_dirs: [`${config.salt.reactor_dir.replace(/\/+$/, '')}/${ENGINES_DIR}`],
    engines: [
      {
        ec2_autoscale_sqs: {
          queue_url: masterQueueUrl(config, master),
          region: config.sns.topic_arn?.split(':')[3] ?? config.aws.region,
          wait_seconds: sqs.wait_seconds,
          max_messages: sqs.max_messages,
          visibility_timeout: sqs.visibility_timeout_seconds,
        },
      },
    ],
  };
}

/** Salt's marker for salt-cloud's EC2 driver: take credentials from the instance's IAM role. */
const INSTANCE_ROLE = 'use-instance-role-credentials';

export function reactorPathOnMaster(config: Config): string {
  return `${config.salt.reactor_dir.replace(/\/+$/, '')}/${REACTOR_FILE}`;
}

export function restCherrypy(config: Config) {
  const api = listener(config);
  return {
    host: api.host,
    port: api.port,
    ssl_crt: api.ssl_crt,
    ssl_key: api.ssl_key,
    webhook_url: api.webhook_url,
    // SNS cannot send an auth header: the reactor's verification is the gate (README "Security model").
    webhook_disable_auth: true,
  };
}

/**
 * The Salt events a launch hook's readiness is seen in: a key accepted (salt/auth), a minion started, a job's
 * return (the highstate). Mapped only when a group has lifecycle.launch, as these reach the reactor for every
 * auth, start and job on the master (the gate drops all but an open action's minion at the cost of a lookup).
 */
export const LIFECYCLE_EVENT_TAGS = ['salt/auth', 'salt/minion/*/start', 'salt/job/*/ret/*'] as const;

export function reactorMapping(config: Config) {
  const sls = reactorPathOnMaster(config);
  const launchHooks = Object.values(config.groups).some((g) => g.lifecycle?.launch);
  const sns = snsEventTag(config);
  return [
    ...(sns ? [sns] : []),
    ...(hasAttested(config) ? [attestEventTag(config)] : []),
    ...(launchHooks ? LIFECYCLE_EVENT_TAGS : []),
  ].map((tag) => ({ [tag]: [sls] }));
}

/** The master's path of the extra identity certificates render installs (beside the reactor). */
export function extraCertsDirOnMaster(config: Config): string {
  return `${config.salt.reactor_dir.replace(/\/+$/, '')}/${EXTRA_CERTS_DIR}`;
}

/** groups.<g>.lifecycle as the reactor reads it (docs/rendered-files.md); undefined when the group has no hooks. */
function lifecycleSettings(g: GroupSettings): Record<string, unknown> | undefined {
  const { launch, terminate } = g.lifecycle ?? {};
  if (!launch && !terminate) return undefined;
  const out: Record<string, unknown> = {};
  if (launch)
    out.launch = {
      hook_name: launch.hook_name,
      ready: launch.ready,
      on_failure: launch.on_failure,
      heartbeat_timeout: launch.heartbeat_timeout_seconds,
    };
  if (terminate) {
    const drain = terminate.drain;
    out.terminate = {
      hook_name: terminate.hook_name,
      heartbeat_timeout: terminate.heartbeat_timeout_seconds,
      ...(drain
        ? {
            drain: {
              ...(drain.state ? { state: drain.state } : { function: drain.function }),
              timeout: drain.timeout_seconds,
            },
          }
        : {}),
    };
  }
  return out;
}

/** The `ec2.autoscale` settings the reactor reads (docs/rendered-files.md is the contract). */
export function reactorSettings(config: Config, master = primaryMaster(config)) {
  const groups: Record<string, unknown> = {};
  for (const [name, g] of Object.entries(config.groups)) {
    const lifecycle = lifecycleSettings(g);
    const withHooks = (entry: Record<string, unknown>) => (lifecycle ? { ...entry, lifecycle } : entry);
    if (g.bootstrap === 'preauth' || g.bootstrap === 'attested') {
      groups[name] = withHooks({ bootstrap: g.bootstrap });
      continue;
    }
    const settings: Record<string, unknown> = { ...g.settings };
    if (g.ssh_username) settings.ssh_username = g.ssh_username;
    if (Object.keys(g.minion).length > 0) settings.minion = { master: config.salt.master_address, ...g.minion };
    groups[name] = withHooks({ bootstrap: 'salt-cloud', provider: g.provider, settings });
  }
  const email = config.alerts.email;
  const attested = hasAttested(config);
  return {
    // Where the master calls Auto Scaling (CompleteLifecycleAction, RecordLifecycleActionHeartbeat).
    region: config.aws.region,
    topic_arns: trustedTopicArns(config),
    groups,
    ...(attested
      ? {
          attest: {
            window: config.attested.window_seconds,
            extra_certs_dir:
              Object.keys(config.attested.extra_certificates).length > 0 ? extraCertsDirOnMaster(config) : null,
          },
        }
      : {}),
    max_age: config.reactor.max_age_seconds,
    clock_skew: config.reactor.clock_skew_seconds,
    cache_dir: config.reactor.cache_dir ?? null,
    pki_dir: config.salt.pki_dir ?? null,
    // Several masters: only this one bootstraps with salt-cloud and completes lifecycle actions.
    performs_once_per_instance: config.masters[master]?.primary ?? true,
    subscription_confirmation: config.reactor.subscription_confirmation,
    cert_fetch_timeout: config.reactor.cert_fetch_timeout_seconds,
    alerts: {
      email: Boolean(email),
      password_file: email?.password_file ?? null,
      min_interval: config.alerts.min_interval_seconds,
    },
  };
}

/** Salt's smtp.* master options (read by salt.utils.smtp), or nothing when email alerts are off. */
export function smtpSettings(config: Config): Record<string, unknown> {
  const email = config.alerts.email;
  if (!email) return {};
  const out: Record<string, unknown> = {
    'smtp.host': email.smtp_host,
    'smtp.port': email.smtp_port,
    'smtp.tls': email.tls,
    'smtp.from': email.from,
    'smtp.to': (Array.isArray(email.to) ? email.to : [email.to]).join(', '),
    'smtp.subject': email.subject,
  };
  if (email.username) out['smtp.username'] = email.username;
  if (email.password) out['smtp.password'] = email.password;
  return out;
}

/** salt-cloud's provider block for cloud.providers.d/ec2.conf. */
export function cloudProvider(config: Config) {
  const cp = config.cloud_provider;
  const keys = cp.credentials === 'keys';
  const block: Record<string, unknown> = {
    driver: 'ec2',
    id: keys ? cp.id : INSTANCE_ROLE,
    key: keys ? cp.key : INSTANCE_ROLE,
  };
  if (cp.keyname) block.keyname = cp.keyname;
  if (cp.private_key) block.private_key = cp.private_key;
  if (cp.securitygroup) block.securitygroup = cp.securitygroup;
  block.location = cp.location ?? config.aws.region;
  block.minion = { master: config.salt.master_address };
  Object.assign(block, cp.extra);
  return { [cp.name]: block };
}
