// The config schema as a user meets it: defaults, cross-field rules, and docs that cover every key.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfigText, yamlText } from '../src/config/load.js';
import { SALT_RELEASES } from '../src/config/salt-releases.js';
import { CONFIG_SCHEMA } from '../src/config/schema.js';
import { ConfigError } from '../src/errors.js';
import { EXAMPLE } from './helpers/run-cli.js';
import { tempDir } from './helpers/tmp.js';

const example = readFileSync(EXAMPLE, 'utf8');
const load = (text: string) => parseConfigText(text, 'salt-autoscale.yaml');
const problemsOf = (text: string): string => {
  try {
    load(text);
    return '';
  } catch (err) {
    return (err as Error).message;
  }
};

/** Every documented key path of the schema, with <name> for free-form map keys. */
function keyPaths(field: any, prefix: string): string[] {
  if (field.kind === 'object') {
    return Object.entries(field.fields).flatMap(([k, sub]) => [`${prefix}${k}`, ...keyPaths(sub, `${prefix}${k}.`)]);
  }
  if (field.kind === 'map') return keyPaths(field.values, `${prefix}<name>.`);
  return [];
}

describe('salt-autoscale.yaml', () => {
  it('the example loads, with defaults filled in', () => {
    const { config } = load(example);
    expect(config.salt_api?.webhook_url).toBe('/hook');
    expect(config.groups['web-asg'].provider).toBe('ec2-autoscale');
    expect(config.groups['worker-asg'].bootstrap).toBe('preauth');
    expect(config.reactor.subscription_confirmation).toBe('auto');
  });

  it('docs/config.md documents every key of the schema', () => {
    const doc = readFileSync(new URL('../docs/config.md', import.meta.url), 'utf8');
    const missing = keyPaths(CONFIG_SCHEMA, '').filter((p) =>
      p.includes('.') ? !doc.includes(`\`${p}\``) : !doc.includes(`\n## ${p}\n`),
    );
    expect(missing).toEqual([]);
  });

  it('reports every problem at once, each with line:col and key path', () => {
    const text = example.replace('region: us-east-1\n', 'region: mars-1\n').replace('  port: 8000', '  port: 70000');
    const message = problemsOf(text);
    expect(message).toContain('2 problems');
    expect(message).toMatch(/salt-autoscale\.yaml:6:11: aws\.region is not an AWS region name/);
    expect(message).toMatch(/salt_api\.port is 70000, out of range; expected a TCP port from 1 to 65535/);
  });

  it('ties settings together: keys mode needs the key pair, preauth needs a version, settings belong to salt-cloud', () => {
    expect(problemsOf(example.replace('credentials: instance-role', 'credentials: keys'))).toMatch(
      /cloud_provider\.id is missing; credentials: keys needs the access key id/,
    );
    expect(problemsOf(example.replace(/ {4}salt_version: .*\n/, ''))).toMatch(
      /groups\.worker-asg\.salt_version is missing/,
    );
    expect(
      problemsOf(example.replace('    bootstrap: preauth\n', '    bootstrap: preauth\n    ssh_username: ubuntu\n')),
    ).toMatch(/groups\.worker-asg\.ssh_username applies to bootstrap: salt-cloud only/);
    expect(
      problemsOf(example.replace('        role: worker\n', '        role: worker\n      master: evil.example.com\n')),
    ).toMatch(/groups\.worker-asg\.minion\.master is set from salt\.master_address for every group/);
    expect(
      problemsOf(
        example.replace(
          '      startup_states: highstate\n',
          '      startup_states: highstate\n    settings: {instance_id: "*"}\n',
        ),
      ),
    ).toMatch(/groups\.web-asg\.settings\.instance_id is set by salt-autoscale or by Salt itself for each launch/);
    expect(problemsOf(example.replace('  extra_topic_arns: []', '  extra_topic_arns: [arn:aws:s3:::bucket]'))).toMatch(
      /sns\.extra_topic_arns\[0\] is not an SNS topic ARN/,
    );
    expect(
      problemsOf(example.replace('  location: us-east-1\n', '  location: us-east-1\n  extra: {driver: openstack}\n')),
    ).toMatch(/cloud_provider\.extra\.driver is set by salt-autoscale itself/);
    expect(problemsOf(example.replace('  keyname: salt-master\n', ''))).toMatch(
      /cloud_provider\.keyname is missing; salt-cloud group web-asg bootstraps over SSH/,
    );
    expect(
      problemsOf(example.replace('  subscription_confirmation: auto', '  subscription_confirmation: email')),
    ).toMatch(/reactor\.subscription_confirmation is email but alerts\.email is not configured/);
  });

  it('reports rules that tie settings together in the same run as missing keys, but never about a wrong value', () => {
    // A wrong region and a salt-cloud group without its key pair: both at once.
    const both = problemsOf(
      example.replace('region: us-east-1\n', 'region: mars-1\n').replace('  keyname: salt-master\n', ''),
    );
    expect(both).toMatch(/aws\.region is not an AWS region name/);
    expect(both).toMatch(/cloud_provider\.keyname is missing; salt-cloud group web-asg bootstraps over SSH/);
    // credentials: kees is wrong: no rule then judges id and key as if it were instance-role.
    const typo = problemsOf(
      example.replace('credentials: instance-role', 'credentials: kees\n  id: AKIAIOSFODNN7EXAMPLE'),
    );
    expect(typo).toContain('1 problem');
    expect(typo).toMatch(/cloud_provider\.credentials is the string "kees", not one of instance-role, keys/);
  });

  it('a preauth-only config needs no cloud_provider; bootstrap defaults to preauth; salt_version takes 3008 unquoted', () => {
    const minimal = [
      'version: 1',
      'aws: {region: eu-west-1}',
      'sns: {topic_name: t}',
      'salt_api: {public_url: "https://salt.example.com", ssl_crt: /c, ssl_key: /k}',
      'salt: {master_address: salt}',
      'groups:',
      '  workers: {salt_version: 3008}',
      '',
    ].join('\n');
    const { config } = load(minimal);
    expect(config.groups.workers).toMatchObject({ bootstrap: 'preauth', salt_version: '3008' });
    expect(config.cloud_provider.credentials).toBe('instance-role');
    expect(problemsOf(minimal.replace('salt_version: 3008', 'salt_version: 3007.1'))).toMatch(
      /groups\.workers\.salt_version is the number 3007\.1; quote it \("3007\.1"\)/,
    );
  });

  it('refuses duplicate keys, YAML aliases bombs and an empty file with a clear message', () => {
    expect(problemsOf(example.replace('version: 1\n', 'version: 1\nversion: 1\n'))).toMatch(
      /invalid YAML: Map keys must be unique/,
    );
    expect(problemsOf('')).toMatch(/the file is empty; run `salt-autoscale init`/);
    const bomb =
      'a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n';
    // A config error (exit 2), not the ReferenceError that src/cli.ts would report as a bug (exit 70).
    let error: unknown;
    try {
      load(bomb);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).exitCode).toBe(2);
    expect((error as Error).message).toMatch(
      /^salt-autoscale\.yaml: its YAML aliases \(\*name\) expand to too much data/,
    );
    // An alias with no anchor is most often a value meant to start with *: said so, without repeating it.
    const unquoted = problemsOf(
      example.replace(
        'credentials: instance-role',
        'credentials: keys\n  id: AKIAIOSFODNN7EXAMPLE\n  key: *hunter2secret',
      ),
    );
    expect(unquoted).toBe(
      'salt-autoscale.yaml: a YAML alias (*name) refers to no anchor (&name) before it; a value that starts with * must be quoted.',
    );
  });
});

describe('values shown back in messages', () => {
  it('never shows the value of a secret key, whatever its type', () => {
    const withEmail = (password: string) =>
      example.replace(
        / {2}# email:[\s\S]*?password_file: \/etc\/salt\/smtp-password\n/,
        `  email:\n    smtp_host: smtp.example.com\n    from: a@example.com\n    to: b@example.com\n    username: u\n    password: ${password}\n`,
      );
    const withKey = (key: string) =>
      example.replace('credentials: instance-role', `credentials: keys\n  id: AKIAIOSFODNN7EXAMPLE\n  key: ${key}`);
    for (const [text, value] of [
      [withEmail('31415926'), '31415926'],
      [withEmail('0012345'), '12345'],
      [withEmail('3.14159e10'), '31415900000'],
      [withKey('123456789012345678901234567890'), '1234567'],
      [withKey('1.2345678901234568e+29'), '12345678'],
    ]) {
      const message = problemsOf(text);
      expect(message).toMatch(/(alerts\.email\.password|cloud_provider\.key) is a number; quote it/);
      expect(message).not.toContain(value);
    }
    expect(problemsOf(withEmail('true'))).toMatch(/alerts\.email\.password is a boolean, not a string/);
  });

  it('quotes at most a short escaped excerpt of a value: binary garbage and escape sequences never reach the terminal', () => {
    const garbage = `\u001b]0;owned\u0007\u009b31m${'\u202e'.repeat(3)}${'x'.repeat(500)}`;
    const message = problemsOf(`${JSON.stringify(garbage)}\n`);
    expect(message).toMatch(/\(top level\) is the string "\\u001b\]0;owned\\u0007\\u009b31m/);
    expect(message).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
    expect(message.length).toBeLessThan(400); // the 500 x's are cut
    // A key of garbage is named escaped too.
    expect(problemsOf(example.replace('version: 1\n', `version: 1\n"\\e[2Jx": 1\n`))).toContain('["\\u001b[2Jx"]');
  });

  it('a binary file is refused as not YAML text, and none of it is echoed', () => {
    const bytes = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0x1b, 0x5b, 0x32, 0x4a, 0xff, 0xfe]);
    expect(() => yamlText(bytes, 'salt-autoscale.yaml')).toThrow(
      /^salt-autoscale\.yaml: this is not a YAML text file \(it holds binary data or is not UTF-8\)/,
    );
    expect(() => yamlText(new Uint8Array([0x61, 0x3a, 0x20, 0xc3]), 'x.yaml')).toThrow(/not a YAML text file/);
    expect(yamlText(new TextEncoder().encode('\ufeffversion: 1\n'), 'x.yaml')).toBe('version: 1\n');
  });

  it('names the path the user gave when the file cannot be read, in words rather than EISDIR/ENOTDIR', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'file'), 'x');
    await expect(loadConfig(dir)).rejects.toThrow(new RegExp(`^${dir}: cannot read it: it is a folder, not a file$`));
    await expect(loadConfig(join(dir, 'file', 'salt-autoscale.yaml'))).rejects.toThrow(
      /: cannot read it: a part of .*file\/salt-autoscale\.yaml is a file where a folder should be$/,
    );
  });
});

describe('addresses and host names', () => {
  const withHost = (host: string) => example.replace('  host: 0.0.0.0', `  host: ${JSON.stringify(host)}`);
  const withMaster = (host: string) =>
    example.replace('master_address: salt.example.com', `master_address: ${JSON.stringify(host)}`);

  it('salt_api.host and salt.master_address take a bare IP address or host name only', () => {
    for (const good of ['0.0.0.0', '::', '10.0.0.5', 'fe80::1', 'salt.example.com', 'salt-master', 'localhost']) {
      expect(problemsOf(withHost(good))).toBe('');
      expect(problemsOf(withMaster(good))).toBe('');
    }
    expect(problemsOf(withHost('https://salt.example.com:99999'))).toMatch(
      /salt_api\.host must be a bare host name or IP address, without a scheme or path/,
    );
    expect(problemsOf(withHost('not a host!!'))).toMatch(/salt_api\.host is not a valid host name or IP address/);
    expect(problemsOf(withHost('salt.example.com:8000'))).toMatch(/salt_api\.host must be .* without a port/);
    expect(problemsOf(withHost('999.1.1.1'))).toMatch(/salt_api\.host is not a valid IPv4 address/);
    expect(problemsOf(withHost('[::1]'))).toMatch(/salt_api\.host must be an IPv6 address without brackets/);
    expect(problemsOf(withHost('-bad-.example.com'))).toMatch(/salt_api\.host is not a valid host name/);
    expect(problemsOf(withMaster('salt.example.com/path'))).toMatch(/salt\.master_address must be a bare host name/);
    expect(problemsOf(withMaster(`${'a'.repeat(64)}.example.com`))).toMatch(/salt\.master_address is not a valid/);
  });
});

describe('Salt versions', () => {
  it('the example pins preauth minions to a patched release, one of the newest of its line', () => {
    const { config } = load(example);
    const pinned = Object.values(config.groups)
      .map((g) => g.salt_version)
      .filter((v): v is string => !!v);
    expect(pinned.length).toBeGreaterThan(0);
    for (const v of pinned) expect(SALT_RELEASES).toContain(v);
    // Salt's changelog: CVE-2024-38822…38825 and CVE-2025-22236…22242 were fixed in 3006.12 and 3007.4.
    const patched: Record<string, number> = { '3006': 12, '3007': 4, '3008': 0 };
    for (const release of SALT_RELEASES) {
      const [line, patch] = release.split('.');
      expect(Number(patch)).toBeGreaterThanOrEqual(patched[line]);
    }
    expect(problemsOf(example.replace(/salt_version: .*/, 'salt_version: 3007.10'))).toMatch(
      /is the number 3007\.1; quote it/,
    );
    const hints = JSON.stringify(CONFIG_SCHEMA);
    expect(hints).not.toMatch(/3007\.1\b(?!\d)/);
  });

  describe('groups.<name>.lifecycle', () => {
    const minimal = (lifecycle: string, extra = '') =>
      [
        'version: 1',
        'aws: {region: us-east-1' + extra + '}',
        'sns: {topic_name: t}',
        'salt_api: {public_url: "https://s.example.com:8000", ssl_crt: /c, ssl_key: /k}',
        'salt: {master_address: salt.example.com}',
        'groups:',
        '  workers:',
        '    salt_version: "3007.14"',
        ...lifecycle.split('\n').map((l) => `    ${l}`),
      ].join('\n');

    it('is off by default; launch: with nothing after it is on with the defaults; the example turns it on for web-asg', () => {
      expect(load(minimal('')).config.groups.workers.lifecycle).toBeUndefined();
      expect(load(minimal('lifecycle:\n  launch:')).config.groups.workers.lifecycle).toEqual({
        launch: {
          hook_name: 'salt-autoscale-launch',
          ready: 'minion_started',
          on_failure: 'ABANDON',
          heartbeat_timeout_seconds: 900,
        },
      });
      const { config } = load(example);
      expect(config.groups['web-asg'].lifecycle).toEqual({
        launch: {
          hook_name: 'salt-autoscale-launch',
          ready: 'highstate',
          on_failure: 'ABANDON',
          heartbeat_timeout_seconds: 900,
        },
        terminate: {
          hook_name: 'salt-autoscale-terminate',
          heartbeat_timeout_seconds: 600,
          drain: { state: 'drain', timeout_seconds: 300 },
        },
      });
      expect(config.groups['worker-asg'].lifecycle).toBeUndefined();
    });

    it('refuses bad values with the key, what is wrong and what would be right', () => {
      expect(problemsOf(minimal('lifecycle: {launch: {heartbeat_timeout_seconds: 20}}'))).toMatch(
        /groups\.workers\.lifecycle\.launch\.heartbeat_timeout_seconds is 20, out of range; expected seconds, from 30 to 7200/,
      );
      expect(problemsOf(minimal('lifecycle: {terminate: {heartbeat_timeout_seconds: 7201}}'))).toMatch(
        /lifecycle\.terminate\.heartbeat_timeout_seconds is 7201, out of range/,
      );
      expect(problemsOf(minimal('lifecycle: {launch: {ready: booted}}'))).toMatch(
        /lifecycle\.launch\.ready is the string "booted", not one of key_accepted, minion_started, highstate/,
      );
      expect(problemsOf(minimal('lifecycle: {launch: {on_failure: abandon}}'))).toMatch(
        /lifecycle\.launch\.on_failure is the string "abandon", not one of ABANDON, CONTINUE/,
      );
      expect(problemsOf(minimal('lifecycle: {launch: {hook_name: "a b"}}'))).toMatch(
        /lifecycle\.launch\.hook_name is not a lifecycle hook name/,
      );
      expect(problemsOf(minimal('lifecycle: {launch: {}, terminate: {hook_name: salt-autoscale-launch}}'))).toMatch(
        /lifecycle\.terminate\.hook_name is salt-autoscale-launch, the same as launch\.hook_name/,
      );
      expect(problemsOf(minimal('lifecycle: {terminate: {drain: {timeout_seconds: 60}}}'))).toMatch(
        /lifecycle\.terminate\.drain names nothing to run; set state .* or function/,
      );
      expect(problemsOf(minimal('lifecycle: {terminate: {drain: {state: drain, function: service.stop}}}'))).toMatch(
        /lifecycle\.terminate\.drain sets both state and function; keep one/,
      );
      expect(problemsOf(minimal('lifecycle: {terminate: {drain: {function: "rm -rf"}}}'))).toMatch(
        /drain\.function is not an execution module function/,
      );
      expect(problemsOf(minimal('lifecycle: {lunch: {}}'))).toMatch(
        /groups\.workers\.lifecycle\.lunch is not a known setting; expected one of launch, terminate \(did you mean launch\?\)/,
      );
      const message = problemsOf(
        minimal('lifecycle: {launch: {}}', ', lifecycle_role_arn: "arn:aws:iam::123456789012:user/me"'),
      );
      expect(message).toMatch(/salt-autoscale\.yaml:2:\d+: aws\.lifecycle_role_arn is not an IAM role ARN/);
      expect(
        load(minimal('lifecycle: {launch: {}}', ', lifecycle_role_arn: "arn:aws:iam::123456789012:role/hooks/asg"'))
          .config.aws.lifecycle_role_arn,
      ).toBe('arn:aws:iam::123456789012:role/hooks/asg');
    });
  });
});
