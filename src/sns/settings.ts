// The settings the checks need, taken from the config the same way `render` writes them into the master.d
// drop-in's `ec2.autoscale` (docs/rendered-files.md), so verify and the reactor judge with the same data.
import { trustedTopicArns, type Config, type GroupSettings } from '../config/types.js';

/** Salt's defaults, used when the config leaves the reactor to take them from the master's __opts__. */
export const DEFAULT_MASTER_CACHEDIR = '/var/cache/salt/master';
export const DEFAULT_PKI_DIR = '/etc/salt/pki/master';

export interface GroupPolicy {
  bootstrap: GroupSettings['bootstrap'];
  /** salt-cloud provider (salt-cloud mode). */
  provider?: string;
  /** Extra keyword arguments for runner.cloud.create (salt-cloud mode). */
  settings: Record<string, unknown>;
}

export interface VerifySettings {
  topicArns: readonly string[];
  groups: ReadonlyMap<string, GroupPolicy>;
  maxAgeSeconds: number;
  clockSkewSeconds: number;
  cacheDir: string;
  pkiDir: string;
  subscriptionConfirmation: Config['reactor']['subscription_confirmation'];
  certFetchTimeoutSeconds: number;
  emailAlerts: boolean;
}

/** The kwargs a salt-cloud group adds to runner.cloud.create: ssh_username, minion, then its free settings. */
export function cloudCreateSettings(group: GroupSettings): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  if (group.ssh_username) settings.ssh_username = group.ssh_username;
  if (Object.keys(group.minion).length > 0) settings.minion = group.minion;
  return { ...settings, ...group.settings };
}

export function verifySettings(config: Config): VerifySettings {
  const groups = new Map<string, GroupPolicy>();
  for (const [name, g] of Object.entries(config.groups)) {
    groups.set(
      name,
      g.bootstrap === 'salt-cloud'
        ? { bootstrap: g.bootstrap, provider: g.provider ?? config.cloud_provider.name, settings: cloudCreateSettings(g) }
        : { bootstrap: g.bootstrap, settings: {} },
    );
  }
  return {
    topicArns: trustedTopicArns(config),
    groups,
    maxAgeSeconds: config.reactor.max_age_seconds,
    clockSkewSeconds: config.reactor.clock_skew_seconds,
    cacheDir: config.reactor.cache_dir ?? `${DEFAULT_MASTER_CACHEDIR}/ec2-autoscale`,
    pkiDir: config.salt.pki_dir ?? DEFAULT_PKI_DIR,
    subscriptionConfirmation: config.reactor.subscription_confirmation,
    certFetchTimeoutSeconds: config.reactor.cert_fetch_timeout_seconds,
    emailAlerts: config.alerts.email !== undefined,
  };
}
