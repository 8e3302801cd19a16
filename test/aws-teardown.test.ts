import { beforeEach, describe, expect, it } from 'vitest';
import { awsEnv, runInProcess, useFakeAws } from './aws-helpers.js';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:salt-autoscale';
const OTHER_TOPIC = 'arn:aws:sns:us-east-1:123456789012:someone-elses';

describe('teardown', () => {
  const t = useFakeAws({}, {});
  const cli = (...args: string[]) => runInProcess([...args, '--config', t.ws.configFile], awsEnv(t.fake.url, t.ws.dir));

  beforeEach(() => {
    // A notification to another topic that teardown must leave alone.
    t.fake.state.groups.get('web-asg')!.notifications.set(OTHER_TOPIC, new Set(['autoscaling:EC2_INSTANCE_LAUNCH']));
  });

  it('--yes removes the notifications, the subscription and the managed topic, and nothing else', async () => {
    expect((await cli('provision')).code).toBe(0);
    t.fake.confirmSubscriptions();
    t.fake.calls.length = 0;
    const r = await cli('teardown', '--yes');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('- notifications web-asg: remove launch, terminate, launch_error, terminate_error');
    expect(r.stdout).toContain('- subscription https://salt.example.com:8000/hook/ec2/autoscale: unsubscribe');
    expect(r.stdout).toContain('- topic salt-autoscale: delete (tagged managed-by=salt-autoscale)');
    expect(r.stdout).toContain('Removed 5 resource(s).');
    expect(t.fake.state.topics.size).toBe(0);
    expect(t.fake.state.subscriptions.size).toBe(0);
    expect([...t.fake.state.groups.get('web-asg')!.notifications.keys()]).toEqual([OTHER_TOPIC]);
    expect(t.fake.state.groups.get('worker-asg')!.notifications.size).toBe(0);
    // The topic goes last, after everything that points at it.
    expect(
      t.fake
        .mutatingCalls()
        .map((c) => c.action)
        .slice(-2),
    ).toEqual(['DeleteTopic', 'DeleteQueue']);
    expect(t.fake.state.queues.size).toBe(0);

    t.fake.calls.length = 0;
    const again = await cli('teardown', '--yes');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Nothing to remove.');
    expect(t.fake.mutatingCalls()).toEqual([]);
  });

  it('refuses without a terminal and without --yes, and --dry-run changes nothing', async () => {
    expect((await cli('provision')).code).toBe(0);
    // status shows the group's notifications to the other topic, which nobody here manages.
    expect((await cli('status')).stdout).toContain(`also notifies ${OTHER_TOPIC} (not managed here)`);
    t.fake.calls.length = 0;
    const refused = await cli('teardown');
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('pass --yes to confirm. Nothing was changed.');
    const dry = await cli('teardown', '--dry-run');
    expect(dry.code, 'a dry run with something to remove exits 1').toBe(1);
    expect(dry.stdout).toContain('Dry run: nothing was changed.');
    expect(t.fake.mutatingCalls()).toEqual([]);
    expect(t.fake.state.topics.size).toBe(1);
  });

  it('refuses to delete a topic it does not manage; --keep-topic removes the rest', async () => {
    // The topic exists before provision ran, without the managed-by tag: provision uses it as is.
    t.fake.state.topics.set(TOPIC, {
      arn: TOPIC,
      name: 'salt-autoscale',
      attributes: {},
      tags: new Map([['team', 'ops']]),
    });
    const prov = await cli('provision');
    expect(prov.code).toBe(0);
    expect(prov.stdout).toContain('not tagged managed-by=salt-autoscale: used as is, teardown will keep it');
    expect(t.fake.state.topics.get(TOPIC)!.tags.has('managed-by')).toBe(false);
    t.fake.confirmSubscriptions();
    t.fake.calls.length = 0;

    const refused = await cli('teardown', '--yes');
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(`refusing to tear down: topic ${TOPIC} is not tagged managed-by=salt-autoscale`);
    expect(refused.stderr).toContain('--keep-topic');
    expect(t.fake.mutatingCalls()).toEqual([]);

    const kept = await cli('teardown', '--yes', '--keep-topic');
    expect(kept.code).toBe(0);
    expect(t.fake.state.topics.has(TOPIC)).toBe(true);
    expect(t.fake.state.subscriptions.size).toBe(0);
    expect(t.fake.state.groups.get('worker-asg')!.notifications.size).toBe(0);
  });

  it('says plainly that a pending subscription cannot be removed by the API when the topic is kept', async () => {
    expect((await cli('provision')).code).toBe(0);
    const r = await cli('teardown', '--yes', '--keep-topic');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      '! subscription https://salt.example.com:8000/hook/ec2/autoscale: pending confirmation: SNS does not let the API remove a pending subscription',
    );
    expect(r.stdout).toContain('SNS deletes it after 48 hours');
    expect(t.fake.mutatingCalls().filter((c) => c.action === 'Unsubscribe')).toEqual([]);
    // Without --keep-topic it goes with the topic.
    const all = await cli('teardown', '--yes');
    expect(all.code).toBe(0);
    expect(all.stdout).toContain('pending confirmation: goes with the topic');
    expect(t.fake.state.subscriptions.size).toBe(0);
    expect(t.fake.state.topics.size).toBe(0);
  });
});
