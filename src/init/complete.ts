// `init --yes`: no questions. The preset answers (flags, --answers) are completed with the interview's
// defaults; whatever has no default and was not given is reported, all of it at once.
import {
  DEFAULTS,
  defaultApiPort,
  defaultMasterAddress,
  type EmailAnswers,
  type GroupAnswers,
  type InitAnswers,
  type PresetAnswers,
} from './answers.js';
import { flagFor } from './flags.js';

export interface Environment {
  /** The region from AWS_REGION / AWS_DEFAULT_REGION / the profile, when any. */
  region?: string;
  /** The version of the salt-master on this machine, when init runs on the master. */
  masterSaltVersion?: string;
}

export type Completion = { answers: InitAnswers; missing?: undefined } | { answers?: undefined; missing: string[] };

const describeKey = (key: string, what: string) => {
  const flag = flagFor(key);
  return `${key}${flag ? ` (${flag})` : ' (only in an --answers file)'}: ${what}`;
};

export function completeAnswers(preset: PresetAnswers, env: Environment): Completion {
  const missing: string[] = [];
  const need = <T>(value: T | undefined, key: string, what: string): T => {
    if (value === undefined) missing.push(describeKey(key, what));
    return value as T;
  };

  const region = need(preset.region ?? env.region, 'region', 'the AWS region of the groups (or set AWS_REGION)');
  if (!preset.groups || preset.groups.length === 0)
    missing.push(describeKey('groups', 'at least one Auto Scaling group'));
  const groups: GroupAnswers[] = (preset.groups ?? []).map((g) => {
    const bootstrap = g.bootstrap ?? preset.bootstrap ?? DEFAULTS.bootstrap;
    return bootstrap === 'preauth'
      ? {
          name: g.name,
          bootstrap,
          salt_version: g.salt_version ?? preset.salt_version ?? env.masterSaltVersion ?? DEFAULTS.salt_version,
        }
      : {
          name: g.name,
          bootstrap,
          // The AMI's user is a guess the interview shows; a script must say it.
          ssh_username: need(
            g.ssh_username ?? preset.ssh_username,
            'ssh_username',
            `the SSH user of salt-cloud group ${g.name}'s AMI, e.g. ec2-user`,
          ),
        };
  });
  const saltCloud = groups.some((g) => g.bootstrap === 'salt-cloud');
  const publicUrl = need(
    preset.public_url,
    'public_url',
    'the https URL SNS posts to, e.g. https://salt.example.com:8000',
  );
  const credentials = preset.credentials ?? DEFAULTS.credentials;

  const answers: InitAnswers = {
    ...(preset.profile ? { profile: preset.profile } : {}),
    region,
    groups,
    public_url: publicUrl,
    api_host: preset.api_host ?? DEFAULTS.api_host,
    api_port: preset.api_port ?? defaultApiPort(publicUrl),
    ssl_crt: preset.ssl_crt ?? DEFAULTS.ssl_crt,
    ssl_key: preset.ssl_key ?? DEFAULTS.ssl_key,
    provider_name: preset.provider_name ?? DEFAULTS.provider_name,
    credentials,
    // Derived from the public URL by default; only worth reporting when that URL was given.
    master_address:
      publicUrl === undefined
        ? (preset.master_address as string)
        : need(
            preset.master_address ?? defaultMasterAddress(publicUrl),
            'master_address',
            'the address minions use to reach the master',
          ),
    topic_name: preset.topic_name ?? DEFAULTS.topic_name,
  };
  if (credentials === 'keys') {
    answers.access_key_id = need(preset.access_key_id, 'access_key_id', 'the AWS access key id for credentials: keys');
    answers.secret_access_key = need(
      preset.secret_access_key,
      'secret_access_key',
      'the AWS secret access key for credentials: keys',
    );
  }
  if (saltCloud) {
    answers.keyname = need(preset.keyname, 'keyname', 'the EC2 key pair salt-cloud logs in with');
    answers.private_key = need(
      preset.private_key,
      'private_key',
      "the path of that key pair's private key on the master",
    );
    if (preset.security_groups) answers.security_groups = preset.security_groups;
  }
  if (preset.email && Object.keys(preset.email).length > 0) answers.email = completeEmail(preset.email, need, missing);
  return missing.length > 0 ? { missing } : { answers };
}

function completeEmail(
  e: Partial<EmailAnswers>,
  need: <T>(value: T | undefined, key: string, what: string) => T,
  missing: string[],
): EmailAnswers {
  const email: EmailAnswers = {
    smtp_host: need(e.smtp_host, 'email.smtp_host', 'the SMTP server for alert emails'),
    smtp_port: e.smtp_port ?? DEFAULTS.smtp_port,
    tls: e.tls ?? DEFAULTS.smtp_tls,
    from: need(e.from, 'email.from', 'the sender address of alert emails'),
    to: need(e.to, 'email.to', 'who receives alert emails'),
  };
  if (e.username) email.username = e.username;
  if (e.password && e.password_file) missing.push('email.password and email.password_file: give only one of them');
  if (e.password) email.password = e.password;
  if (e.password_file) email.password_file = e.password_file;
  if ((email.password || email.password_file) && !email.username) {
    missing.push(describeKey('email.username', 'the SMTP user name that goes with the password'));
  }
  return email;
}
