// `salt-autoscale init` as a person runs it: the built bin in a pseudo-terminal, answered key by key. Group
// discovery talks to the fake AWS (test/fakes/aws.ts) on 127.0.0.1 through the SDK's own AWS_ENDPOINT_URL.
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { type FakeAws, startFakeAws } from './fakes/aws.js';
import { cleanEnv, KEY, SECRET, scratchFolders, Terminal } from './init-helpers.js';

const dir = scratchFolders();
const configPath = () => join(dir(), 'salt-autoscale.yaml');

describe('init in a terminal', () => {
  it('asks, re-asks a wrong answer, takes defaults on Enter, never shows the secret, and writes the file', async () => {
    const t = new Terminal(dir(), ['init'], cleanEnv(dir(), { AWS_DEFAULT_REGION: 'eu-west-2' }));
    await t.answer(/AWS region of the Auto Scaling groups \(eu-west-2\)/, KEY.enter);
    await t.waitFor(/Could not list the groups \(.+\); type their names instead\./);
    await t.answer(/Auto Scaling group names/, `web-asg, worker-asg${KEY.enter}`);
    await t.answer(/How do new instances of web-asg get their minion\?/, KEY.down + KEY.down + KEY.enter); // salt-cloud, third
    await t.answer(/SSH user of web-asg's AMI .*\(ec2-user\)/, KEY.enter);
    await t.answer(/How do new instances of worker-asg get their minion\?/, KEY.enter);
    await t.answer(/Salt version worker-asg's instances install .*\(3007\.14\)/, `${KEY.clearLine}3008${KEY.enter}`);
    await t.answer(/Public https URL that SNS posts to/, `salt.example.com${KEY.enter}`);
    await t.answer(
      /"salt\.example\.com" is not an absolute URL\./,
      `${KEY.clearLine}https://salt.example.com:8000${KEY.enter}`,
    );
    await t.answer(/Address salt-api binds \(0\.0\.0\.0\)/, KEY.enter);
    await t.answer(/Port salt-api listens on \(8000\)/, KEY.enter);
    await t.answer(/TLS certificate salt-api serves/, KEY.enter);
    await t.answer(/Its private key/, KEY.enter);
    await t.answer(/Address new minions use to reach the master \(salt\.example\.com\)/, KEY.enter);
    await t.answer(/salt-cloud provider name/, KEY.enter);
    await t.answer(/AWS credentials salt-cloud uses/, KEY.down + KEY.enter);
    await t.answer(/AWS access key id/, `AKIAIOSFODNN7EXAMPLE${KEY.enter}`);
    await t.answer(/AWS secret access key \(not shown\)/, SECRET + KEY.enter);
    await t.answer(/EC2 key pair name/, `salt-master${KEY.enter}`);
    await t.answer(/Path of that key pair's private key/, `/etc/salt/kp.pem${KEY.enter}`);
    await t.answer(/Security groups for salt-cloud/, KEY.enter);
    await t.answer(/Email alerts .*\(y\/N\)/, KEY.enter);
    await t.answer(/Name of the SNS topic .*\(salt-autoscale\)/, KEY.enter);
    expect(await t.exitCode()).toBe(0);

    expect(t.text).not.toContain(SECRET);
    expect(t.text).toContain('Wrote salt-autoscale.yaml (mode 0600: it holds a secret).');
    expect(t.text).toMatch(/Next steps:[\s\S]*salt-autoscale render --out \/etc\/salt/);
    expect(statSync(configPath()).mode & 0o777).toBe(0o600);
    const { config } = await loadConfig(configPath());
    expect(config.aws.region).toBe('eu-west-2');
    expect(config.groups).toMatchObject({
      'web-asg': { bootstrap: 'salt-cloud', ssh_username: 'ec2-user' },
      'worker-asg': { bootstrap: 'attested', salt_version: '3008' }, // the default, taken on Enter
    });
    expect(config.cloud_provider).toMatchObject({
      credentials: 'keys',
      id: 'AKIAIOSFODNN7EXAMPLE',
      key: SECRET,
      keyname: 'salt-master',
    });
  });

  it('Ctrl-C at a question exits 130 and leaves nothing behind', async () => {
    const t = new Terminal(dir(), ['init'], cleanEnv(dir()));
    await t.answer(/AWS region of the Auto Scaling groups/, KEY.enter);
    await t.answer(/Auto Scaling group names/, `web-asg${KEY.enter}`);
    await t.answer(/How do new instances of web-asg/, KEY.enter);
    await t.answer(/Salt version web-asg's instances install/, KEY.enter);
    await t.answer(/Public https URL/, KEY.ctrlC);
    expect(await t.exitCode()).toBe(130);
    expect(t.text).toContain('salt-autoscale: interrupted; nothing was written');
    expect(readdirSync(dir()).filter((f) => !f.startsWith('no-aws'))).toEqual([]);
  });

  it('refuses before asking anything when the config exists', async () => {
    writeFileSync(configPath(), 'mine\n');
    const t = new Terminal(dir(), ['init'], cleanEnv(dir()));
    expect(await t.exitCode()).toBe(3);
    expect(t.text).toContain('already exists; nothing was changed');
    expect(t.text).not.toContain('AWS region');
  });
});

describe('group discovery', () => {
  let fake: FakeAws;

  // The project's fake AWS (test/fakes/aws.ts), two groups per page so that the lookup must follow NextToken.
  beforeEach(async () => {
    fake = await startFakeAws({ region: 'us-east-2', groups: ['api-asg', 'web-asg', 'worker-asg'], groupPageSize: 2 });
  });
  afterEach(async () => {
    await fake.close();
  });

  it("lists every page of the region's groups as a checklist when credentials work", async () => {
    const endpoint = fake.url;
    const t = new Terminal(
      dir(),
      ['init'],
      cleanEnv(dir(), {
        AWS_ENDPOINT_URL: endpoint,
        AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'fake-secret',
        AWS_REGION: 'us-east-2',
      }),
    );
    await t.answer(/AWS region of the Auto Scaling groups \(us-east-2\)/, KEY.enter);
    await t.waitFor(/Auto Scaling groups whose instances join this master/);
    await t.waitFor(/worker-asg/);
    // Tick web-asg and worker-asg (the list is api-asg, web-asg, worker-asg, others).
    await t.answer(/others, not listed/, KEY.down + KEY.space + KEY.down + KEY.space + KEY.enter);
    await t.answer(/How do new instances of web-asg/, KEY.enter);
    await t.answer(/Salt version web-asg/, KEY.enter);
    await t.answer(/How do new instances of worker-asg/, KEY.enter);
    await t.answer(/Salt version worker-asg/, KEY.enter);
    await t.answer(/Public https URL/, `https://salt.example.com${KEY.enter}`);
    for (const q of [
      /binds/,
      /listens on/,
      /TLS certificate/,
      /Its private key/,
      /reach the master/,
      /Email alerts/,
      /SNS topic/,
    ]) {
      await t.answer(q, KEY.enter);
    }
    expect(await t.exitCode()).toBe(0);
    const lookups = fake.calls.filter((c) => c.action === 'DescribeAutoScalingGroups');
    expect(lookups.map((c) => [c.signingRegion, c.params.NextToken === undefined])).toEqual([
      ['us-east-2', true],
      ['us-east-2', false],
    ]);
    expect(fake.calls.every((c) => !c.mutating)).toBe(true);
    expect(Object.keys((await loadConfig(configPath())).config.groups)).toEqual(['web-asg', 'worker-asg']);
  });
});
