import { describe, expect, it } from 'vitest';
import { awsEnv, runInProcess, useFakeAws, workspace } from './aws-helpers.js';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:salt-autoscale';

describe('status, drift and repair', () => {
  const t = useFakeAws({}, {});
  const cli = (...args: string[]) => runInProcess([...args, '--config', t.ws.configFile], awsEnv(t.fake.url, t.ws.dir));

  it('reports a missing setup and exits non-zero', async () => {
    const r = await cli('status');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('topic         salt-autoscale: missing');
    expect(r.stdout).toContain('subscription  https://salt.example.com:8000/hook/ec2/autoscale: missing');
    expect(r.stdout).toContain('+ topic salt-autoscale: create');
    expect(t.fake.mutatingCalls()).toEqual([]);
  });

  it('exits 1 while the subscription is pending and 0 once it is confirmed and all is in step', async () => {
    expect((await cli('provision')).code).toBe(0);
    const pending = await cli('status');
    expect(pending.code).toBe(1);
    expect(pending.stdout).toContain('subscription  https://salt.example.com:8000/hook/ec2/autoscale: pending');
    expect(pending.stdout).toContain('--resend-confirmation');

    expect(t.fake.confirmSubscriptions()).toBe(1);
    const ok = await cli('status');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`topic         ${TOPIC}  SignatureVersion 2, managed by salt-autoscale`);
    expect(ok.stdout).toContain('group         web-asg     launch, terminate, launch_error, terminate_error');
    expect(ok.stdout).toContain('In step: everything matches the config and the subscription is confirmed.');
    expect(
      t.fake
        .mutatingCalls()
        .filter(
          (c) =>
            !['CreateTopic', 'SetTopicAttributes', 'CreateQueue', 'Subscribe', 'PutNotificationConfiguration'].includes(
              c.action,
            ),
        ),
    ).toEqual([]);
  });

  it('a subscription unsubscribed through its UnsubscribeURL ("Deleted") is missing: status fails, provision subscribes again, teardown still works', async () => {
    const endpoint = 'https://salt.example.com:8000/hook/ec2/autoscale';
    expect((await cli('provision')).code).toBe(0);
    t.fake.confirmSubscriptions();
    expect(t.fake.unsubscribeViaUrl(endpoint)).toBe(1);

    const status = await cli('status');
    expect(status.code).toBe(1);
    expect(status.stdout).toContain(`subscription  ${endpoint}: missing`);

    const again = await cli('provision');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/\+ subscription\s+https:\/\/salt\.example\.com:8000\/hook\/ec2\/autoscale/);
    expect(t.fake.mutatingCalls().filter((c) => c.action === 'Subscribe')).toHaveLength(2);
    t.fake.confirmSubscriptions();
    expect((await cli('status')).code).toBe(0);

    expect(t.fake.unsubscribeViaUrl(endpoint)).toBe(1);
    const down = await cli('teardown', '--yes');
    expect(down.code, down.stderr).toBe(0);
    expect(t.fake.calls.filter((c) => c.action === 'Unsubscribe')).toEqual([]);
    expect(t.fake.state.topics.size).toBe(0);
  });

  it('detects a notification type removed by hand and a SignatureVersion reset; provision repairs exactly those', async () => {
    expect((await cli('provision')).code).toBe(0);
    t.fake.confirmSubscriptions();
    t.fake.state.groups.get('worker-asg')!.notifications.get(TOPIC)!.delete('autoscaling:EC2_INSTANCE_TERMINATE_ERROR');
    t.fake.state.topics.get(TOPIC)!.attributes.SignatureVersion = '1';

    const drift = await cli('status', '--json');
    expect(drift.code).toBe(1);
    const report = JSON.parse(drift.stdout);
    expect(report.in_step).toBe(false);
    expect(report.topic).toMatchObject({ arn: TOPIC, signature_version: '1', managed: true });
    expect(report.subscription.state).toBe('confirmed');
    expect(report.groups.find((g: { name: string }) => g.name === 'worker-asg').notification_types).toEqual([
      'autoscaling:EC2_INSTANCE_LAUNCH',
      'autoscaling:EC2_INSTANCE_TERMINATE',
      'autoscaling:EC2_INSTANCE_LAUNCH_ERROR',
    ]);
    expect(report.drift).toEqual([
      expect.objectContaining({
        change: 'update',
        resource: 'topic',
        detail: 'SignatureVersion 1 -> 2',
        call: 'SetTopicAttributes',
      }),
      expect.objectContaining({
        change: 'update',
        resource: 'notifications',
        name: 'worker-asg',
        detail: 'add terminate_error',
        call: 'PutNotificationConfiguration',
      }),
    ]);

    t.fake.calls.length = 0;
    const repair = await cli('provision');
    expect(repair.code).toBe(0);
    expect(repair.stdout).toContain('~ notifications worker-asg: add terminate_error');
    expect(
      t.fake
        .mutatingCalls()
        .map((c) => `${c.action} ${c.params.AutoScalingGroupName ?? c.params.AttributeName}`)
        .sort(),
    ).toEqual(['PutNotificationConfiguration worker-asg', 'SetTopicAttributes SignatureVersion']);
    expect((await cli('status')).code).toBe(0);
  });

  it('a configured group that does not exist is named, with what to check, not "run provision"', async () => {
    await t.ws.cleanup();
    t.ws = await workspace({ groups: ['web-asg', 'no-such-asg'] });
    const r = await cli('status');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('no Auto Scaling group named no-such-asg in us-east-1: check the names under groups:');
    expect(r.stdout).not.toMatch(/no-such-asg.*run `salt-autoscale provision/);
  });

  it('flags a config whose topic_arn is not the topic that exists', async () => {
    expect((await cli('provision')).code).toBe(0);
    t.fake.confirmSubscriptions();
    await t.ws.cleanup();
    t.ws = await workspace({ topicArn: 'arn:aws:sns:us-east-1:123456789012:old-topic' });
    const r = await cli('status');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `sns.topic_arn in ${t.ws.configFile} is arn:aws:sns:us-east-1:123456789012:old-topic but the topic is ${TOPIC}`,
    );
  });
});

describe('a group removed from the config', () => {
  // Small pages: the unfiltered DescribeNotificationConfigurations must be read to the end.
  const t = useFakeAws({ groups: ['web-asg', 'worker-asg', 'unrelated-asg'], notificationPageSize: 3 }, {});
  const cli = (...args: string[]) => runInProcess([...args, '--config', t.ws.configFile], awsEnv(t.fake.url, t.ws.dir));
  const OTHER = 'arn:aws:sns:us-east-1:123456789012:someone-elses';

  const provisionBothThenDropWorker = async () => {
    t.fake.state.groups.get('unrelated-asg')!.notifications.set(OTHER, new Set(['autoscaling:EC2_INSTANCE_LAUNCH']));
    expect((await cli('provision')).code).toBe(0);
    t.fake.confirmSubscriptions();
    await t.ws.cleanup();
    t.ws = await workspace({ groups: ['web-asg'] });
  };

  it('is drift for status and a planned removal for provision, which removes exactly it', async () => {
    await provisionBothThenDropWorker();
    const status = await cli('status');
    expect(status.code).toBe(1);
    expect(status.stdout).toContain(
      '- notifications worker-asg: not in the config: remove launch, terminate, launch_error, terminate_error',
    );
    const json = JSON.parse((await cli('status', '--json')).stdout);
    expect(json.in_step).toBe(false);
    expect(json.drift).toEqual([
      expect.objectContaining({
        change: 'delete',
        resource: 'notifications',
        name: 'worker-asg',
        call: 'DeleteNotificationConfiguration',
      }),
    ]);

    t.fake.calls.length = 0;
    const repair = await cli('provision');
    expect(repair.code).toBe(0);
    expect(t.fake.mutatingCalls().map((c) => `${c.action} ${c.params.AutoScalingGroupName}`)).toEqual([
      'DeleteNotificationConfiguration worker-asg',
    ]);
    expect(t.fake.state.groups.get('worker-asg')!.notifications.size).toBe(0);
    expect(t.fake.state.groups.get('web-asg')!.notifications.get(TOPIC)!.size).toBe(4);
    expect(t.fake.state.groups.get('unrelated-asg')!.notifications.get(OTHER)!.size).toBe(1);
    expect((await cli('status')).code).toBe(0);
  });

  it('teardown removes its configuration before deleting the topic, so no group points at a deleted topic', async () => {
    await provisionBothThenDropWorker();
    const down = await cli('teardown', '--yes');
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toContain('- notifications worker-asg: not in the config: remove launch');
    expect(t.fake.state.topics.size).toBe(0);
    for (const g of t.fake.state.groups.values()) expect(g.notifications.has(TOPIC)).toBe(false);
    expect(
      t.fake
        .mutatingCalls()
        .map((c) => c.action)
        .slice(-2),
    ).toEqual(['DeleteTopic', 'DeleteQueue']);
  });

  it('on a topic salt-autoscale does not manage, another group is shown and left alone', async () => {
    t.fake.state.topics.set(TOPIC, { arn: TOPIC, name: 'salt-autoscale', attributes: {}, tags: new Map() });
    t.fake.state.groups.get('unrelated-asg')!.notifications.set(TOPIC, new Set(['autoscaling:EC2_INSTANCE_LAUNCH']));
    const r = await cli('provision', '--dry-run');
    expect(r.code).toBe(1); // changes pending (the subscription, SignatureVersion), none for unrelated-asg
    expect(r.stdout).toContain(
      '= notifications unrelated-asg: not in the config: launch, left alone (the topic is not managed by salt-autoscale)',
    );
    expect((await cli('teardown', '--yes', '--keep-topic')).code).toBe(0);
    expect(t.fake.state.groups.get('unrelated-asg')!.notifications.get(TOPIC)!.size).toBe(1);
  });
});
