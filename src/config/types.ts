// The validated, defaulted shape of salt-autoscale.yaml. Keys keep the file's snake_case so that an error
// message, the docs and the code all name a setting the same way.

export type BootstrapMode = 'salt-cloud' | 'preauth' | 'attested';
export type CredentialsMode = 'instance-role' | 'keys';
export type ConfirmMode = 'auto' | 'email';

export interface AwsSettings {
  region: string;
  profile?: string;
  /** An existing IAM role that lets Auto Scaling publish lifecycle notifications; provision creates none then. */
  lifecycle_role_arn?: string;
}

export interface SnsSettings {
  /** Name of the SNS topic that provision creates (CreateTopic is idempotent by name). */
  topic_name: string;
  /** ARN of that topic, written back by `provision`; the reactor trusts it. */
  topic_arn?: string;
  /** Further topic ARNs the reactor trusts (e.g. a topic managed elsewhere). */
  extra_topic_arns: string[];
  /** IAM principals (role/user ARNs) that the topic policy lets publish besides Auto Scaling. */
  publishers: string[];
}

export interface SaltApiSettings {
  /** Base URL that SNS can reach, e.g. https://salt.example.com:8000 (no path). */
  public_url: string;
  host: string;
  port: number;
  ssl_crt: string;
  ssl_key: string;
  /** rest_cherrypy's webhook_url, e.g. /hook. */
  webhook_url: string;
  /** Allow an http:// public_url (SNS then posts in clear text). Off by default. */
  allow_http: boolean;
}

export interface SaltSettings {
  /** The master's configuration directory: render --out to this dir installs for real. */
  config_dir: string;
  /** Where the master config says the reactor lives. */
  reactor_dir: string;
  /** Address minions use to reach the master. */
  master_address: string;
  /** The master's pki_dir (preauth writes minions_autosign/ stubs there); default: __opts__['pki_dir']. */
  pki_dir?: string;
  /** Minutes an autosign stub stays valid (Salt's autosign_timeout). */
  autosign_timeout: number;
}

export interface CloudProviderSettings {
  name: string;
  credentials: CredentialsMode;
  /** AWS access key id (credentials: keys only). */
  id?: string;
  /** AWS secret access key (credentials: keys only). A secret: never printed. */
  key?: string;
  keyname?: string;
  private_key?: string;
  securitygroup?: string | string[];
  /** EC2 region for salt-cloud; defaults to aws.region. */
  location?: string;
  /** Any other salt-cloud EC2 provider option, passed through verbatim. */
  extra: Record<string, unknown>;
}

/** When a launching instance is ready to enter service (the Salt event the reactor waits for). */
export type ReadyCondition = 'key_accepted' | 'minion_started' | 'highstate';
export type LifecycleResult = 'ABANDON' | 'CONTINUE';

export interface LaunchHookSettings {
  hook_name: string;
  ready: ReadyCondition;
  /** The result when the instance fails (a failed highstate) or the hook times out (its DefaultResult). */
  on_failure: LifecycleResult;
  /** The hook's HeartbeatTimeout, 30-7200. */
  heartbeat_timeout_seconds: number;
}

/** What runs on a terminating minion before its key is deleted: exactly one of state and function. */
export interface DrainSettings {
  state?: string;
  function?: string;
  timeout_seconds: number;
}

export interface TerminateHookSettings {
  hook_name: string;
  heartbeat_timeout_seconds: number;
  drain?: DrainSettings;
}

/** Lifecycle hooks for one group; a transition that is absent gets no hook. */
export interface LifecycleSettings {
  launch?: LaunchHookSettings;
  terminate?: TerminateHookSettings;
}

export interface GroupSettings {
  bootstrap: BootstrapMode;
  /** salt-cloud provider name (salt-cloud mode); defaults to cloud_provider.name. */
  provider?: string;
  /** SSH user salt-cloud bootstraps as (salt-cloud mode). */
  ssh_username?: string;
  /** Minion configuration: grains, startup_states, … */
  minion: Record<string, unknown>;
  /** Any other keyword salt-cloud's create accepts (salt-cloud mode), passed through verbatim. */
  settings: Record<string, unknown>;
  /** Salt version the instance installs (preauth and attested modes), e.g. "3007.14". */
  salt_version?: string;
  /** Lifecycle hooks (off when absent). */
  lifecycle?: LifecycleSettings;
}

export interface EmailAlertSettings {
  smtp_host: string;
  smtp_port: number;
  tls: boolean;
  from: string;
  to: string[];
  username?: string;
  /** A secret: never printed. Prefer password_file. */
  password?: string;
  /** File on the master holding the SMTP password; read by the reactor at send time. */
  password_file?: string;
  subject: string;
}

export interface AlertSettings {
  email?: EmailAlertSettings;
  /** At most one email per this many seconds (a flood of bad requests is not a flood of emails). */
  min_interval_seconds: number;
}

export interface ReactorSettings {
  max_age_seconds: number;
  clock_skew_seconds: number;
  /** Reactor's on-disk cache (certificates, handled MessageIds); default: <master cachedir>/ec2-autoscale. */
  cache_dir?: string;
  subscription_confirmation: ConfirmMode;
  cert_fetch_timeout_seconds: number;
}

export interface AttestedSettings {
  /** Seconds after an instance's pendingTime during which it may attest (and its user data keeps trying). */
  window_seconds: number;
  /** Further instance identity certificates, region → PEM file(s) read by render (partitions, tests). */
  extra_certificates: Record<string, string | string[]>;
  /** PEM file (read by render) of the CA that salt-api's TLS certificate chains to, for the instances' curl. */
  tls_ca_file?: string;
  /** The master's key fingerprint (`salt-key -f master.pub`) the minions pin; else read from the master's pki. */
  master_finger?: string;
}

/** How notifications reach the master(s): see docs/config.md "delivery". */
export type DeliveryMode = 'webhook' | 'webhook-engine' | 'sqs';

export interface SqsDeliverySettings {
  /** The engine's long poll (ReceiveMessage WaitTimeSeconds), 1-20. */
  wait_seconds: number;
  /** Messages per receive, 1-10. */
  max_messages: number;
  /** How long a received message stays hidden: longer than the slowest handling (a salt-cloud bootstrap). */
  visibility_timeout_seconds: number;
  /** Receives before SQS moves a message that keeps failing to the dead-letter queue (the redrive policy). */
  max_receive_count: number;
}

export interface DeliverySettings {
  mode: DeliveryMode;
  sqs: SqsDeliverySettings;
}

export interface MasterSettings {
  /** The one master that runs what must happen once per instance (salt-cloud's bootstrap, lifecycle completion). */
  primary: boolean;
  /** Webhook modes: the URL SNS posts to for this master; default salt_api.public_url (one master only). */
  public_url?: string;
}

export interface Config {
  version: 1;
  aws: AwsSettings;
  sns: SnsSettings;
  /** The HTTPS listener (salt-api, or Salt's webhook engine): absent only with delivery sqs and no attested group. */
  salt_api?: SaltApiSettings;
  salt: SaltSettings;
  cloud_provider: CloudProviderSettings;
  groups: Record<string, GroupSettings>;
  alerts: AlertSettings;
  reactor: ReactorSettings;
  attested: AttestedSettings;
  delivery: DeliverySettings;
  /** Every master that receives the notifications, by name; one (`master`, primary) unless the config names more. */
  masters: Record<string, MasterSettings>;
}

/** The masters' names, in the config's order. */
export function masterNames(config: Config): string[] {
  return Object.keys(config.masters);
}

/** The master whose drop-in performs once-per-instance work. */
export function primaryMaster(config: Config): string {
  return Object.entries(config.masters).find(([, m]) => m.primary)?.[0] ?? masterNames(config)[0];
}

/** The HTTPS listener settings, for the modes and features that need one (the schema makes sure they exist). */
export function listener(config: Config): SaltApiSettings {
  if (!config.salt_api) throw new Error('internal: salt_api is needed here but the config has none');
  return config.salt_api;
}

/**
 * The HTTPS endpoint of a master: its public URL + salt-api's webhook path (Salt's webhook engine serves every
 * path, so none) + the tag suffix the reactor mapping listens on. For delivery sqs, where instances still post
 * attestations: salt-api's.
 */
export function webhookEndpoint(config: Config, master = primaryMaster(config)): string {
  const api = listener(config);
  const base = (config.masters[master]?.public_url ?? api.public_url).replace(/\/+$/, '');
  const hook = config.delivery.mode === 'webhook-engine' ? '' : '/' + api.webhook_url.replace(/^\/+|\/+$/g, '');
  return `${base}${hook}/ec2/autoscale`;
}

/** Where attested instances POST: the webhook endpoint + /attest (salt-api fires salt/netapi/hook/…/attest). */
export function attestEndpoint(config: Config, master = primaryMaster(config)): string {
  return `${webhookEndpoint(config, master)}/attest`;
}

/** SQS queue names hold at most 80 characters: the master's queue is <topic_name>-<master>, cut to fit. */
export function masterQueueName(config: Config, master: string): string {
  return `${config.sns.topic_name.slice(0, 79 - master.length)}-${master}`;
}

/** Every topic ARN the reactor must trust. */
export function trustedTopicArns(config: Config): string[] {
  const arns = config.sns.topic_arn ? [config.sns.topic_arn] : [];
  for (const arn of config.sns.extra_topic_arns) if (!arns.includes(arn)) arns.push(arn);
  return arns;
}
