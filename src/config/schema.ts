// The schema of salt-autoscale.yaml, as data: each field says its type, whether it is required, its default
// and what a right value looks like. `validateConfig` walks plain JS data (no YAML here) and returns every
// problem with its key path, so the loader can point at file:line:col.
import { isIPv4, isIPv6 } from 'node:net';
import { describeValue, quoteItMessage } from './describe.js';
import { DEFAULT_SALT_VERSION, SALT_RELEASES } from './salt-releases.js';
import type { Config } from './types.js';

/** AWS region names, as the gate checks them (REGION_RE in reactor/salt_autoscale_gate/policy.py). */
const REGION_PATTERN = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]+$/;

/** Regions as the identity verifier reads certificate file names (REGION_RE in salt_autoscale_gate/identity.py). */
const IID_REGION_PATTERN = /^[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}$/;

export type Path = (string | number)[];

export interface Problem {
  path: Path;
  message: string;
  /** Whether the problem is about the key itself (unknown key) rather than its value. */
  atKey?: boolean;
}

/** A rule for one value: the problem ("is not …", "must …"), or undefined when the value is right. */
export type Check = (value: unknown) => string | undefined;

interface Field {
  kind: 'string' | 'integer' | 'boolean' | 'object' | 'map' | 'list' | 'any-map' | 'string-or-list';
  required?: boolean;
  default?: unknown;
  enum?: readonly string[];
  check?: Check;
  hint: string;
  fields?: Record<string, Field>;
  /** For kind map: the schema of each value (keys are free-form names). */
  values?: Field;
  /** For kind map: the rule for each key (default: an Auto Scaling group name). */
  keyCheck?: Check;
  /** For kind list: the schema of each item. */
  items?: Field;
  min?: number;
  max?: number;
  /** A string field that also takes a whole number as its text (salt_version: 3008). */
  wholeNumbersAsText?: boolean;
  /** A secret: no message ever shows its value, whatever its type. */
  secret?: boolean;
  /** An object given as an empty value (`launch:` with nothing after it) is taken as `{}`, i.e. on with defaults. */
  emptyIsDefaults?: boolean;
}

const TOPIC_ARN = /^arn:aws(-cn|-us-gov)?:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;
const TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}$/;
/** An IAM user or role ARN, or an account's root (who may publish to the topic besides Auto Scaling). */
const PRINCIPAL_ARN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:(root|(user|role)\/[\w+=,.@/-]{1,512})$/;
// Auto Scaling group names: 1-255 characters, no ':' (ARN separator) per the AWS API reference.
const GROUP_NAME = /^[^:\x00-\x1f]{1,255}$/;
const SALT_VERSION = /^(latest|\d{4}(\.\d+)?)$/;
/** A role ARN (with an optional path), for aws.lifecycle_role_arn. */
const ROLE_ARN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\/([\x21-\x7e]*\/)?[\w+=,.@-]{1,64}$/;
/** Auto Scaling's pattern for a lifecycle hook name. */
const HOOK_NAME = /^[A-Za-z0-9\-_/]{1,255}$/;
/** An SLS name (dots or slashes between parts) and an execution module function (module.function). */
const SLS_NAME = /^[A-Za-z0-9_-]+([./][A-Za-z0-9_-]+)*$/;
/** A master's name: it ends the name of its SQS queue (<topic_name>-<master>). */
const MASTER_NAME = /^[A-Za-z0-9_-]{1,40}$/;
const FUNCTION_NAME = /^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$/;

const matches =
  (re: RegExp, what: string): Check =>
  (v) =>
    typeof v === 'string' && !re.test(v) ? `is not ${what}` : undefined;

// The value rules, exported so that `init` validates each answer exactly as the schema will validate the file.
export const checkAbsolutePath: Check = (v) =>
  typeof v === 'string' && !v.startsWith('/') ? 'must be an absolute path on the master (starting with /)' : undefined;
/** A file render reads on this machine. */
const checkLocalPath: Check = (v) =>
  typeof v === 'string' && !v.startsWith('/') ? 'must be an absolute path (a file render reads)' : undefined;
export const checkRegion = matches(REGION_PATTERN, 'an AWS region name such as us-east-1');
export const checkTopicName = matches(TOPIC_NAME, 'a valid SNS topic name (1-256 letters, digits, - or _)');
export const checkTopicArn = matches(TOPIC_ARN, 'an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT_ID:NAME)');
const checkPrincipalArn = matches(
  PRINCIPAL_ARN,
  'an IAM role or user ARN (arn:aws:iam::ACCOUNT_ID:role/NAME, …:user/NAME) or arn:aws:iam::ACCOUNT_ID:root',
);
export const checkSaltVersion = matches(SALT_VERSION, `a Salt version such as ${SALT_RELEASES.join(', ')} or latest`);
export const checkProviderName = matches(/^[A-Za-z0-9_.-]+$/, 'a plain name (letters, digits, . _ -)');
export const checkGroupName: Check = (v) =>
  typeof v === 'string' && !GROUP_NAME.test(v)
    ? 'is not a valid Auto Scaling group name (1-255 characters, no ":" or control characters)'
    : undefined;
export const checkWebhookUrl: Check = (v) =>
  typeof v === 'string' && !/^\/[A-Za-z0-9._~-]+$/.test(v)
    ? 'must be one path segment starting with /, e.g. /hook'
    : undefined;
// RFC 1123 host names: dot-separated labels of letters, digits and inner hyphens, 253 characters at most.
const HOST_NAME =
  /^(?=.{1,253}\.?$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** Why `v` is not a bare host (a name, an IPv4 or an IPv6 address), or undefined when it is one. */
function hostProblem(v: string): string | undefined {
  if (isIPv4(v) || isIPv6(v)) return undefined;
  if (/^\[.*\]$/.test(v) && isIPv6(v.slice(1, -1))) return 'must be an IPv6 address without brackets';
  if (v.includes('://') || v.includes('/')) return 'must be a bare host name or IP address, without a scheme or path';
  if (/^[^:]+:\d*$/.test(v))
    return 'must be a host name or IP address without a port (the port is a setting of its own)';
  if (/^[0-9.]+$/.test(v)) return 'is not a valid IPv4 address';
  if (!HOST_NAME.test(v)) return 'is not a valid host name or IP address (letters, digits, - and . only)';
  return undefined;
}
export const checkHost: Check = (v) => (typeof v === 'string' ? hostProblem(v) : undefined);
/** @alias salt_api.host is a host like any other, named for where it is used. */
export const checkBindAddress: Check = checkHost;
// user@domain; a domain without a dot (root@localhost) is a fine address for a local relay.
export const checkEmailAddress: Check = (v) =>
  typeof v === 'string' && !/^[^\s@<>,;]+@[^\s@<>,;.][^\s@<>,;]*$/.test(v) ? 'is not an email address' : undefined;
// POSIX-ish user names, which is what cloud images use (ec2-user, ubuntu, admin, centos).
export const checkUserName: Check = (v) =>
  typeof v === 'string' && !/^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/.test(v)
    ? 'is not a user name such as ec2-user or ubuntu'
    : undefined;
// IAM access key ids are 16-128 word characters (AKIA…, ASIA…).
export const checkAccessKeyId: Check = (v) =>
  typeof v === 'string' && !/^\w{16,128}$/.test(v)
    ? 'is not an AWS access key id (16-128 letters and digits, e.g. AKIA…)'
    : undefined;
export const checkRoleArn = matches(ROLE_ARN, 'an IAM role ARN (arn:aws:iam::ACCOUNT_ID:role/NAME)');
export const checkHookName = matches(HOOK_NAME, 'a lifecycle hook name (1-255 letters, digits, -, _ or /)');
const checkSlsName = matches(SLS_NAME, 'an SLS name such as drain or app.drain');
const checkFunctionName = matches(FUNCTION_NAME, 'an execution module function such as service.stop (module.function)');
export const checkNoBlanks: Check = (v) =>
  typeof v === 'string' && /\s/.test(v) ? 'must be one word, with no blanks' : undefined;

/** An absolute http(s) URL with no path; whether http is acceptable is a cross-check (allow_http). */
export const checkPublicUrl: Check = (v) => {
  let url: URL;
  try {
    url = new URL(String(v));
  } catch {
    return 'is not an absolute URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must use https://';
  if (url.username || url.password) return 'must not contain a user name or password';
  if (url.pathname !== '/' || url.search || url.hash)
    return 'must have no path, query or fragment (the webhook path is added from webhook_url)';
  return undefined;
};

const str = (hint: string, extra: Partial<Field> = {}): Field => ({ kind: 'string', hint, ...extra });
const int = (hint: string, min: number, max: number, def?: number): Field => ({
  kind: 'integer',
  hint,
  min,
  max,
  ...(def === undefined ? {} : { default: def }),
});

const HEARTBEAT_HINT = "seconds, from 30 to 7200 (the hook's HeartbeatTimeout)";

/** groups.<name>.lifecycle: Auto Scaling lifecycle hooks, each transition off unless given. */
const LIFECYCLE_SCHEMA: Field = {
  kind: 'object',
  emptyIsDefaults: true,
  hint: 'a mapping with launch and/or terminate',
  fields: {
    launch: {
      kind: 'object',
      emptyIsDefaults: true,
      hint: 'a mapping with ready, on_failure and heartbeat_timeout_seconds (all optional)',
      fields: {
        hook_name: str('a lifecycle hook name (1-255 letters, digits, -, _ or /)', {
          default: 'salt-autoscale-launch',
          check: checkHookName,
        }),
        ready: {
          kind: 'string',
          default: 'minion_started',
          enum: ['key_accepted', 'minion_started', 'highstate'],
          hint: 'key_accepted, minion_started or highstate',
        },
        on_failure: {
          kind: 'string',
          default: 'ABANDON',
          enum: ['ABANDON', 'CONTINUE'],
          hint: 'ABANDON (terminate the instance) or CONTINUE (put it in service anyway)',
        },
        heartbeat_timeout_seconds: int(HEARTBEAT_HINT, 30, 7200, 900),
      },
    },
    terminate: {
      kind: 'object',
      emptyIsDefaults: true,
      hint: 'a mapping with heartbeat_timeout_seconds and drain (both optional)',
      fields: {
        hook_name: str('a lifecycle hook name (1-255 letters, digits, -, _ or /)', {
          default: 'salt-autoscale-terminate',
          check: checkHookName,
        }),
        heartbeat_timeout_seconds: int(HEARTBEAT_HINT, 30, 7200, 600),
        drain: {
          kind: 'object',
          hint: 'a mapping with state or function, and timeout_seconds',
          fields: {
            state: str('an SLS name such as drain', { check: checkSlsName }),
            function: str('an execution module function such as service.stop', { check: checkFunctionName }),
            timeout_seconds: int('seconds, from 1 to 7200', 1, 7200, 300),
          },
        },
      },
    },
  },
};

export const CONFIG_SCHEMA: Field = {
  kind: 'object',
  hint: 'a mapping with the sections version, aws, sns, salt_api, salt, cloud_provider, groups, alerts, reactor, attested, delivery, masters',
  fields: {
    version: { kind: 'integer', required: true, min: 1, max: 1, hint: 'version: 1' },
    aws: {
      kind: 'object',
      required: true,
      hint: 'a mapping with region (and optionally profile)',
      fields: {
        region: str('an AWS region such as us-east-1', { required: true, check: checkRegion }),
        profile: str('the name of a profile in ~/.aws/config'),
        lifecycle_role_arn: str(
          'the ARN of an existing IAM role that Auto Scaling may assume to publish to the topic',
          {
            check: checkRoleArn,
          },
        ),
      },
    },
    sns: {
      kind: 'object',
      required: true,
      hint: 'a mapping with topic_name (and topic_arn once provisioned)',
      fields: {
        topic_name: str('1-256 letters, digits, - or _', { required: true, check: checkTopicName }),
        topic_arn: str('arn:aws:sns:REGION:ACCOUNT:NAME', { check: checkTopicArn }),
        extra_topic_arns: {
          kind: 'list',
          default: [],
          hint: 'a list of SNS topic ARNs',
          items: str('arn:aws:sns:REGION:ACCOUNT:NAME', { check: checkTopicArn }),
        },
        publishers: {
          kind: 'list',
          default: [],
          hint: 'a list of IAM role or user ARNs that may publish to the topic besides Auto Scaling',
          items: str('arn:aws:iam::ACCOUNT:role/NAME', { check: checkPrincipalArn }),
        },
      },
    },
    salt_api: {
      // Required unless delivery is sqs and no group is attested (a cross-check says which).
      kind: 'object',
      hint: 'a mapping with public_url, port, ssl_crt, ssl_key',
      fields: {
        public_url: str('an absolute https:// URL with no path, e.g. https://salt.example.com:8000', {
          required: true,
          check: checkPublicUrl,
        }),
        host: str('the address salt-api binds, e.g. 0.0.0.0, :: or 10.0.0.5', {
          default: '0.0.0.0',
          check: checkBindAddress,
        }),
        port: int('a TCP port from 1 to 65535', 1, 65535, 8000),
        ssl_crt: str('the path of the TLS certificate salt-api serves', { required: true, check: checkAbsolutePath }),
        ssl_key: str('the path of the TLS private key salt-api uses', { required: true, check: checkAbsolutePath }),
        webhook_url: str('a path such as /hook', {
          default: '/hook',
          check: checkWebhookUrl,
        }),
        allow_http: { kind: 'boolean', default: false, hint: 'true or false' },
      },
    },
    salt: {
      kind: 'object',
      required: true,
      hint: 'a mapping with master_address (and optionally config_dir, reactor_dir, pki_dir)',
      fields: {
        config_dir: str('an absolute path, usually /etc/salt', { default: '/etc/salt', check: checkAbsolutePath }),
        reactor_dir: str('an absolute path, usually /srv/reactor', {
          default: '/srv/reactor',
          check: checkAbsolutePath,
        }),
        master_address: str('the DNS name or IP address minions use to reach the master', {
          required: true,
          check: checkHost,
        }),
        pki_dir: str('an absolute path, usually /etc/salt/pki/master', { check: checkAbsolutePath }),
        autosign_timeout: int('minutes, from 1 to 1440', 1, 1440, 120),
      },
    },
    cloud_provider: {
      // Only salt-cloud groups use it; preauth-only setups may leave it out.
      kind: 'object',
      default: {},
      hint: 'a mapping with name and credentials',
      fields: {
        name: str('a salt-cloud provider name such as my-ec2-config', {
          default: 'ec2-autoscale',
          check: checkProviderName,
        }),
        credentials: {
          kind: 'string',
          default: 'instance-role',
          enum: ['instance-role', 'keys'],
          hint: "instance-role (the master's IAM role) or keys",
        },
        id: str('an AWS access key id (only with credentials: keys)', { check: checkAccessKeyId }),
        key: str('an AWS secret access key (only with credentials: keys)', { secret: true, check: checkNoBlanks }),
        keyname: str('the EC2 key pair name salt-cloud logs in with'),
        private_key: str("the path of that key pair's private key on the master", { check: checkAbsolutePath }),
        securitygroup: { kind: 'string-or-list', hint: 'a security group name, or a list of them' },
        location: str('an AWS region such as us-east-1', { check: checkRegion }),
        extra: { kind: 'any-map', default: {}, hint: 'a mapping of further salt-cloud EC2 provider options' },
      },
    },
    groups: {
      kind: 'map',
      required: true,
      min: 1,
      hint: 'a mapping of Auto Scaling group names to their bootstrap settings',
      values: {
        kind: 'object',
        hint: 'a mapping with bootstrap (preauth, attested or salt-cloud) and its settings',
        fields: {
          bootstrap: {
            kind: 'string',
            default: 'preauth',
            enum: ['preauth', 'attested', 'salt-cloud'],
            hint: 'preauth, attested or salt-cloud',
          },
          provider: str('a salt-cloud provider name'),
          ssh_username: str('the SSH user of the AMI, e.g. ec2-user', { check: checkUserName }),
          minion: { kind: 'any-map', default: {}, hint: 'a mapping of minion settings (grains, startup_states, …)' },
          settings: { kind: 'any-map', default: {}, hint: 'a mapping of further salt-cloud create options' },
          salt_version: str(`a Salt version such as "${DEFAULT_SALT_VERSION}" (quoted), 3008, or latest`, {
            check: checkSaltVersion,
            wholeNumbersAsText: true,
          }),
          lifecycle: LIFECYCLE_SCHEMA,
        },
      },
    },
    alerts: {
      kind: 'object',
      default: {},
      hint: 'a mapping with email (optional) and min_interval_seconds',
      fields: {
        email: {
          kind: 'object',
          hint: 'a mapping with smtp_host, from and to',
          fields: {
            smtp_host: str('the SMTP server name', { required: true, check: checkHost }),
            smtp_port: int('a TCP port from 1 to 65535', 1, 65535, 587),
            tls: { kind: 'boolean', default: true, hint: 'true or false' },
            from: str('an email address', { required: true, check: checkEmailAddress }),
            to: {
              kind: 'string-or-list',
              required: true,
              hint: 'an email address or a list of them',
              items: str('an email address', { check: checkEmailAddress }),
            },
            username: str('the SMTP user name'),
            password: str('the SMTP password (prefer password_file)', { secret: true }),
            password_file: str('the path of a file on the master holding the SMTP password', {
              check: checkAbsolutePath,
            }),
            subject: str('the subject line prefix', { default: 'salt-autoscale' }),
          },
        },
        min_interval_seconds: int('seconds, from 0 to 86400', 0, 86400, 300),
      },
    },
    reactor: {
      kind: 'object',
      default: {},
      hint: 'a mapping of reactor limits',
      fields: {
        max_age_seconds: int('seconds, from 60 to 86400', 60, 86400, 3600),
        clock_skew_seconds: int('seconds, from 0 to 3600', 0, 3600, 300),
        cache_dir: str('an absolute path on the master', { check: checkAbsolutePath }),
        subscription_confirmation: {
          kind: 'string',
          default: 'auto',
          enum: ['auto', 'email'],
          hint: 'auto (the reactor confirms) or email (the link is emailed)',
        },
        cert_fetch_timeout_seconds: int('seconds, from 1 to 60', 1, 60, 10),
      },
    },
    attested: {
      kind: 'object',
      default: {},
      hint: 'a mapping with window_seconds, extra_certificates, tls_ca_file, master_finger',
      fields: {
        window_seconds: int('seconds, from 60 to 3600', 60, 3600, 900),
        extra_certificates: {
          kind: 'map',
          default: {},
          keyCheck: matches(IID_REGION_PATTERN, 'an AWS region name such as us-east-1'),
          hint: 'a mapping of AWS region names to PEM certificate files (or lists of them)',
          values: {
            kind: 'string-or-list',
            hint: 'the path of a PEM certificate file, or a list of them',
            items: str('an absolute path', { check: checkLocalPath }),
          },
        },
        tls_ca_file: str('the absolute path of a PEM file', { check: checkLocalPath }),
        master_finger: str("the master's fingerprint as `salt-key -f master.pub` prints it (hex pairs and colons)", {
          check: matches(
            /^[0-9a-f]{2}(:[0-9a-f]{2}){15,63}$/,
            'a fingerprint such as 4f:2a:…, as `salt-key -F master` prints it',
          ),
        }),
      },
    },
    delivery: {
      kind: 'object',
      default: {},
      hint: 'a mapping with mode (webhook, webhook-engine or sqs) and sqs',
      fields: {
        mode: {
          kind: 'string',
          default: 'webhook',
          enum: ['webhook', 'webhook-engine', 'sqs'],
          hint: "webhook (salt-api), webhook-engine (Salt's webhook engine) or sqs (a queue per master, no inbound port)",
        },
        sqs: {
          kind: 'object',
          default: {},
          hint: 'a mapping with wait_seconds, max_messages, visibility_timeout_seconds, max_receive_count',
          fields: {
            wait_seconds: int('seconds, from 1 to 20 (the long poll)', 1, 20, 20),
            max_messages: int('a whole number from 1 to 10', 1, 10, 10),
            visibility_timeout_seconds: int('seconds, from 30 to 43200', 30, 43200, 900),
            max_receive_count: int('a whole number from 1 to 1000', 1, 1000, 5),
          },
        },
      },
    },
    masters: {
      kind: 'map',
      default: {},
      keyCheck: matches(MASTER_NAME, 'a master name (1-40 letters, digits, - or _)'),
      hint: 'a mapping of master names to their settings (primary, public_url)',
      values: {
        kind: 'object',
        emptyIsDefaults: true,
        hint: 'a mapping with primary and public_url (both optional)',
        fields: {
          primary: { kind: 'boolean', default: false, hint: 'true or false' },
          public_url: str('an absolute https:// URL with no path, e.g. https://salt-2.example.com:8000', {
            check: checkPublicUrl,
          }),
        },
      },
    },
  },
};

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates `value` against `field`, filling defaults; returns the normalized value. */
function check(field: Field, value: unknown, path: Path, problems: Problem[]): unknown {
  const bad = (message: string) => {
    problems.push({ path, message: `${message}; expected ${field.hint}` });
    return value;
  };
  const describe = (v: unknown) => describeValue(v, { secret: field.secret });
  switch (field.kind) {
    case 'string':
      if (field.wholeNumbersAsText && typeof value === 'number' && Number.isSafeInteger(value))
        return check(field, String(value), path, problems);
      if (typeof value === 'number') return bad(quoteItMessage(value, field.secret));
      if (typeof value !== 'string') return bad(`is ${describe(value)}, not a string`);
      if (value.trim() === '') return bad('is empty');
      if (field.enum && !field.enum.includes(value))
        return bad(`is ${describe(value)}, not one of ${field.enum.join(', ')}`);
      {
        const wrong = field.check?.(value);
        if (wrong) return bad(wrong);
      }
      break;
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value))
        return bad(`is ${describe(value)}, not a whole number`);
      if ((field.min !== undefined && value < field.min) || (field.max !== undefined && value > field.max)) {
        return bad(`is ${value}, out of range`);
      }
      break;
    case 'boolean':
      if (typeof value !== 'boolean') return bad(`is ${describe(value)}, not true or false`);
      break;
    case 'string-or-list': {
      const list = typeof value === 'string' ? [value] : value;
      if (!Array.isArray(list) || list.length === 0 || list.some((s) => typeof s !== 'string' || s.trim() === '')) {
        return bad(`is ${describe(value)}`);
      }
      if (field.items) {
        if (typeof value === 'string') check(field.items, value, path, problems);
        else list.forEach((item, i) => void check(field.items!, item, [...path, i], problems));
      }
      return value;
    }
    case 'any-map':
      if (!isPlainObject(value)) return bad(`is ${describe(value)}, not a mapping`);
      return value;
    case 'list': {
      if (!Array.isArray(value)) return bad(`is ${describe(value)}, not a list`);
      return value.map((item, i) => check(field.items!, item, [...path, i], problems));
    }
    case 'map': {
      if (!isPlainObject(value)) return bad(`is ${describe(value)}, not a mapping`);
      const keys = Object.keys(value);
      if (field.min !== undefined && keys.length < field.min) return bad(`has ${keys.length} entries`);
      const out: Record<string, unknown> = {};
      for (const key of keys) {
        const keyProblem = (field.keyCheck ?? checkGroupName)(key);
        if (keyProblem) problems.push({ path: [...path, key], atKey: true, message: keyProblem });
        out[key] = check(field.values!, value[key] ?? {}, [...path, key], problems);
      }
      return out;
    }
    case 'object': {
      if (!isPlainObject(value)) return bad(`is ${describe(value)}, not a mapping`);
      const fields = field.fields!;
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(value)) {
        if (!(key in fields)) {
          problems.push({
            path: [...path, key],
            atKey: true,
            message: `is not a known setting; expected one of ${Object.keys(fields).join(', ')}${suggest(key, Object.keys(fields))}`,
          });
        }
      }
      for (const [key, sub] of Object.entries(fields)) {
        const given = value[key] === null && sub.emptyIsDefaults ? {} : value[key];
        if (given === undefined || given === null) {
          if (sub.required) problems.push({ path: [...path, key], message: `is missing; expected ${sub.hint}` });
          else if (sub.default !== undefined)
            out[key] = check(sub, structuredClone(sub.default), [...path, key], problems);
          continue;
        }
        out[key] = check(sub, given, [...path, key], problems);
      }
      return out;
    }
  }
  return value;
}

function suggest(key: string, known: string[]): string {
  const close = known.find((k) => distance(k, key) <= 2);
  return close ? ` (did you mean ${close}?)` : '';
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length][b.length];
}

/** Provider keys that render writes itself; cloud_provider.extra may not override them. */
const MANAGED_PROVIDER_KEYS = [
  'driver',
  'provider',
  'id',
  'key',
  'keyname',
  'private_key',
  'securitygroup',
  'location',
  'minion',
];

/** Rules that tie several settings together. */
function crossChecks(c: Config, problems: Problem[]): void {
  const cp = c.cloud_provider;
  if (cp.credentials === 'keys') {
    if (!cp.id)
      problems.push({
        path: ['cloud_provider', 'id'],
        message: 'is missing; credentials: keys needs the access key id (or use credentials: instance-role)',
      });
    if (!cp.key)
      problems.push({
        path: ['cloud_provider', 'key'],
        message: 'is missing; credentials: keys needs the secret access key (or use credentials: instance-role)',
      });
  } else {
    for (const k of ['id', 'key'] as const) {
      if (cp[k])
        problems.push({
          path: ['cloud_provider', k],
          message: 'is set but credentials is instance-role; remove it, or set credentials: keys',
        });
    }
  }
  for (const k of Object.keys(cp.extra)) {
    if (MANAGED_PROVIDER_KEYS.includes(k)) {
      problems.push({
        path: ['cloud_provider', 'extra', k],
        atKey: true,
        message: `is set by salt-autoscale itself; use cloud_provider.${k === 'driver' || k === 'provider' ? 'name' : k === 'minion' ? 'name (minion.master comes from salt.master_address)' : k} instead`,
      });
    }
  }
  const attestedGroups = Object.keys(c.groups).filter((name) => c.groups[name]?.bootstrap === 'attested');
  deliveryChecks(c, attestedGroups, problems);
  const api = c.salt_api;
  if (api && String(api.public_url).startsWith('http:') && !api.allow_http) {
    problems.push({
      path: ['salt_api', 'public_url'],
      message:
        'uses http://: SNS would post notifications in clear text; use https://, or set salt_api.allow_http: true to accept the risk',
    });
  }
  if (api && attestedGroups.length > 0 && String(api.public_url).startsWith('http:')) {
    // Whoever sits on the path could swap the key in an attestation post: allow_http cannot cover that.
    problems.push({
      path: ['salt_api', 'public_url'],
      message: `uses http://, but attested group ${attestedGroups[0]} posts its key there: anyone on the path could swap it; use https://`,
    });
  }
  const email = c.alerts.email;
  if (email) {
    if (email.password && email.password_file) {
      problems.push({
        path: ['alerts', 'email', 'password'],
        message: 'is set together with password_file; keep only one',
      });
    }
    if ((email.password || email.password_file) && !email.username) {
      problems.push({ path: ['alerts', 'email', 'username'], message: 'is missing; a password needs a username' });
    }
  }
  if (c.reactor.subscription_confirmation === 'email' && !email) {
    problems.push({
      path: ['reactor', 'subscription_confirmation'],
      message: 'is email but alerts.email is not configured; configure alerts.email or use auto',
    });
  }
  const cloudGroups = Object.keys(c.groups).filter((name) => c.groups[name]?.bootstrap === 'salt-cloud');
  if (cloudGroups.length > 0) {
    // salt-cloud logs in to each new instance over SSH with this key pair: without it every launch fails late.
    for (const k of ['keyname', 'private_key'] as const) {
      if (!cp[k]) {
        problems.push({
          path: ['cloud_provider', k],
          message: `is missing; salt-cloud group ${cloudGroups[0]} bootstraps over SSH with the EC2 key pair (keyname) and its private key on the master (private_key), or use bootstrap: preauth`,
        });
      }
    }
  }
  for (const [name, g] of Object.entries(c.groups)) {
    if (!g || typeof g !== 'object') continue;
    if (isPlainObject(g.minion) && 'master' in g.minion) {
      problems.push({
        path: ['groups', name, 'minion', 'master'],
        atKey: true,
        message: 'is set from salt.master_address for every group; set it there (one master for all minions)',
      });
    }
    for (const k of Object.keys(g.settings)) {
      if (['provider', 'instances', 'instance_id', 'opts'].includes(k) || k.startsWith('__')) {
        problems.push({
          path: ['groups', name, 'settings', k],
          atKey: true,
          message:
            k === 'provider'
              ? 'is set by salt-autoscale; use groups.<name>.provider instead'
              : 'is set by salt-autoscale or by Salt itself for each launch; remove it',
        });
      }
    }
    lifecycleChecks(name, g, problems);
    if (g.bootstrap === 'salt-cloud') {
      if (!g.ssh_username)
        problems.push({
          path: ['groups', name, 'ssh_username'],
          message: 'is missing; salt-cloud bootstrap logs in over SSH as this user (e.g. ec2-user)',
        });
      for (const k of ['salt_version'] as const) {
        if (g[k] !== undefined)
          problems.push({
            path: ['groups', name, k],
            message: 'applies to bootstrap: preauth or attested only; remove it or set bootstrap: preauth',
          });
      }
    } else {
      for (const k of ['ssh_username', 'provider'] as const) {
        if (g[k] !== undefined)
          problems.push({
            path: ['groups', name, k],
            message: 'applies to bootstrap: salt-cloud only; remove it or set bootstrap: salt-cloud',
          });
      }
      if (Object.keys(g.settings).length > 0)
        problems.push({
          path: ['groups', name, 'settings'],
          message: 'applies to bootstrap: salt-cloud only; remove it or set bootstrap: salt-cloud',
        });
      if (!g.salt_version)
        problems.push({
          path: ['groups', name, 'salt_version'],
          message: `is missing; ${g.bootstrap} instances install this Salt version (e.g. "${DEFAULT_SALT_VERSION}")`,
        });
    }
  }
}

/** delivery and masters: a listener where one is needed, one primary master, a URL per master for webhooks. */
function deliveryChecks(c: Config, attestedGroups: string[], problems: Problem[]): void {
  const mode = c.delivery?.mode ?? 'webhook';
  if (!c.salt_api && (mode !== 'sqs' || attestedGroups.length > 0))
    problems.push({
      path: ['salt_api'],
      message:
        mode === 'sqs'
          ? `is missing; attested group ${attestedGroups[0]} posts its identity document to salt-api (public_url, ssl_crt, ssl_key)`
          : `is missing; delivery ${mode} needs the HTTPS listener SNS posts to (public_url, ssl_crt, ssl_key)`,
    });
  const masters = Object.entries(c.masters ?? {});
  if (masters.length < 2) return;
  const primaries = masters.filter(([, m]) => m.primary).map(([name]) => name);
  if (primaries.length !== 1)
    problems.push({
      path: ['masters'],
      message: `${primaries.length ? `has primary: true on ${primaries.join(', ')}` : 'has no master with primary: true'}; set it on exactly one master: it runs what must happen once per instance (salt-cloud's bootstrap, completing lifecycle actions)`,
    });
  if (attestedGroups.length > 0)
    problems.push({
      path: ['masters'],
      message: `names ${masters.length} masters, but attested group ${attestedGroups[0]} posts its key to one master only; use bootstrap: preauth with several masters`,
    });
  if (mode === 'sqs') return;
  const seen = new Map<string, string>();
  for (const [name, m] of masters) {
    if (!m.public_url) {
      problems.push({
        path: ['masters', name, 'public_url'],
        message: `is missing; with delivery ${mode} and several masters, SNS posts to each master at its own URL`,
      });
      continue;
    }
    const other = seen.get(m.public_url);
    if (other)
      problems.push({
        path: ['masters', name, 'public_url'],
        message: `is the same as masters.${other}.public_url; each master needs its own URL (its own subscription)`,
      });
    seen.set(m.public_url, name);
    if (m.public_url.startsWith('http:') && !c.salt_api?.allow_http)
      problems.push({
        path: ['masters', name, 'public_url'],
        message:
          'uses http://: SNS would post notifications in clear text; use https://, or set salt_api.allow_http: true to accept the risk',
      });
  }
}

/** A group's lifecycle hooks: distinct names, and a drain that names exactly one thing to run. */
function lifecycleChecks(name: string, g: Config['groups'][string], problems: Problem[]): void {
  const lc = g.lifecycle;
  if (!lc || typeof lc !== 'object') return;
  if (lc.launch && lc.terminate && lc.launch.hook_name === lc.terminate.hook_name)
    problems.push({
      path: ['groups', name, 'lifecycle', 'terminate', 'hook_name'],
      message: `is ${lc.terminate.hook_name}, the same as launch.hook_name; a group's hooks need different names`,
    });
  const drain = lc.terminate?.drain;
  if (drain && typeof drain === 'object') {
    const path = ['groups', name, 'lifecycle', 'terminate', 'drain'];
    if (drain.state && drain.function)
      problems.push({ path, message: 'sets both state and function; keep one (the drain runs one thing)' });
    if (!drain.state && !drain.function)
      problems.push({
        path,
        message: 'names nothing to run; set state (an SLS such as drain) or function (such as service.stop)',
      });
  }
}

/** Validates parsed YAML data. Returns the normalized config, or the problems found. */
export function validateConfig(data: unknown): { config?: Config; problems: Problem[] } {
  const problems: Problem[] = [];
  const out = check(CONFIG_SCHEMA, data, [], problems) as Config;
  if (problems.length === 0) {
    for (const g of Object.values(out.groups)) {
      if (g.bootstrap === 'salt-cloud' && !g.provider) g.provider = out.cloud_provider.name;
    }
    // One master unless the config names more; the only one is the primary.
    const names = Object.keys(out.masters);
    if (names.length === 0) out.masters = { master: { primary: true } };
    else if (names.length === 1) out.masters[names[0]].primary = true;
    crossChecks(out, problems);
  } else {
    // Report the rules that tie settings together in the same run, as far as the data has their shape: every
    // problem at once, not one round per kind. A shape too broken to judge waits for the next run.
    const shaped: Problem[] = [];
    try {
      crossChecks(out, shaped);
    } catch {
      shaped.length = 0;
    }
    // A rule about a mapping whose own values are wrong (credentials: kees) would judge the wrong value: only
    // mappings whose problems are missing keys are judged now.
    const key = (path: Path) => path.join('\u0000');
    const known = new Set(problems.map((p) => key(p.path)));
    const wrong = new Set(
      problems.filter((p) => !p.message.startsWith('is missing')).map((p) => key(p.path.slice(0, -1))),
    );
    problems.push(...shaped.filter((p) => !known.has(key(p.path)) && !wrong.has(key(p.path.slice(0, -1)))));
  }
  return problems.length > 0 ? { problems } : { config: out, problems };
}
