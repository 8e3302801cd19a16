// The settings the checks need, taken from the config the same way `render` writes them into the master.d
// drop-in's `ec2.autoscale` (docs/rendered-files.md), so verify and the reactor judge with the same data.
import { type Config, type GroupSettings, trustedTopicArns } from '../config/types.js';
import { reactorSettings } from '../render/salt-data.js';

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

export function verifySettings(config: Config): VerifySettings {
  // The group policies exactly as render writes them for the reactor: one function builds both.
  const rendered = reactorSettings(config).groups as Record<
    string,
    { bootstrap: GroupSettings['bootstrap']; provider?: string; settings?: Record<string, unknown> }
  >;
  const groups = new Map<string, GroupPolicy>();
  for (const [name, g] of Object.entries(rendered)) {
    groups.set(name, {
      bootstrap: g.bootstrap,
      ...(g.provider ? { provider: g.provider } : {}),
      settings: g.settings ?? {},
    });
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
