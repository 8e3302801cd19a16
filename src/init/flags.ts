// The answer flags of `init`, declared once: src/cli.ts adds them to the command, and `flagsToRaw` maps what
// commander parsed onto the keys of an answers file, so flags and --answers go through the same checks.
// Secrets (the AWS secret access key, an SMTP password) have no flag: command lines end up in `ps` and shell
// history. They come from the interview (masked) or from an --answers file.
import { type Command, Option } from 'commander';
import { SALT_RELEASES } from '../config/salt-releases.js';

interface AnswerFlag {
  /** commander's flag spec. */
  spec: string;
  description: string;
  /** The answers-file key ("email.smtp_host" for a key inside email). */
  key: string;
  repeatable?: boolean;
}

export const ANSWER_FLAGS: AnswerFlag[] = [
  {
    spec: '--profile <name>',
    key: 'profile',
    description: 'AWS profile (for the group lookup, and aws.profile in the file)',
  },
  {
    spec: '--region <region>',
    key: 'region',
    description: "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's region)",
  },
  {
    spec: '--group <name[:mode]>',
    key: 'groups',
    repeatable: true,
    description: 'an Auto Scaling group, optionally with its bootstrap mode, e.g. web-asg:salt-cloud (repeatable)',
  },
  {
    spec: '--bootstrap <mode>',
    key: 'bootstrap',
    description: 'attested, preauth or salt-cloud: the mode of groups given without one (default: attested)',
  },
  {
    spec: '--salt-version <version>',
    key: 'salt_version',
    description: `Salt version attested and preauth instances install (newest patches: ${SALT_RELEASES.join(', ')})`,
  },
  {
    spec: '--ssh-username <user>',
    key: 'ssh_username',
    description: "SSH user of salt-cloud groups' AMIs, e.g. ec2-user",
  },
  {
    spec: '--public-url <url>',
    key: 'public_url',
    description: 'https URL SNS posts to, e.g. https://salt.example.com:8000',
  },
  { spec: '--api-host <address>', key: 'api_host', description: 'address salt-api binds (default: 0.0.0.0)' },
  {
    spec: '--api-port <port>',
    key: 'api_port',
    description: "port salt-api listens on (default: the public URL's port)",
  },
  { spec: '--ssl-crt <path>', key: 'ssl_crt', description: "salt-api's TLS certificate on the master" },
  { spec: '--ssl-key <path>', key: 'ssl_key', description: "salt-api's TLS private key on the master" },
  {
    spec: '--master-address <host>',
    key: 'master_address',
    description: "address minions use to reach the master (default: the public URL's host)",
  },
  {
    spec: '--provider-name <name>',
    key: 'provider_name',
    description: 'salt-cloud provider name (default: ec2-autoscale)',
  },
  {
    spec: '--credentials <mode>',
    key: 'credentials',
    description: 'instance-role (default) or keys (the keys themselves only via --answers)',
  },
  { spec: '--keyname <name>', key: 'keyname', description: 'EC2 key pair salt-cloud logs in with' },
  { spec: '--private-key <path>', key: 'private_key', description: "that key pair's private key on the master" },
  {
    spec: '--security-group <name>',
    key: 'security_groups',
    repeatable: true,
    description: 'security group for salt-cloud (repeatable)',
  },
  { spec: '--topic-name <name>', key: 'topic_name', description: 'SNS topic name (default: salt-autoscale)' },
  {
    spec: '--smtp-host <host>',
    key: 'email.smtp_host',
    description: 'alert emails: SMTP server (turns email alerts on)',
  },
  { spec: '--smtp-port <port>', key: 'email.smtp_port', description: 'alert emails: SMTP port (default: 587)' },
  { spec: '--no-smtp-tls', key: 'email.tls', description: 'alert emails: do not use STARTTLS' },
  { spec: '--email-from <address>', key: 'email.from', description: 'alert emails: sender address' },
  {
    spec: '--email-to <address>',
    key: 'email.to',
    repeatable: true,
    description: 'alert emails: recipient (repeatable)',
  },
  { spec: '--smtp-username <user>', key: 'email.username', description: 'alert emails: SMTP user name' },
  {
    spec: '--smtp-password-file <path>',
    key: 'email.password_file',
    description: 'alert emails: file on the master holding the SMTP password',
  },
];

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

export function addAnswerOptions(cmd: Command): Command {
  for (const flag of ANSWER_FLAGS) {
    const option = new Option(flag.spec, flag.description);
    if (flag.repeatable) option.argParser(collect);
    cmd.addOption(option);
  }
  return cmd;
}

/** commander's attribute name for a flag spec: --public-url -> publicUrl, --no-smtp-tls -> smtpTls. */
export const attributeOf = (spec: string) =>
  spec
    .split(' ')[0]
    .replace(/^--(no-)?/, '')
    .replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** The flag spelling for an answers-file key, for messages ("--public-url"). */
export const flagFor = (key: string) => ANSWER_FLAGS.find((f) => f.key === key)?.spec.split(' ')[0];

/** What the user gave on the command line, shaped like an answers file (string values, as typed). */
export function flagsToRaw(options: Record<string, unknown>): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const flag of ANSWER_FLAGS) {
    const value = options[attributeOf(flag.spec)];
    if (value === undefined) continue;
    // A --no-x flag is true unless given; only its "off" says something.
    if (flag.spec.startsWith('--no-')) {
      if (value !== false) continue;
    }
    const [section, key] = flag.key.includes('.') ? flag.key.split('.') : [undefined, flag.key];
    if (section) {
      raw[section] ??= {};
      const sub = raw[section] as Record<string, unknown>;
      sub[key] = value;
    } else {
      raw[key] = value;
    }
  }
  return raw;
}
