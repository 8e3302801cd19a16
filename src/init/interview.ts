// The questions of `init`, in the order a new user can answer them. Everything outside comes in through
// `InterviewContext` (the prompter, the AWS lookup, the environment), so a test can run the whole interview
// with scripted answers and a stubbed group list. Preset answers (flags, --answers) become the defaults.
import { SALT_RELEASES } from '../config/salt-releases.js';
import type { BootstrapMode, CredentialsMode } from '../config/types.js';
import type { Prompter } from '../prompts.js';
import {
  DEFAULTS,
  defaultApiPort,
  defaultMasterAddress,
  type EmailAnswers,
  type GroupAnswers,
  type InitAnswers,
  type PresetAnswers,
  usesSaltCloud,
} from './answers.js';
import type { ListGroupNames } from './discover.js';
import { lookupFailureReason } from './discover.js';
import * as check from './validate.js';

export interface InterviewContext {
  preset: PresetAnswers;
  /** Profiles found in ~/.aws/config and ~/.aws/credentials; a choice is offered when there are named ones. */
  profiles: string[];
  /** The profile to offer first (AWS_PROFILE). */
  defaultProfile?: string;
  /** The region the environment suggests for a profile (AWS_REGION, AWS_DEFAULT_REGION, the profile's). */
  regionFor: (profile: string | undefined) => string | undefined;
  /** Lists the region's groups; omitted (or failing) means the user types the names. */
  listGroupNames?: ListGroupNames;
  endpoint?: string;
  /** Whether a path exists on this machine: a missing certificate earns a note (it may live on the master). */
  pathExists?: (path: string) => boolean;
  /** The version of the salt-master on this machine, when init runs on the master. */
  masterSaltVersion?: string;
}

const OTHER_GROUPS = '\u0000other';
const DEFAULT_CHAIN = '';

export async function interview(p: Prompter, ctx: InterviewContext): Promise<InitAnswers> {
  const pre = ctx.preset;
  p.note(
    'This writes salt-autoscale.yaml. Press Enter to take the default in parentheses; Ctrl-C stops without writing.',
  );

  const profile = await askProfile(p, ctx);
  const region = await p.text({
    name: 'region',
    message: 'AWS region of the Auto Scaling groups',
    default: pre.region ?? ctx.regionFor(profile) ?? DEFAULTS.region,
    validate: check.region,
  });
  const groupNames = await askGroupNames(p, ctx, { region, profile });
  const groups = await askGroupModes(p, pre, groupNames, ctx.masterSaltVersion);

  p.note('salt-api receives the notifications: SNS must reach it over HTTPS from the internet.');
  const publicUrl = await p.text({
    name: 'public_url',
    message: 'Public https URL that SNS posts to (no path), e.g. https://salt.example.com:8000',
    default: pre.public_url,
    validate: check.publicUrl,
  });
  const apiHost = await p.text({
    name: 'api_host',
    message: 'Address salt-api binds',
    default: pre.api_host ?? DEFAULTS.api_host,
    validate: check.bindHost,
  });
  const apiPort = Number(
    await p.text({
      name: 'api_port',
      message: 'Port salt-api listens on',
      default: String(pre.api_port ?? defaultApiPort(publicUrl)),
      validate: check.port,
    }),
  );
  const sslCrt = await askPath(
    p,
    ctx,
    'ssl_crt',
    'TLS certificate salt-api serves (path on the master)',
    pre.ssl_crt ?? DEFAULTS.ssl_crt,
  );
  const sslKey = await askPath(
    p,
    ctx,
    'ssl_key',
    'Its private key (path on the master)',
    pre.ssl_key ?? DEFAULTS.ssl_key,
  );
  const masterAddress = await p.text({
    name: 'master_address',
    message: 'Address new minions use to reach the master',
    default: pre.master_address ?? defaultMasterAddress(publicUrl),
    validate: check.masterAddress,
  });

  const answers: InitAnswers = {
    ...(profile ? { profile } : {}),
    region,
    groups,
    public_url: publicUrl,
    api_host: apiHost,
    api_port: apiPort,
    ssl_crt: sslCrt,
    ssl_key: sslKey,
    provider_name: pre.provider_name ?? DEFAULTS.provider_name,
    credentials: pre.credentials ?? DEFAULTS.credentials,
    master_address: masterAddress,
    topic_name: DEFAULTS.topic_name,
  };
  if (usesSaltCloud(groups)) {
    await askSaltCloud(p, ctx, answers);
  } else if (answers.credentials === 'keys') {
    // No salt-cloud group needs the keys: keep them only if the answers file gave them whole.
    if (pre.access_key_id && pre.secret_access_key) {
      Object.assign(answers, { access_key_id: pre.access_key_id, secret_access_key: pre.secret_access_key });
    } else {
      answers.credentials = 'instance-role';
    }
  }

  const email = await askEmail(p, pre.email);
  if (email) answers.email = email;
  answers.topic_name = await p.text({
    name: 'topic_name',
    message: 'Name of the SNS topic `provision` creates',
    default: pre.topic_name ?? DEFAULTS.topic_name,
    validate: check.topicName,
  });
  return answers;
}

async function askProfile(p: Prompter, ctx: InterviewContext): Promise<string | undefined> {
  const named = ctx.profiles.filter((n) => n !== 'default');
  if (named.length === 0) return ctx.preset.profile;
  const preferred = ctx.preset.profile ?? ctx.defaultProfile;
  const choice = await p.choose({
    name: 'profile',
    message: 'AWS profile',
    choices: [
      {
        value: DEFAULT_CHAIN,
        name: 'the default credential chain',
        short: 'default chain',
        description: 'Environment variables, the default profile, the instance role.',
      },
      ...named.map((n) => ({ value: n })),
    ],
    default: preferred && named.includes(preferred) ? preferred : DEFAULT_CHAIN,
  });
  return choice === DEFAULT_CHAIN ? undefined : choice;
}

async function askGroupNames(
  p: Prompter,
  ctx: InterviewContext,
  where: { region: string; profile?: string },
): Promise<string[]> {
  const preset = (ctx.preset.groups ?? []).map((g) => g.name);
  let found: string[] | undefined;
  if (ctx.listGroupNames) {
    p.note(`Looking up the Auto Scaling groups in ${where.region}...`);
    try {
      found = await ctx.listGroupNames({ region: where.region, profile: where.profile, endpoint: ctx.endpoint });
      if (found.length === 0)
        p.note(`No Auto Scaling groups in ${where.region} yet: type the names of the groups you will create.`);
    } catch (err) {
      p.note(`Could not list the groups (${lookupFailureReason(err)}); type their names instead.`);
    }
  }
  if (found && found.length > 0) {
    const names = [...found, ...preset.filter((n) => !found!.includes(n))];
    const picked = await p.chooseMany({
      name: 'groups',
      message: 'Auto Scaling groups whose instances join this master (Space to tick, Enter to confirm)',
      choices: [
        ...names.map((n) => ({ value: n, checked: preset.includes(n) })),
        { value: OTHER_GROUPS, name: 'others, not listed (type their names next)' },
      ],
      validate: (v) => (v.length === 0 ? 'Tick at least one group (Space ticks).' : undefined),
    });
    const chosen = picked.filter((n) => n !== OTHER_GROUPS);
    if (!picked.includes(OTHER_GROUPS)) return chosen;
    const more = await p.text({
      name: 'groups.other',
      message: 'Other group names (comma-separated)',
      validate: check.list(check.groupName),
    });
    return unique([...chosen, ...check.splitList(more)]);
  }
  const typed = await p.text({
    name: 'groups.names',
    message: 'Auto Scaling group names (comma-separated)',
    default: preset.length > 0 ? preset.join(', ') : undefined,
    validate: check.list(check.groupName),
  });
  return unique(check.splitList(typed));
}

const unique = (xs: string[]) => [...new Set(xs)];

async function askGroupModes(
  p: Prompter,
  pre: PresetAnswers,
  names: string[],
  masterVersion?: string,
): Promise<GroupAnswers[]> {
  const groups: GroupAnswers[] = [];
  // Later groups default to what the first one of the same mode said: fleets tend to share an AMI family.
  let saltVersion: string | undefined;
  let sshUsername: string | undefined;
  for (const name of names) {
    const given = pre.groups?.find((g) => g.name === name);
    const bootstrap = await p.choose<BootstrapMode>({
      name: `group.${name}.bootstrap`,
      message: `How do new instances of ${name} get their minion?`,
      choices: [
        {
          value: 'attested',
          name: 'attested    recommended; any Salt version (3008 too)',
          description:
            'Like preauth, but the instance proves its own key with its AWS-signed identity document: no race.',
        },
        {
          value: 'preauth',
          name: 'preauth     any Salt version (3008 too)',
          description:
            'The instance installs its own minion from launch-template user data; the master accepts its key once.',
        },
        {
          value: 'salt-cloud',
          name: 'salt-cloud  Salt 3006/3007',
          description: 'salt-cloud on the master logs in to the new instance over SSH and bootstraps it.',
        },
      ],
      default: given?.bootstrap ?? pre.bootstrap ?? DEFAULTS.bootstrap,
    });
    if (bootstrap !== 'salt-cloud') {
      if (saltVersion === undefined)
        p.note(
          `The newest patch release of each Salt line: ${SALT_RELEASES.join(', ')} (older patches have known CVEs).`,
        );
      saltVersion = await p.text({
        name: `group.${name}.salt_version`,
        message: `Salt version ${name}'s instances install (not newer than the master's)`,
        default: given?.salt_version ?? saltVersion ?? pre.salt_version ?? masterVersion ?? DEFAULTS.salt_version,
        validate: check.saltVersion,
      });
      groups.push({ name, bootstrap, salt_version: saltVersion });
    } else {
      const user = await p.text({
        name: `group.${name}.ssh_username`,
        message: `SSH user of ${name}'s AMI (ec2-user, ubuntu, admin, ...)`,
        default: given?.ssh_username ?? sshUsername ?? pre.ssh_username ?? DEFAULTS.ssh_username,
        validate: check.sshUsername,
      });
      sshUsername ??= user;
      groups.push({ name, bootstrap, ssh_username: user });
    }
  }
  return groups;
}

async function askPath(
  p: Prompter,
  ctx: InterviewContext,
  name: string,
  message: string,
  def?: string,
): Promise<string> {
  const path = await p.text({ name, message, default: def, validate: check.absolutePath });
  if (ctx.pathExists && !ctx.pathExists(path))
    p.note(`  (${path} does not exist on this machine: make sure it exists on the master.)`);
  return path;
}

async function askSaltCloud(p: Prompter, ctx: InterviewContext, a: InitAnswers): Promise<void> {
  const pre = ctx.preset;
  const names = a.groups.filter((g) => g.bootstrap === 'salt-cloud').map((g) => g.name);
  p.note(
    `salt-cloud bootstraps ${names.join(', ')}: it needs an EC2 provider with AWS credentials and an SSH key pair.`,
  );
  a.provider_name = await p.text({
    name: 'provider_name',
    message: 'salt-cloud provider name',
    default: a.provider_name,
    validate: check.providerName,
  });
  a.credentials = await p.choose<CredentialsMode>({
    name: 'credentials',
    message: 'AWS credentials salt-cloud uses',
    choices: [
      {
        value: 'instance-role',
        name: "the master's IAM instance role (recommended)",
        description: 'No key in any file.',
      },
      {
        value: 'keys',
        name: 'an access key',
        description: 'Id and secret go into salt-autoscale.yaml and the provider file, both 0600.',
      },
    ],
    default: a.credentials,
  });
  if (a.credentials === 'keys') {
    a.access_key_id = await p.text({
      name: 'access_key_id',
      message: 'AWS access key id',
      default: pre.access_key_id,
      validate: check.accessKeyId,
    });
    a.secret_access_key =
      pre.secret_access_key ??
      (await p.secret({
        name: 'secret_access_key',
        message: 'AWS secret access key (not shown)',
        validate: check.secret,
      }));
  }
  a.keyname = await p.text({
    name: 'keyname',
    message: 'EC2 key pair name the instances are launched with',
    default: pre.keyname,
    validate: check.required,
  });
  a.private_key = await askPath(
    p,
    ctx,
    'private_key',
    "Path of that key pair's private key on the master",
    pre.private_key,
  );
  const sgs = await p.text({
    name: 'security_groups',
    message: 'Security groups for salt-cloud (comma-separated; empty for none)',
    default: pre.security_groups?.join(', ') ?? '',
    validate: check.list(check.required, true),
  });
  const list = check.splitList(sgs);
  if (list.length > 0) a.security_groups = list;
}

async function askEmail(p: Prompter, pre: Partial<EmailAnswers> | undefined): Promise<EmailAnswers | undefined> {
  const wanted = await p.confirm({
    name: 'email',
    message: "Email alerts (launch errors, reactor errors) besides the master's log?",
    default: pre !== undefined && Object.keys(pre).length > 0,
  });
  if (!wanted) return undefined;
  const email: EmailAnswers = {
    smtp_host: await p.text({
      name: 'email.smtp_host',
      message: 'SMTP server',
      default: pre?.smtp_host,
      validate: check.smtpHost,
    }),
    smtp_port: Number(
      await p.text({
        name: 'email.smtp_port',
        message: 'SMTP port',
        default: String(pre?.smtp_port ?? DEFAULTS.smtp_port),
        validate: check.port,
      }),
    ),
    tls: await p.confirm({ name: 'email.tls', message: 'Use STARTTLS?', default: pre?.tls ?? DEFAULTS.smtp_tls }),
    from: await p.text({
      name: 'email.from',
      message: 'Sender address',
      default: pre?.from,
      validate: check.emailAddress,
    }),
    to: check.splitList(
      await p.text({
        name: 'email.to',
        message: 'Recipients (comma-separated)',
        default: pre?.to?.join(', '),
        validate: check.list(check.emailAddress),
      }),
    ),
  };
  const username = await p.text({
    name: 'email.username',
    message: 'SMTP user name (empty: no login)',
    default: pre?.username ?? '',
  });
  if (!username) return email;
  email.username = username;
  const source = await p.choose<'file' | 'inline'>({
    name: 'email.password_source',
    message: 'The SMTP password',
    choices: [
      {
        value: 'file',
        name: 'is in a file on the master (recommended)',
        short: 'is in a file',
        description: 'The config holds no secret.',
      },
      {
        value: 'inline',
        name: 'type it now',
        short: 'typed now',
        description: 'Stored in salt-autoscale.yaml and the rendered master.d file, both 0600.',
      },
    ],
    default: pre?.password && !pre.password_file ? 'inline' : 'file',
  });
  if (source === 'file') {
    email.password_file = await p.text({
      name: 'email.password_file',
      message: 'Path of the password file on the master',
      default: pre?.password_file ?? '/etc/salt/smtp-password',
      validate: check.absolutePath,
    });
  } else {
    email.password =
      pre?.password ??
      (await p.secret({ name: 'email.password', message: 'SMTP password (not shown)', validate: check.required }));
  }
  return email;
}
