// `init --yes`: no questions. The preset answers (flags, --answers) are completed with the interview's
// defaults; then the config they lead to is checked by the schema itself (src/config/schema.ts), so which
// answers are needed together (a salt-cloud group needs a key pair, a password a user name, …) is decided in
// one place. Each problem is reported once, by answer key and flag, all of them at once.
import { validateConfig } from '../config/schema.js';
import {
  answersToConfig,
  DEFAULTS,
  defaultApiPort,
  defaultMasterAddress,
  type EmailAnswers,
  type GroupAnswers,
  type InitAnswers,
  installsOwnMinion,
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

/**
 * What each answer is, in the order init reports them: the wording of "is missing" for a script author.
 * Whether an answer is needed is the schema's decision, not this table's.
 */
const ANSWERS: Record<string, string> = {
  region: 'the AWS region of the groups (or set AWS_REGION)',
  groups: 'at least one Auto Scaling group',
  public_url: 'the https URL SNS posts to, e.g. https://salt.example.com:8000',
  master_address: 'the address minions use to reach the master',
  ssh_username: "the SSH user of salt-cloud group {group}'s AMI, e.g. ec2-user",
  salt_version: "the Salt version {group}'s instances install (preauth, attested)",
  access_key_id: 'the AWS access key id for credentials: keys',
  secret_access_key: 'the AWS secret access key for credentials: keys',
  keyname: 'the EC2 key pair salt-cloud logs in with',
  private_key: "the path of that key pair's private key on the master",
  'email.smtp_host': 'the SMTP server for alert emails',
  'email.from': 'the sender address of alert emails',
  'email.to': 'who receives alert emails',
  'email.username': 'the SMTP user name that goes with the password',
  'email.password': 'the SMTP password',
  'email.password_file': 'the file on the master holding the SMTP password',
};

/** Config key path (dotted, `<group>` for a group name) → the answer that sets it. */
const ANSWER_FOR: Record<string, string> = {
  'aws.region': 'region',
  'aws.profile': 'profile',
  'sns.topic_name': 'topic_name',
  'salt_api.public_url': 'public_url',
  'salt_api.host': 'api_host',
  'salt_api.port': 'api_port',
  'salt_api.ssl_crt': 'ssl_crt',
  'salt_api.ssl_key': 'ssl_key',
  'salt.master_address': 'master_address',
  'cloud_provider.name': 'provider_name',
  'cloud_provider.credentials': 'credentials',
  'cloud_provider.id': 'access_key_id',
  'cloud_provider.key': 'secret_access_key',
  'cloud_provider.keyname': 'keyname',
  'cloud_provider.private_key': 'private_key',
  'cloud_provider.securitygroup': 'security_groups',
  groups: 'groups',
  'groups.<group>': 'groups',
  'groups.<group>.bootstrap': 'bootstrap',
  'groups.<group>.salt_version': 'salt_version',
  'groups.<group>.ssh_username': 'ssh_username',
};

const describeKey = (key: string, what: string) => {
  const flag = flagFor(key);
  return `${key}${flag ? ` (${flag})` : ' (only in an --answers file)'}: ${what}`;
};

/** The answers with every default filled in; what has no default stays undefined, for the schema to judge. */
function withDefaults(preset: PresetAnswers, env: Environment): InitAnswers {
  const groups: GroupAnswers[] = (preset.groups ?? []).map((g) => {
    const bootstrap = g.bootstrap ?? preset.bootstrap ?? DEFAULTS.bootstrap;
    return installsOwnMinion(bootstrap)
      ? {
          name: g.name,
          bootstrap,
          salt_version: g.salt_version ?? preset.salt_version ?? env.masterSaltVersion ?? DEFAULTS.salt_version,
        }
      : // The AMI's user is a guess the interview shows; a script must say it.
        { name: g.name, bootstrap, ssh_username: g.ssh_username ?? preset.ssh_username };
  });
  const credentials = preset.credentials ?? DEFAULTS.credentials;
  const answers = {
    ...(preset.profile ? { profile: preset.profile } : {}),
    region: preset.region ?? env.region,
    groups,
    public_url: preset.public_url,
    api_host: preset.api_host ?? DEFAULTS.api_host,
    api_port: preset.api_port ?? defaultApiPort(preset.public_url),
    ssl_crt: preset.ssl_crt ?? DEFAULTS.ssl_crt,
    ssl_key: preset.ssl_key ?? DEFAULTS.ssl_key,
    provider_name: preset.provider_name ?? DEFAULTS.provider_name,
    credentials,
    master_address: preset.master_address ?? defaultMasterAddress(preset.public_url),
    topic_name: preset.topic_name ?? DEFAULTS.topic_name,
  } as InitAnswers;
  if (credentials === 'keys') {
    answers.access_key_id = preset.access_key_id;
    answers.secret_access_key = preset.secret_access_key;
  }
  if (groups.some((g) => g.bootstrap === 'salt-cloud')) {
    answers.keyname = preset.keyname;
    answers.private_key = preset.private_key;
    if (preset.security_groups) answers.security_groups = preset.security_groups;
  }
  const e = preset.email;
  if (e && Object.keys(e).length > 0) {
    const email = {
      smtp_host: e.smtp_host,
      smtp_port: e.smtp_port ?? DEFAULTS.smtp_port,
      tls: e.tls ?? DEFAULTS.smtp_tls,
      from: e.from,
      to: e.to,
    } as EmailAnswers;
    if (e.username) email.username = e.username;
    if (e.password) email.password = e.password;
    if (e.password_file) email.password_file = e.password_file;
    answers.email = email;
  }
  return answers;
}

const stripUndefined = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(stripUndefined)
    : value && typeof value === 'object'
      ? Object.fromEntries(
          Object.entries(value)
            .filter(([, v]) => v !== undefined)
            .map(([k, v]) => [k, stripUndefined(v)]),
        )
      : value;

/** The schema's problems with the config these answers make, each as "answer (flag): what is wrong". */
export function answerProblems(answers: InitAnswers): string[] {
  const { problems } = validateConfig(stripUndefined(answersToConfig(answers)));
  const found: { order: number; line: string }[] = [];
  const order = Object.keys(ANSWERS);
  for (const p of problems) {
    const names = p.path.map(String);
    const group = names[0] === 'groups' && names.length > 1 ? names[1] : undefined;
    const dotted = (group ? ['groups', '<group>', ...names.slice(2)] : names).join('.');
    const key =
      ANSWER_FOR[dotted] ??
      (names[0] === 'alerts' && names[1] === 'email' ? `email.${names[2] ?? ''}`.replace(/\.$/, '') : dotted);
    // The master address is derived from the public URL: while that is missing, say only that.
    if (key === 'master_address' && answers.public_url === undefined) continue;
    const missing = p.message.startsWith('is missing') || p.message.startsWith('has 0 entries');
    const what = missing && ANSWERS[key] ? ANSWERS[key].replace('{group}', group ?? '') : p.message;
    const line = describeKey(key, what);
    if (found.some((f) => f.line === line)) continue;
    const rank = order.indexOf(key);
    found.push({ order: rank === -1 ? order.length : rank, line });
  }
  return found.sort((a, b) => a.order - b.order).map((f) => f.line);
}

export function completeAnswers(preset: PresetAnswers, env: Environment): Completion {
  const answers = withDefaults(preset, env);
  const missing = answerProblems(answers);
  return missing.length > 0 ? { missing } : { answers };
}
