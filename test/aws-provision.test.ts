import { describe, expect, it } from 'vitest';
import { awsEnv, runInProcess, useFakeAws, workspace } from './aws-helpers.js';

const ENDPOINT = 'https://salt.example.com:8000/hook/ec2/autoscale';
const ALL_TYPES = [
  'autoscaling:EC2_INSTANCE_LAUNCH',
  'autoscaling:EC2_INSTANCE_LAUNCH_ERROR',
  'autoscaling:EC2_INSTANCE_TERMINATE',
  'autoscaling:EC2_INSTANCE_TERMINATE_ERROR',
];

describe('provision against the t.fake AWS', () => {
  const t = useFakeAws({ groups: ['web-asg', 'worker-asg', 'unrelated-asg'], subscriptionPageSize: 2 }, {});
  const cli = (...args: string[]) =>
    runInProcess(['provision', '--config', t.ws.configFile, ...args], awsEnv(t.fake.url, t.ws.dir));

  it("first run creates the topic, the subscription and both groups' notifications for a topic the reactor trusts", async () => {
    const before = await t.ws.readConfig();
    const r = await cli();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const arn = 'arn:aws:sns:us-east-1:123456789012:salt-autoscale';
    const topic = t.fake.state.topics.get(arn)!;
    expect(topic.tags.get('managed-by')).toBe('salt-autoscale');
    expect(topic.attributes.SignatureVersion).toBe('2');
    const subs = [...t.fake.state.subscriptions.values()];
    expect(subs).toHaveLength(1);
    expect(subs[0]).toMatchObject({
      topicArn: arn,
      protocol: 'https',
      endpoint: ENDPOINT,
      confirmed: false,
      confirmationRequests: 1,
    });
    for (const g of ['web-asg', 'worker-asg'])
      expect([...t.fake.state.groups.get(g)!.notifications.get(arn)!].sort()).toEqual(ALL_TYPES);
    expect(t.fake.state.groups.get('unrelated-asg')!.notifications.size).toBe(0);
    // Subscribe asked for the real ARN.
    expect(t.fake.calls.find((c) => c.action === 'Subscribe')!.params.ReturnSubscriptionArn).toBe('true');

    expect(r.stdout).toMatch(/\+ topic salt-autoscale: create, tagged managed-by=salt-autoscale, SignatureVersion 2/);
    expect(r.stdout).toContain(`+ subscription ${ENDPOINT}`);
    expect(r.stdout).toContain('+ notifications web-asg: launch, terminate, launch_error, terminate_error');
    expect(r.stdout).toContain('Applied 6 change(s).');
    expect(r.stdout).toMatch(/pending confirmation/);
    expect(r.stdout).toContain('--resend-confirmation');
    // The config named the topic already: nothing to write back, nothing to re-render.
    expect(r.stdout).not.toMatch(/Re-render the Salt side/);
    expect(await t.ws.readConfig()).toBe(before);
  });

  it('without sns.topic_arn: creates the topic and notifications, writes the ARN back, and subscribes only on the run after re-rendering', async () => {
    await t.ws.cleanup();
    t.ws = await workspace({ topicArn: null });
    const first = await cli();
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const arn = 'arn:aws:sns:us-east-1:123456789012:salt-autoscale';
    expect(t.fake.state.topics.has(arn)).toBe(true);
    for (const g of ['web-asg', 'worker-asg'])
      expect([...t.fake.state.groups.get(g)!.notifications.get(arn)!].sort()).toEqual(ALL_TYPES);
    // SNS would send its confirmation request at once, to a reactor that does not trust the topic yet: wait.
    expect(t.fake.calls.filter((c) => c.action === 'Subscribe')).toEqual([]);
    expect(first.stdout).toContain(
      `! subscription ${ENDPOINT}: not yet: the rendered reactor does not trust this topic`,
    );
    expect(first.stdout).toContain('Applied 5 change(s).');
    expect(first.stdout).toMatch(
      /Wrote sns\.topic_arn: arn:aws:sns:us-east-1:123456789012:salt-autoscale .*Re-render the Salt side/,
    );
    // The config is not ./salt-autoscale.yaml: every command the hints name carries --config, so it can be run as printed.
    expect(first.stdout).toContain(`then run \`salt-autoscale provision --config ${t.ws.configFile}\` again`);
    expect(first.stdout).toContain(`(salt-autoscale render --config ${t.ws.configFile} --out /etc/salt)`);

    const config = await t.ws.readConfig();
    expect(config).toContain(
      `  topic_name: salt-autoscale\n  topic_arn: ${arn}\n  extra_topic_arns: []           # further topics\n`,
    );
    expect(config).toContain('  region: us-east-1   # the region of the fake\n');
    expect(config.startsWith('# salt-autoscale.yaml (test)\n')).toBe(true);

    const second = await cli();
    expect(second.code).toBe(0);
    expect(t.fake.mutatingCalls().filter((c) => c.action === 'Subscribe')).toHaveLength(1);
    expect(second.stdout).toContain('1 to create, 0 to update, 0 to delete, 4 unchanged');
  });

  it('a second run makes no mutating call and says everything is unchanged', async () => {
    expect((await cli()).code).toBe(0);
    const configAfterFirst = await t.ws.readConfig();
    t.fake.calls.length = 0;
    const r = await cli();
    expect(r.code).toBe(0);
    expect(t.fake.mutatingCalls()).toEqual([]);
    expect(r.stdout).toContain('0 to create, 0 to update, 0 to delete, 5 unchanged');
    expect(r.stdout).toContain('Everything is in step: nothing to change.');
    expect(r.stdout).not.toMatch(/^[+~-] /m);
    expect(await t.ws.readConfig()).toBe(configAfterFirst);
  });

  it('--dry-run prints the plan and makes no mutating call', async () => {
    const before = await t.ws.readConfig();
    const r = await cli('--dry-run');
    expect(r.code, 'a dry run with changes pending exits 1').toBe(1);
    expect(t.fake.calls.length).toBeGreaterThan(0);
    expect(t.fake.mutatingCalls()).toEqual([]);
    expect(r.stdout).toContain('6 to create');
    expect(r.stdout).toContain('Dry run: nothing was changed.');
    expect(t.fake.state.topics.size).toBe(0);
    expect(await t.ws.readConfig()).toBe(before);
  });

  it('--json prints one JSON document for scripts', async () => {
    const r = await cli('--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({
      command: 'provision',
      region: 'us-east-1',
      topic_arn: 'arn:aws:sns:us-east-1:123456789012:salt-autoscale',
      subscription: 'pending',
      applied: 6,
      config_updated: false,
    });
    expect(out.plan.map((i: { change: string; call?: string }) => `${i.change}:${i.call}`)).toEqual([
      'create:CreateTopic',
      'create:SetTopicPolicy',
      'create:CreateQueue',
      'create:Subscribe',
      'create:PutNotificationConfiguration',
      'create:PutNotificationConfiguration',
    ]);
  });

  it('finds the subscription across ListSubscriptionsByTopic pages and re-sends the confirmation on request', async () => {
    expect((await cli()).code).toBe(0);
    const arn = 'arn:aws:sns:us-east-1:123456789012:salt-autoscale';
    // Five other subscriptions first: with a page size of 2, ours is on the third page.
    const ours = [...t.fake.state.subscriptions.values()][0];
    t.fake.state.subscriptions.delete(ours.arn);
    for (let i = 0; i < 5; i++) {
      const other = `${arn}:other-${i}`;
      t.fake.state.subscriptions.set(other, {
        arn: other,
        topicArn: arn,
        protocol: 'email',
        endpoint: `ops${i}@example.com`,
        confirmed: true,
        confirmationRequests: 0,
        attributes: {},
      });
    }
    t.fake.state.subscriptions.set(ours.arn, ours);
    t.fake.calls.length = 0;

    const again = await cli();
    expect(again.code).toBe(0);
    expect(t.fake.mutatingCalls()).toEqual([]);
    expect(t.fake.calls.filter((c) => c.action === 'ListSubscriptionsByTopic').length).toBe(3);
    expect(again.stdout).toContain(`= subscription ${ENDPOINT}: pending confirmation`);

    const resend = await cli('--resend-confirmation');
    expect(resend.code).toBe(0);
    expect(t.fake.mutatingCalls().map((c) => c.action)).toEqual(['Subscribe']);
    expect(ours.confirmationRequests).toBe(2);
    expect(t.fake.state.subscriptions.size).toBe(6);
  });

  it('refuses a group that does not exist, naming it and the region, before changing anything', async () => {
    await t.ws.cleanup();
    t.ws = await workspace({ groups: ['web-asg', 'no-such-asg'] });
    const r = await cli();
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('no Auto Scaling group named no-such-asg in us-east-1');
    expect(r.stderr).toContain(t.ws.configFile);
    expect(t.fake.mutatingCalls()).toEqual([]);
  });

  it('subscribes an http:// endpoint only when allow_http is set', async () => {
    await t.ws.cleanup();
    t.ws = await workspace({ publicUrl: 'http://salt.example.com:8000' });
    const refused = await cli();
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/salt_api\.public_url.*http:\/\/.*allow_http/s);
    expect(t.fake.calls).toEqual([]);

    await t.ws.cleanup();
    t.ws = await workspace({ publicUrl: 'http://salt.example.com:8000', allowHttp: true });
    const allowed = await cli();
    expect(allowed.code).toBe(0);
    expect([...t.fake.state.subscriptions.values()][0]).toMatchObject({
      protocol: 'http',
      endpoint: 'http://salt.example.com:8000/hook/ec2/autoscale',
    });
  });
});
