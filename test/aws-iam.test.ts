import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { masterPolicy, type PolicyDocument, toolPolicy } from '../src/aws/iam.js';
import { parseConfigText } from '../src/config/load.js';
import { awsEnv, configText, ROOT, runInProcess, useFakeAws } from './aws-helpers.js';
import type { FakeAws, FakeCall } from './fakes/aws.js';

const glob = (pattern: string) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );

/** Whether an Allow statement of `policy` covers `action` on `resource` (no Deny, no conditions here). */
function allows(policy: PolicyDocument, action: string, resource: string): boolean {
  return policy.Statement.some((s) => {
    const resources = Array.isArray(s.Resource) ? s.Resource : [s.Resource];
    return s.Action.includes(action) && resources.some((r) => glob(r).test(resource));
  });
}

/** The resource ARN IAM evaluates for a call the fake recorded. */
function resourceOf(call: FakeCall, fake: FakeAws): string {
  const p = call.params;
  if (call.service === 'sns') {
    if (['ListTopics', 'Unsubscribe', 'GetSubscriptionAttributes', 'SetSubscriptionAttributes'].includes(call.action))
      return '*';
    if (call.action === 'CreateTopic') return `arn:aws:sns:us-east-1:123456789012:${p.Name}`;
    return p.TopicArn ?? p.ResourceArn;
  }
  if (call.service === 'sqs') {
    const name =
      call.action === 'CreateQueue' || call.action === 'GetQueueUrl' ? p.QueueName : p.QueueUrl.split('/').at(-1);
    return `arn:aws:sqs:us-east-1:123456789012:${name}`;
  }
  if (call.service === 'iam') return `arn:aws:iam::123456789012:role/${p.RoleName}`;
  if (call.action.startsWith('Describe')) return '*';
  return fake.state.groups.get(p.AutoScalingGroupName)!.arn;
}

describe('iam-policy', () => {
  const t = useFakeAws({}, { topicArn: null });
  const cli = (...args: string[]) => runInProcess([...args, '--config', t.ws.configFile], awsEnv(t.fake.url, t.ws.dir));

  it('covers every call that provision, status and teardown make, on the resources they touch', async () => {
    const policy = toolPolicy(parseConfigText(configText(), 'test.yaml').config);
    expect((await cli('provision')).code).toBe(0);
    t.fake.state.topics.get('arn:aws:sns:us-east-1:123456789012:salt-autoscale')!.attributes.SignatureVersion = '1';
    expect((await cli('provision', '--resend-confirmation')).code).toBe(0);
    t.fake.confirmSubscriptions();
    expect((await cli('status')).code).toBe(0);
    expect((await cli('teardown', '--yes')).code).toBe(0);

    const called = t.fake.actionsCalled();
    expect(called).toEqual(
      expect.arrayContaining([
        'autoscaling:DeleteNotificationConfiguration',
        'autoscaling:PutNotificationConfiguration',
        'sns:CreateTopic',
        'sns:DeleteTopic',
        'sns:SetTopicAttributes',
        'sns:Subscribe',
        'sns:Unsubscribe',
      ]),
    );
    const uncovered = t.fake.calls.filter((c) => !allows(policy, `${c.service}:${c.action}`, resourceOf(c, t.fake)));
    expect(uncovered.map((c) => `${c.service}:${c.action} on ${resourceOf(c, t.fake)}`)).toEqual([]);
  });

  it("lists every IAM action the client wrapper can send, and CreateTopic's tagging", async () => {
    const source = await readFile(join(ROOT, 'src/aws/clients.ts'), 'utf8');
    const sent = [...source.matchAll(/call\('([a-z]+:[A-Za-z]+)'/g)].map((m) => m[1]);
    expect(sent.length).toBeGreaterThanOrEqual(13);
    const hooks = configText({ lifecycle: { 'web-asg': '{launch: {}}' } });
    const granted = toolPolicy(parseConfigText(hooks, 'test.yaml').config).Statement.flatMap((s) => s.Action);
    expect(sent.filter((a) => !granted.includes(a))).toEqual([]);
    expect(granted).toContain('sns:TagResource');
    // Nothing beyond what is sent, apart from the tag-on-create permissions and passing the hooks' role.
    expect(granted.filter((a) => !sent.includes(a))).toEqual([
      'sns:TagResource',
      'sqs:TagQueue',
      'iam:TagRole',
      'iam:PassRole',
    ]);
    // Without hooks: no IAM and no lifecycle hook permission at all.
    const plain = toolPolicy(parseConfigText(configText(), 'test.yaml').config).Statement.flatMap((s) => s.Action);
    expect(plain.filter((a) => a.startsWith('iam:') || /Lifecycle/.test(a))).toEqual([]);
  });

  it('scopes the topic statement to the topic and the group writes to the configured groups', () => {
    const config = parseConfigText(
      configText({ topicArn: 'arn:aws:sns:us-east-1:111122223333:salt-autoscale' }),
      'test.yaml',
    ).config;
    const policy = toolPolicy(config);
    expect(allows(policy, 'sns:DeleteTopic', 'arn:aws:sns:us-east-1:111122223333:salt-autoscale')).toBe(true);
    expect(allows(policy, 'sns:DeleteTopic', 'arn:aws:sns:us-east-1:111122223333:other-topic')).toBe(false);
    expect(
      allows(
        policy,
        'autoscaling:PutNotificationConfiguration',
        'arn:aws:autoscaling:us-east-1:111122223333:autoScalingGroup:0f1e:autoScalingGroupName/web-asg',
      ),
    ).toBe(true);
    expect(
      allows(
        policy,
        'autoscaling:PutNotificationConfiguration',
        'arn:aws:autoscaling:us-east-1:111122223333:autoScalingGroup:0f1e:autoScalingGroupName/db-asg',
      ),
    ).toBe(false);
  });

  it("gives the master only what salt-cloud's create with an instance_id calls, for salt-cloud groups", () => {
    const text = configText()
      .replace(
        '  web-asg:\n    bootstrap: preauth\n    salt_version: "3007.1"',
        '  web-asg:\n    bootstrap: salt-cloud\n    ssh_username: ec2-user',
      )
      .replace(
        '  name: ec2-autoscale\n',
        '  name: ec2-autoscale\n  keyname: salt\n  private_key: /etc/salt/salt.pem\n',
      );
    const master = masterPolicy(parseConfigText(text, 'test.yaml').config)!;
    expect(master.Statement.flatMap((s) => s.Action).sort()).toEqual([
      'ec2:CreateTags',
      'ec2:DescribeInstances',
      'ec2:DescribeTags',
    ]);
    const tagging = master.Statement.find((s) => s.Action.includes('ec2:CreateTags'))!;
    expect(tagging.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/aws:autoscaling:groupName': ['web-asg'] } });
    expect(masterPolicy(parseConfigText(configText(), 'test.yaml').config)).toBeUndefined();
  });

  it("with lifecycle hooks: covers provision, status and teardown, passes only the hooks' role, and gives the master the completions", async () => {
    await t.ws.cleanup();
    const text = configText({ topicArn: null, lifecycle: { 'web-asg': '{launch: {}, terminate: {}}' } });
    const { workspace } = await import('./aws-helpers.js');
    t.ws = await workspace(text);
    const policy = toolPolicy(parseConfigText(text, 'test.yaml').config);
    expect((await cli('provision')).code).toBe(0);
    // The second run subscribes, now that the config names the topic.
    expect((await cli('provision')).code).toBe(0);
    t.fake.confirmSubscriptions();
    expect((await cli('status')).code).toBe(0);
    expect((await cli('teardown', '--yes')).code).toBe(0);
    expect(t.fake.actionsCalled()).toEqual(
      expect.arrayContaining([
        'autoscaling:PutLifecycleHook',
        'autoscaling:DeleteLifecycleHook',
        'iam:CreateRole',
        'iam:DeleteRole',
      ]),
    );
    const uncovered = t.fake.calls.filter((c) => !allows(policy, `${c.service}:${c.action}`, resourceOf(c, t.fake)));
    expect(uncovered.map((c) => `${c.service}:${c.action} on ${resourceOf(c, t.fake)}`)).toEqual([]);
    const pass = policy.Statement.find((s) => s.Action.includes('iam:PassRole'))!;
    expect(pass.Resource).toBe('arn:aws:iam::*:role/salt-autoscale-lifecycle');
    expect(pass.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'autoscaling.amazonaws.com' } });
    const master = masterPolicy(parseConfigText(text, 'test.yaml').config)!;
    expect(master.Statement).toEqual([
      {
        Sid: 'CompleteLifecycleActions',
        Effect: 'Allow',
        Action: ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'],
        Resource: ['arn:aws:autoscaling:us-east-1:*:autoScalingGroup:*:autoScalingGroupName/web-asg'],
      },
    ]);
    // A role the config names: no IAM statement but passing that one role.
    const given = configText({
      lifecycle: { 'web-asg': '{launch: {}}' },
      lifecycleRoleArn: 'arn:aws:iam::123456789012:role/mine',
    });
    const iamActions = toolPolicy(parseConfigText(given, 'test.yaml').config)
      .Statement.filter((s) => s.Action.some((a) => a.startsWith('iam:')))
      .map((s) => [s.Action, s.Resource]);
    expect(iamActions).toEqual([[['iam:PassRole'], 'arn:aws:iam::123456789012:role/mine']]);
  });

  it('prints the policies from the CLI; --only tool is plain JSON', async () => {
    const both = await cli('iam-policy');
    expect(both.code).toBe(0);
    expect(both.stdout).toContain('# For whoever runs salt-autoscale provision');
    expect(both.stdout).toContain('none needed: no group uses bootstrap: salt-cloud');
    const tool = await cli('iam-policy', '--only', 'tool');
    expect(tool.code).toBe(0);
    expect(JSON.parse(tool.stdout).Statement[1].Resource).toBe('arn:aws:sns:us-east-1:*:salt-autoscale');
    const bad = await cli('iam-policy', '--only', 'nobody');
    expect(bad.code).toBe(2);
    expect(t.fake.calls).toEqual([]);
  });
});
