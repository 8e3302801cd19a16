// The master opts the reactor sees, built from a salt-autoscale Config the way docs/rendered-files.md says the
// master.d drop-in carries them. Kept in this one place so the lead can swap in the real `render` output.
import { stringify, parse } from 'yaml';
import type { Config } from '../../src/config/types.js';
import { trustedTopicArns } from '../../src/config/types.js';

/** The `ec2.autoscale` + `smtp.*` part of master.d/ec2-autoscale.conf, as data. */
export function masterDropIn(config: Config): Record<string, unknown> {
  const groups: Record<string, unknown> = {};
  for (const [name, g] of Object.entries(config.groups)) {
    groups[name] = g.bootstrap === 'preauth'
      ? { bootstrap: 'preauth' }
      : {
        bootstrap: 'salt-cloud',
        provider: g.provider ?? config.cloud_provider.name,
        settings: {
          ...(g.ssh_username ? { ssh_username: g.ssh_username } : {}),
          ...(Object.keys(g.minion).length ? { minion: g.minion } : {}),
          ...g.settings,
        },
      };
  }
  const email = config.alerts.email;
  const out: Record<string, unknown> = {
    'ec2.autoscale': {
      topic_arns: trustedTopicArns(config),
      groups,
      max_age: config.reactor.max_age_seconds,
      clock_skew: config.reactor.clock_skew_seconds,
      cache_dir: config.reactor.cache_dir ?? null,
      pki_dir: config.salt.pki_dir ?? null,
      subscription_confirmation: config.reactor.subscription_confirmation,
      cert_fetch_timeout: config.reactor.cert_fetch_timeout_seconds,
      alerts: {
        email: Boolean(email),
        password_file: email?.password_file ?? null,
        min_interval: config.alerts.min_interval_seconds,
      },
    },
  };
  if (email) {
    Object.assign(out, {
      'smtp.host': email.smtp_host,
      'smtp.port': email.smtp_port,
      'smtp.tls': email.tls,
      'smtp.from': email.from,
      'smtp.to': (Array.isArray(email.to) ? email.to : [email.to]).join(', '),
      ...(email.username ? { 'smtp.username': email.username } : {}),
      ...(email.password ? { 'smtp.password': email.password } : {}),
      'smtp.subject': email.subject,
    });
  }
  return out;
}

export function masterDropInYaml(config: Config): string {
  return stringify(masterDropIn(config));
}

/** __opts__ as a master that loaded the drop-in would have it (plus the master's own cachedir and pki_dir). */
export function reactorOpts(config: Config, master: { cachedir: string; pki_dir: string }): Record<string, unknown> {
  return {
    cachedir: master.cachedir,
    pki_dir: master.pki_dir,
    autosign_timeout: config.salt.autosign_timeout,
    reactor: [{ 'salt/netapi/hook/ec2/autoscale': ['/srv/reactor/ec2-autoscale.sls'] }],
    ...(parse(masterDropInYaml(config)) as Record<string, unknown>),
  };
}
