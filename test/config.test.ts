// The config schema as a user meets it: defaults, cross-field rules, and docs that cover every key.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../src/config/load.js';
import { CONFIG_SCHEMA } from '../src/config/schema.js';
import { EXAMPLE } from './helpers/run-cli.js';

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
    expect(config.salt_api.webhook_url).toBe('/hook');
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
    expect(problemsOf(example.replace('    salt_version: "3007.1"\n', ''))).toMatch(
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
    expect(() => load(bomb)).toThrow();
  });
});
