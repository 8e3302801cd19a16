// What `init` needs to know, as one flat record: the interview fills it, `--answers FILE` and flags pre-fill
// it, and `answersToConfig` turns it into the salt-autoscale.yaml data. Keys are the snake_case twins of the
// flags (--public-url <-> public_url), so a script author can move between the two without a table.
import { DEFAULT_SALT_VERSION } from '../config/salt-releases.js';
import type { BootstrapMode, CredentialsMode, EmailAlertSettings } from '../config/types.js';

export interface GroupAnswers {
  name: string;
  bootstrap: BootstrapMode;
  /** preauth and attested only: the Salt version the instance installs. */
  salt_version?: string;
  /** salt-cloud only: the SSH user of the group's AMI. */
  ssh_username?: string;
}

/** The email settings init asks for: those of the config file, less the subject (init keeps its default). */
export type EmailAnswers = Omit<EmailAlertSettings, 'subject'>;

export interface InitAnswers {
  profile?: string;
  region: string;
  groups: GroupAnswers[];
  public_url: string;
  api_host: string;
  api_port: number;
  ssl_crt: string;
  ssl_key: string;
  provider_name: string;
  credentials: CredentialsMode;
  access_key_id?: string;
  /** A secret: only ever written to the config file (0600), never printed. */
  secret_access_key?: string;
  keyname?: string;
  private_key?: string;
  security_groups?: string[];
  master_address: string;
  email?: EmailAnswers;
  topic_name: string;
}

/**
 * Answers given ahead of the interview (answers file, flags). Besides per-group settings, `bootstrap`,
 * `salt_version` and `ssh_username` may be given once for every group that does not say otherwise.
 */
export type PresetAnswers = Partial<Omit<InitAnswers, 'groups' | 'email'>> & {
  groups?: (Partial<GroupAnswers> & { name: string })[];
  email?: Partial<EmailAnswers>;
  bootstrap?: BootstrapMode;
  salt_version?: string;
  ssh_username?: string;
};

// Defaults shown in the interview, used by --yes, and visible in the written file.
export const DEFAULTS = {
  api_host: '0.0.0.0',
  api_port: 8000,
  ssl_crt: '/etc/pki/tls/certs/salt-api.crt',
  ssl_key: '/etc/pki/tls/private/salt-api.key',
  provider_name: 'ec2-autoscale',
  credentials: 'instance-role' as CredentialsMode,
  topic_name: 'salt-autoscale',
  // New setups: attested works on every Salt version (3008 has no salt-cloud in core) and, unlike preauth,
  // admits a key only from the instance itself (README "Security model").
  bootstrap: 'attested' as BootstrapMode,
  salt_version: DEFAULT_SALT_VERSION,
  ssh_username: 'ec2-user',
  smtp_port: 587,
  smtp_tls: true,
  region: 'us-east-1',
} as const;

/** The port SNS will reach: the public URL's own port, else 443 for https. salt-api usually listens there too. */
export function defaultApiPort(publicUrl: string | undefined): number {
  if (!publicUrl) return DEFAULTS.api_port;
  try {
    const url = new URL(publicUrl);
    return url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : DEFAULTS.api_port;
  } catch {
    return DEFAULTS.api_port;
  }
}

/** Minions usually reach the master under the name SNS uses; the user can give a private name instead. */
export function defaultMasterAddress(publicUrl: string | undefined): string | undefined {
  if (!publicUrl) return undefined;
  try {
    return new URL(publicUrl).hostname.replace(/^\[|\]$/g, '') || undefined;
  } catch {
    return undefined;
  }
}

/** Whether the instance installs its own minion from render's user data (preauth, attested). */
export const installsOwnMinion = (mode: BootstrapMode) => mode !== 'salt-cloud';

export const usesSaltCloud = (groups: { bootstrap?: BootstrapMode }[]) =>
  groups.some((g) => g.bootstrap === 'salt-cloud');

/** Whether the file will hold a secret, and so must be written 0600. */
export const holdsSecret = (a: InitAnswers) => Boolean(a.secret_access_key || a.email?.password);

/** The salt-autoscale.yaml data for these answers, every default spelled out so the user sees it. */
export function answersToConfig(a: InitAnswers): Record<string, unknown> {
  const saltCloud = usesSaltCloud(a.groups);
  const groups: Record<string, unknown> = {};
  for (const g of a.groups) {
    groups[g.name] = installsOwnMinion(g.bootstrap)
      ? { bootstrap: g.bootstrap, salt_version: g.salt_version, minion: {} }
      : { bootstrap: 'salt-cloud', ssh_username: g.ssh_username, minion: {} };
  }
  const provider: Record<string, unknown> = { name: a.provider_name, credentials: a.credentials };
  if (a.credentials === 'keys') Object.assign(provider, { id: a.access_key_id, key: a.secret_access_key });
  if (saltCloud) {
    if (a.keyname) provider.keyname = a.keyname;
    if (a.private_key) provider.private_key = a.private_key;
    const sgs = a.security_groups ?? [];
    if (sgs.length > 0) provider.securitygroup = sgs.length === 1 ? sgs[0] : sgs;
    provider.location = a.region;
  }
  provider.extra = {};

  const alerts: Record<string, unknown> = {};
  if (a.email) {
    const e = a.email;
    alerts.email = {
      smtp_host: e.smtp_host,
      smtp_port: e.smtp_port,
      tls: e.tls,
      from: e.from,
      to: e.to,
      ...(e.username ? { username: e.username } : {}),
      ...(e.password ? { password: e.password } : {}),
      ...(e.password_file ? { password_file: e.password_file } : {}),
      subject: 'salt-autoscale',
    };
  }
  alerts.min_interval_seconds = 300;

  return {
    version: 1,
    aws: { region: a.region, ...(a.profile ? { profile: a.profile } : {}) },
    sns: { topic_name: a.topic_name, extra_topic_arns: [] },
    salt_api: {
      public_url: a.public_url,
      host: a.api_host,
      port: a.api_port,
      ssl_crt: a.ssl_crt,
      ssl_key: a.ssl_key,
      webhook_url: '/hook',
    },
    salt: {
      config_dir: '/etc/salt',
      reactor_dir: '/srv/reactor',
      master_address: a.master_address,
      autosign_timeout: 120,
    },
    cloud_provider: provider,
    groups,
    alerts,
    reactor: {
      max_age_seconds: 3600,
      clock_skew_seconds: 300,
      subscription_confirmation: 'auto',
      cert_fetch_timeout_seconds: 10,
    },
  };
}
