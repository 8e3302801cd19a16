// Issue 11, item 1: SNS retries over the longest window it allows for HTTP/S, then sends what it could not
// deliver to a dead-letter queue that provision creates; status counts what waits there; teardown removes it.
import { describe, expect, it } from 'vitest';
import { awsEnv, runInProcess, useFakeAws } from './aws-helpers.js';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:salt-autoscale';
const QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:salt-autoscale-dlq';
const ENDPOINT = 'https://salt.example.com:8000/hook/ec2/autoscale';

describe('the subscription retry window and its dead-letter queue', () => {
  const t = useFakeAws();
  const cli = (...args: string[]) => runInProcess([...args, '--config', t.ws.configFile], awsEnv(t.fake.url, t.ws.dir));
  const queue = () => t.fake.state.queues.get('salt-autoscale-dlq')!;
  const subscription = () => [...t.fake.state.subscriptions.values()].find((s) => s.endpoint === ENDPOINT)!;
  const launch = JSON.stringify({ Event: 'autoscaling:EC2_INSTANCE_LAUNCH', EC2InstanceId: 'i-0123456789abcdef0' });

  it('a fresh provision creates the queue (tagged, SSE-SQS, 14 days, only this topic may send) and subscribes with both policies', async () => {
    const r = await cli('provision');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      "+ queue salt-autoscale-dlq: create the dead-letter queue, tagged managed-by=salt-autoscale, SSE-SQS, 14 days' retention",
    );
    const q = queue();
    expect(q.arn).toBe(QUEUE_ARN);
    expect(q.tags.get('managed-by')).toBe('salt-autoscale');
    expect(q.attributes).toMatchObject({ MessageRetentionPeriod: '1209600', SqsManagedSseEnabled: 'true' });
    expect(JSON.parse(q.attributes.Policy).Statement).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'sns.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: QUEUE_ARN,
        Condition: { ArnEquals: { 'aws:SourceArn': TOPIC } },
      }),
    ]);
    const sub = subscription();
    expect(JSON.parse(sub.attributes.RedrivePolicy)).toEqual({ deadLetterTargetArn: QUEUE_ARN });
    const retry = JSON.parse(sub.attributes.DeliveryPolicy).healthyRetryPolicy;
    // SNS's limits for HTTP/S: at most 100 retries and 3600 s in all; this policy uses both to the full.
    expect(retry.numRetries).toBe(100);
    expect(retry.numMinDelayRetries * retry.minDelayTarget).toBe(3600);

    t.fake.confirmSubscriptions();
    t.fake.calls.length = 0;
    expect((await cli('provision')).code).toBe(0);
    expect(t.fake.mutatingCalls()).toEqual([]);
    expect((await cli('status')).code).toBe(0);
  });

  it('a notification SNS gave up on waits in the queue: status is not in step (exit 1) and says what to do', async () => {
    expect((await cli('provision')).code).toBe(0);
    t.fake.confirmSubscriptions();
    expect((await cli('status')).code).toBe(0);

    expect(t.fake.deliveryFails(TOPIC, launch)).toBe(1);
    const r = await cli('status');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('queue         salt-autoscale-dlq: 1 message(s) waiting');
    expect(r.stdout).toContain('1 notification(s) wait in the dead-letter queue salt-autoscale-dlq');
    const json = JSON.parse((await cli('status', '--json')).stdout);
    expect(json.in_step).toBe(false);
    expect(json.dead_letter_queue).toMatchObject({ name: 'salt-autoscale-dlq', managed: true, messages: 1 });
    expect(JSON.parse(JSON.parse(queue().messages[0].body).Message)).toMatchObject({
      EC2InstanceId: 'i-0123456789abcdef0',
    });
    // status only looks: it neither receives nor deletes.
    expect(t.fake.mutatingCalls().filter((c) => c.service === 'sqs' && c.action !== 'CreateQueue')).toEqual([]);

    const down = await cli('teardown', '--yes');
    expect(down.code).toBe(0);
    expect(down.stdout).toContain(
      '- queue salt-autoscale-dlq: delete (tagged managed-by=salt-autoscale) (1 undelivered notification(s) in it are lost)',
    );
    expect(t.fake.state.queues.size).toBe(0);
  });

  it("attack: another topic's subscription cannot send its dead letters into this queue", async () => {
    expect((await cli('provision')).code).toBe(0);
    const other = 'arn:aws:sns:us-east-1:123456789012:someone-elses';
    t.fake.state.topics.set(other, { arn: other, name: 'someone-elses', attributes: {}, tags: new Map() });
    t.fake.state.subscriptions.set(`${other}:1`, {
      arn: `${other}:1`,
      topicArn: other,
      protocol: 'https',
      endpoint: 'https://elsewhere.example.com/hook',
      confirmed: true,
      confirmationRequests: 1,
      attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: QUEUE_ARN }) },
    });
    expect(t.fake.deliveryFails(other, launch)).toBe(0);
    expect(queue().messages).toEqual([]);
  });

  it('status reports queue and subscription settings changed by hand as drift, and provision puts back exactly those', async () => {
    expect((await cli('provision')).code).toBe(0);
    t.fake.confirmSubscriptions();
    Object.assign(queue().attributes, { MessageRetentionPeriod: '345600', SqsManagedSseEnabled: 'false' });
    delete queue().attributes.Policy;
    delete subscription().attributes.DeliveryPolicy;
    delete subscription().attributes.RedrivePolicy;

    const drift = await cli('status', '--json');
    expect(drift.code).toBe(1);
    expect(
      JSON.parse(drift.stdout).drift.map((i: { resource: string; state: string }) => `${i.resource}:${i.state}`),
    ).toEqual(['queue:queue_settings', 'subscription:delivery_policy', 'subscription:redrive_policy']);
    t.fake.calls.length = 0;
    const repair = await cli('provision');
    expect(repair.code, repair.stderr).toBe(0);
    expect(repair.stdout).toContain(
      "~ queue salt-autoscale-dlq: retention 345600 s -> 14 days; not encrypted -> SSE-SQS; policy -> only this topic's subscription may send",
    );
    expect(repair.stdout).toContain('DeliveryPolicy is SNS default (3 retries over 60 s) -> 100 retries over 1 hour');
    expect(
      t.fake
        .mutatingCalls()
        .map((c) => `${c.action} ${c.params.AttributeName ?? ''}`.trim())
        .sort(),
    ).toEqual([
      'SetQueueAttributes',
      'SetSubscriptionAttributes DeliveryPolicy',
      'SetSubscriptionAttributes RedrivePolicy',
    ]);
    expect(queue().attributes).toMatchObject({ MessageRetentionPeriod: '1209600', SqsManagedSseEnabled: 'true' });
    expect((await cli('status')).code).toBe(0);
  });
});
