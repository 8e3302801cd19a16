// The fake AWS against its written spec (test/fakes/README.md), on the wire: if the fake drifts from what it
// promises (and so from AWS), the tests built on it would prove nothing.
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awsEnv, ROOT, runInProcess, workspace } from './aws-helpers.js';
import { type FakeAws, startFakeAws } from './fakes/aws.js';

type Service = 'sns' | 'autoscaling' | 'ec2' | 'iam';
const VERSION = { sns: '2010-03-31', autoscaling: '2011-01-01', ec2: '2016-11-15', iam: '2010-05-08' };

interface Answer {
  status: number;
  body: string;
  headers: Headers;
}

let fake: FakeAws;

/** One Query-protocol request, signed in name only (the fake reads the credential scope, not the signature). */
async function query(service: Service | undefined, params: Record<string, string>, init: RequestInit = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (service)
    headers.authorization = `AWS4-HMAC-SHA256 Credential=AKIAFAKE/20260101/eu-west-1/${service}/aws4_request, SignedHeaders=host, Signature=00`;
  const body = new URLSearchParams({ ...(service ? { Version: VERSION[service] } : {}), ...params }).toString();
  const res = await fetch(`${fake.url}/`, { method: 'POST', headers, body, ...init });
  return { status: res.status, body: await res.text(), headers: res.headers } satisfies Answer;
}
const sns = (params: Record<string, string>) => query('sns', params);
const asg = (params: Record<string, string>) => query('autoscaling', params);
const iam = (params: Record<string, string>) => query('iam', params);
const tag = (xml: string, name: string) =>
  [...xml.matchAll(new RegExp(`<${name}>([^<]*)</${name}>`, 'g'))].map((m) => m[1]);
const errorCode = (a: Answer) => tag(a.body, 'Code')[0];

beforeEach(async () => {
  fake = await startFakeAws({ groups: ['web-asg', 'worker-asg'], topicPageSize: 2, subscriptionPageSize: 1 });
});
afterEach(() => fake.close());

describe('wire protocol', () => {
  it('answers success as AWS does: 200, text/xml, a request id, the action-named envelope', async () => {
    const a = await sns({ Action: 'CreateTopic', Name: 't1' });
    expect(a.status).toBe(200);
    expect(a.headers.get('content-type')).toBe('text/xml');
    const id = a.headers.get('x-amzn-requestid')!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.body).toContain(
      '<CreateTopicResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><CreateTopicResult>',
    );
    expect(tag(a.body, 'RequestId')).toEqual([id]);
    const put = await asg({
      Action: 'PutNotificationConfiguration',
      AutoScalingGroupName: 'web-asg',
      TopicARN: 'arn:aws:sns:us-east-1:123456789012:t1',
      'NotificationTypes.member.1': 'autoscaling:EC2_INSTANCE_LAUNCH',
    });
    // An action without output has no …Result element.
    expect(put.body).toMatch(
      /<PutNotificationConfigurationResponse xmlns="http:\/\/autoscaling\.amazonaws\.com\/doc\/2011-01-01\/"><ResponseMetadata>/,
    );
  });

  it('refuses what AWS refuses, in the ErrorResponse shape', async () => {
    const unsigned = await query(undefined, { Action: 'ListTopics', Version: VERSION.sns });
    expect([unsigned.status, errorCode(unsigned)]).toEqual([403, 'MissingAuthenticationToken']);
    expect(unsigned.body).toMatch(/<ErrorResponse xmlns="[^"]+"><Error><Type>Sender<\/Type><Code>/);
    const badVersion = await sns({ Action: 'ListTopics', Version: '2011-01-01' });
    expect([badVersion.status, errorCode(badVersion)]).toEqual([400, 'InvalidAction']);
    const unknown = await asg({ Action: 'LaunchMissiles' });
    expect([unknown.status, errorCode(unknown)]).toEqual([400, 'InvalidAction']);
    const get = await fetch(`${fake.url}/?Action=ListTopics`, { headers: { authorization: 'x' } });
    expect(get.status).toBe(400);
  });

  it('takes the service and region from the credential scope, and records every call', async () => {
    await sns({ Action: 'ListTopics' });
    fake.inject({ kind: 'throttle', times: 1 });
    await asg({ Action: 'DescribeAutoScalingGroups' });
    expect(fake.calls.map((c) => [c.service, c.action, c.status, c.signingRegion, c.mutating])).toEqual([
      ['sns', 'ListTopics', 200, 'eu-west-1', false],
      ['autoscaling', 'DescribeAutoScalingGroups', 400, 'eu-west-1', false],
    ]);
    expect(fake.actionsCalled()).toEqual(['autoscaling:DescribeAutoScalingGroups', 'sns:ListTopics']);
  });
});

describe('SNS actions', () => {
  it('CreateTopic is idempotent by name and refuses different attributes or tags; ListTopics pages', async () => {
    for (const name of ['c', 'a', 'b'])
      await sns({ Action: 'CreateTopic', Name: name, 'Tags.member.1.Key': 'k', 'Tags.member.1.Value': 'v' });
    const again = await sns({ Action: 'CreateTopic', Name: 'a', 'Tags.member.1.Key': 'k', 'Tags.member.1.Value': 'v' });
    expect(tag(again.body, 'TopicArn')).toEqual(['arn:aws:sns:us-east-1:123456789012:a']);
    const otherTags = await sns({
      Action: 'CreateTopic',
      Name: 'a',
      'Tags.member.1.Key': 'k',
      'Tags.member.1.Value': 'w',
    });
    expect([otherTags.status, errorCode(otherTags)]).toEqual([400, 'InvalidParameter']);
    const otherAttrs = await sns({
      Action: 'CreateTopic',
      Name: 'a',
      'Attributes.entry.1.key': 'SignatureVersion',
      'Attributes.entry.1.value': '2',
    });
    expect(errorCode(otherAttrs)).toBe('InvalidParameter');
    expect(errorCode(await sns({ Action: 'CreateTopic', Name: 'bad name' }))).toBe('InvalidParameter');

    const first = await sns({ Action: 'ListTopics' });
    expect(tag(first.body, 'TopicArn').map((a) => a.split(':')[5])).toEqual(['a', 'b']);
    const token = tag(first.body, 'NextToken')[0];
    const second = await sns({ Action: 'ListTopics', NextToken: token });
    expect(tag(second.body, 'TopicArn').map((a) => a.split(':')[5])).toEqual(['c']);
    expect(tag(second.body, 'NextToken')).toEqual([]);
  });

  it('topic attributes and tags: defaults, SignatureVersion 1 or 2, NotFound / ResourceNotFound', async () => {
    const arn = tag((await sns({ Action: 'CreateTopic', Name: 't' })).body, 'TopicArn')[0];
    const attrs = (await sns({ Action: 'GetTopicAttributes', TopicArn: arn })).body;
    expect(tag(attrs, 'key')).toEqual(
      expect.arrayContaining(['TopicArn', 'Owner', 'DisplayName', 'SubscriptionsConfirmed', 'SubscriptionsPending']),
    );
    expect(tag(attrs, 'key')).not.toContain('SignatureVersion');
    const bad = await sns({
      Action: 'SetTopicAttributes',
      TopicArn: arn,
      AttributeName: 'SignatureVersion',
      AttributeValue: '3',
    });
    expect(errorCode(bad)).toBe('InvalidParameter');
    await sns({ Action: 'SetTopicAttributes', TopicArn: arn, AttributeName: 'SignatureVersion', AttributeValue: '2' });
    expect(fake.state.topics.get(arn)!.attributes.SignatureVersion).toBe('2');
    const missing = await sns({ Action: 'GetTopicAttributes', TopicArn: `${arn}-gone` });
    expect([missing.status, errorCode(missing)]).toEqual([404, 'NotFound']);
    await sns({ Action: 'TagResource', ResourceArn: arn, 'Tags.member.1.Key': 'team', 'Tags.member.1.Value': 'ops' });
    expect(tag((await sns({ Action: 'ListTagsForResource', ResourceArn: arn })).body, 'Key')).toEqual(['team']);
    const noTags = await sns({ Action: 'ListTagsForResource', ResourceArn: `${arn}-gone` });
    expect([noTags.status, errorCode(noTags)]).toEqual([404, 'ResourceNotFound']);
  });

  it('subscriptions: pending until confirmed, one per endpoint, re-sent confirmations, Deleted, Unsubscribe rules', async () => {
    const arn = tag((await sns({ Action: 'CreateTopic', Name: 't' })).body, 'TopicArn')[0];
    const sub = { Action: 'Subscribe', TopicArn: arn, Protocol: 'https', Endpoint: 'https://h/hook' };
    expect(tag((await sns(sub)).body, 'SubscriptionArn')).toEqual(['pending confirmation']);
    const real = tag((await sns({ ...sub, ReturnSubscriptionArn: 'true' })).body, 'SubscriptionArn')[0];
    expect(real).toMatch(new RegExp(`^${arn}:[0-9a-f-]{36}$`));
    expect(fake.state.subscriptions.size).toBe(1);
    expect(fake.state.subscriptions.get(real)!.confirmationRequests).toBe(2);
    expect(errorCode(await sns({ ...sub, Endpoint: 'http://h/hook' }))).toBe('InvalidParameter');
    await sns({ ...sub, Endpoint: 'https://h/other' });

    const page1 = await sns({ Action: 'ListSubscriptionsByTopic', TopicArn: arn });
    expect(tag(page1.body, 'SubscriptionArn')).toEqual(['PendingConfirmation']);
    const pendingUnsub = await sns({ Action: 'Unsubscribe', SubscriptionArn: real });
    expect(errorCode(pendingUnsub)).toBe('InvalidParameter');

    expect(fake.confirmSubscriptions('https://h/hook')).toBe(1);
    expect(fake.unsubscribeViaUrl('https://h/hook')).toBe(1);
    const listed: string[] = [];
    let token: string | undefined;
    do {
      const page = await sns({
        Action: 'ListSubscriptionsByTopic',
        TopicArn: arn,
        ...(token ? { NextToken: token } : {}),
      });
      listed.push(...tag(page.body, 'SubscriptionArn'));
      token = tag(page.body, 'NextToken')[0];
    } while (token);
    expect(listed.sort()).toEqual(['Deleted', 'PendingConfirmation']);
    expect(errorCode(await sns({ Action: 'Unsubscribe', SubscriptionArn: 'Deleted' }))).toBe('InvalidParameter');
    const gone = await sns({ Action: 'Unsubscribe', SubscriptionArn: real });
    expect([gone.status, errorCode(gone)]).toEqual([404, 'NotFound']);
  });

  it('DeleteTopic is idempotent, takes the subscriptions along and leaves the groups pointing at it', async () => {
    const arn = tag((await sns({ Action: 'CreateTopic', Name: 't' })).body, 'TopicArn')[0];
    await sns({ Action: 'Subscribe', TopicArn: arn, Protocol: 'https', Endpoint: 'https://h/hook' });
    await asg({
      Action: 'PutNotificationConfiguration',
      AutoScalingGroupName: 'web-asg',
      TopicARN: arn,
      'NotificationTypes.member.1': 'autoscaling:EC2_INSTANCE_LAUNCH',
    });
    expect((await sns({ Action: 'DeleteTopic', TopicArn: arn })).status).toBe(200);
    expect((await sns({ Action: 'DeleteTopic', TopicArn: arn })).status).toBe(200);
    expect(fake.state.subscriptions.size).toBe(0);
    expect(fake.state.groups.get('web-asg')!.notifications.has(arn)).toBe(true);
  });
});

describe('Auto Scaling actions', () => {
  const TOPIC = 'arn:aws:sns:us-east-1:123456789012:t';
  const put = (group: string, ...types: string[]) =>
    asg({
      Action: 'PutNotificationConfiguration',
      AutoScalingGroupName: group,
      TopicARN: TOPIC,
      ...Object.fromEntries(types.map((t, i) => [`NotificationTypes.member.${i + 1}`, `autoscaling:${t}`])),
    });

  it("Describe calls page, filter by name and enforce AWS's limits", async () => {
    for (let i = 0; i < 3; i++) fake.addGroup(`g${i}`);
    const page = await asg({ Action: 'DescribeAutoScalingGroups', MaxRecords: '2' });
    expect(tag(page.body, 'AutoScalingGroupName')).toEqual(['g0', 'g1']);
    expect(tag(page.body, 'NextToken')).toHaveLength(1);
    const named = await asg({ Action: 'DescribeAutoScalingGroups', 'AutoScalingGroupNames.member.1': 'web-asg' });
    expect(tag(named.body, 'AutoScalingGroupName')).toEqual(['web-asg']);
    const tooMany = await asg({ Action: 'DescribeAutoScalingGroups', MaxRecords: '101' });
    expect([tooMany.status, errorCode(tooMany)]).toEqual([400, 'ValidationError']);
    const names = Object.fromEntries(
      Array.from({ length: 51 }, (_, i) => [`AutoScalingGroupNames.member.${i + 1}`, `n${i}`]),
    );
    expect(errorCode(await asg({ Action: 'DescribeNotificationConfigurations', ...names }))).toBe('ValidationError');
  });

  it('notification configurations: replaced per topic, one row per type, paged without a filter, deleted quietly', async () => {
    await put('web-asg', 'EC2_INSTANCE_LAUNCH', 'EC2_INSTANCE_TERMINATE');
    await put('worker-asg', 'EC2_INSTANCE_LAUNCH');
    await put('web-asg', 'EC2_INSTANCE_TERMINATE');
    expect([...fake.state.groups.get('web-asg')!.notifications.get(TOPIC)!]).toEqual([
      'autoscaling:EC2_INSTANCE_TERMINATE',
    ]);
    expect(fake.state.published.map((p) => JSON.parse(p.message).Event)).toEqual(
      Array(3).fill('autoscaling:TEST_NOTIFICATION'),
    );
    const first = await asg({ Action: 'DescribeNotificationConfigurations', MaxRecords: '1' });
    expect(tag(first.body, 'AutoScalingGroupName')).toEqual(['web-asg']);
    const rest = await asg({
      Action: 'DescribeNotificationConfigurations',
      MaxRecords: '1',
      NextToken: tag(first.body, 'NextToken')[0],
    });
    expect(tag(rest.body, 'AutoScalingGroupName')).toEqual(['worker-asg']);
    expect(tag(rest.body, 'NextToken')).toEqual([]);

    const unknown = await put('no-such', 'EC2_INSTANCE_LAUNCH');
    expect([unknown.status, errorCode(unknown), tag(unknown.body, 'Message')[0]]).toEqual([
      400,
      'ValidationError',
      'AutoScalingGroup name not found - no-such',
    ]);
    expect(errorCode(await put('web-asg', 'EC2_INSTANCE_REBOOT'))).toBe('ValidationError');
    const del = { Action: 'DeleteNotificationConfiguration', AutoScalingGroupName: 'web-asg', TopicARN: TOPIC };
    expect((await asg(del)).status).toBe(200);
    expect((await asg(del)).status).toBe(200);
    expect(fake.state.groups.get('web-asg')!.notifications.size).toBe(0);
  });
});

/** One AWS JSON 1.0 request to SQS. */
async function sqsCall(action: string, input: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${fake.url}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `AmazonSQS.${action}`,
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIAFAKE/20260101/eu-west-1/sqs/aws4_request, SignedHeaders=host, Signature=00',
      ...headers,
    },
    body: typeof input === 'string' ? input : JSON.stringify(input),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
}

describe('SNS subscription attributes', () => {
  const retry = (h: Record<string, number | string>) => JSON.stringify({ healthyRetryPolicy: h });
  const subscribe = async (extra: Record<string, string> = {}) => {
    const arn = tag((await sns({ Action: 'CreateTopic', Name: 't' })).body, 'TopicArn')[0];
    const a = await sns({
      Action: 'Subscribe',
      TopicArn: arn,
      Protocol: 'https',
      Endpoint: 'https://h/hook',
      ReturnSubscriptionArn: 'true',
      ...extra,
    });
    return { topic: arn, answer: a, sub: tag(a.body, 'SubscriptionArn')[0] };
  };

  it("reads SNS's default EffectiveDeliveryPolicy, stores what is set, and refuses what SNS refuses", async () => {
    const { sub } = await subscribe();
    const get = async () => {
      const body = (await sns({ Action: 'GetSubscriptionAttributes', SubscriptionArn: sub })).body;
      const keys = tag(body, 'key');
      const values = tag(body, 'value').map((v) => v.replace(/&quot;/g, '"'));
      return Object.fromEntries(keys.map((k, i) => [k, values[i]]));
    };
    const before = await get();
    expect(before).toMatchObject({ SubscriptionArn: sub, Protocol: 'https', PendingConfirmation: 'true' });
    expect(JSON.parse(before.EffectiveDeliveryPolicy).healthyRetryPolicy).toMatchObject({
      numRetries: 3,
      minDelayTarget: 20,
    });

    const set = (name: string, value: string) =>
      sns({ Action: 'SetSubscriptionAttributes', SubscriptionArn: sub, AttributeName: name, AttributeValue: value });
    const longest = retry({ numRetries: 100, numMinDelayRetries: 100, minDelayTarget: 36, maxDelayTarget: 36 });
    expect((await set('DeliveryPolicy', longest)).status).toBe(200);
    expect((await get()).DeliveryPolicy).toBe(longest);
    for (const bad of [
      retry({ numRetries: 101 }),
      retry({ numRetries: 100, numMinDelayRetries: 100, minDelayTarget: 37, maxDelayTarget: 37 }),
      retry({ numRetries: 2, numNoDelayRetries: 3 }),
      retry({ minDelayTarget: 30, maxDelayTarget: 20 }),
      'not json',
    ])
      expect(errorCode(await set('DeliveryPolicy', bad)), bad).toBe('InvalidParameter');
    expect((await set('RedrivePolicy', '{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:q"}')).status).toBe(
      200,
    );
    expect(errorCode(await set('RedrivePolicy', '{"deadLetterTargetArn":"q"}'))).toBe('InvalidParameter');
    expect(errorCode(await set('Color', 'blue'))).toBe('InvalidParameter');
    const gone = await sns({ Action: 'GetSubscriptionAttributes', SubscriptionArn: `${sub}x` });
    expect([gone.status, errorCode(gone)]).toEqual([404, 'NotFound']);
  });

  it('Subscribe stores attributes on a new subscription and refuses different ones for an existing one', async () => {
    const attrs = { 'Attributes.entry.1.key': 'RawMessageDelivery', 'Attributes.entry.1.value': 'false' };
    const { topic, sub } = await subscribe(attrs);
    expect(fake.state.subscriptions.get(sub)!.attributes).toEqual({ RawMessageDelivery: 'false' });
    const again = await sns({
      Action: 'Subscribe',
      TopicArn: topic,
      Protocol: 'https',
      Endpoint: 'https://h/hook',
      ...attrs,
    });
    expect(again.status).toBe(200);
    const other = await sns({
      Action: 'Subscribe',
      TopicArn: topic,
      Protocol: 'https',
      Endpoint: 'https://h/hook',
      'Attributes.entry.1.key': 'RawMessageDelivery',
      'Attributes.entry.1.value': 'true',
    });
    expect(errorCode(other)).toBe('InvalidParameter');
  });
});

describe('SQS (AWS JSON 1.0)', () => {
  it('creates queues idempotently with AWS defaults, checks attributes, and answers in the JSON protocol', async () => {
    const created = await sqsCall('CreateQueue', {
      QueueName: 'dlq',
      Attributes: { MessageRetentionPeriod: '1209600' },
      tags: { 'managed-by': 'salt-autoscale' },
    });
    expect(created.status).toBe(200);
    expect(created.headers.get('content-type')).toBe('application/x-amz-json-1.0');
    const url = created.json.QueueUrl as string;
    expect(url).toBe(`${fake.url}/123456789012/dlq`);
    expect(
      (await sqsCall('CreateQueue', { QueueName: 'dlq', Attributes: { MessageRetentionPeriod: '1209600' } })).json,
    ).toEqual({ QueueUrl: url });
    const conflict = await sqsCall('CreateQueue', { QueueName: 'dlq', Attributes: { MessageRetentionPeriod: '60' } });
    expect([conflict.status, conflict.json.__type, conflict.headers.get('x-amzn-query-error')]).toEqual([
      400,
      'com.amazonaws.sqs#QueueNameExists',
      'QueueAlreadyExists;Sender',
    ]);
    const attrs = (await sqsCall('GetQueueAttributes', { QueueUrl: url, AttributeNames: ['All'] })).json.Attributes;
    expect(attrs).toMatchObject({
      QueueArn: 'arn:aws:sqs:us-east-1:123456789012:dlq',
      MessageRetentionPeriod: '1209600',
      SqsManagedSseEnabled: 'true',
      VisibilityTimeout: '30',
      ApproximateNumberOfMessages: '0',
    });
    expect((await sqsCall('ListQueueTags', { QueueUrl: url })).json).toEqual({
      Tags: { 'managed-by': 'salt-autoscale' },
    });
    for (const [k, v, type] of [
      ['MessageRetentionPeriod', '1209601', 'InvalidAttributeValue'],
      ['SqsManagedSseEnabled', 'yes', 'InvalidAttributeValue'],
      ['Policy', '{', 'InvalidAttributeValue'],
      ['Colour', 'blue', 'InvalidAttributeName'],
    ])
      expect((await sqsCall('SetQueueAttributes', { QueueUrl: url, Attributes: { [k]: v } })).json.__type).toBe(
        `com.amazonaws.sqs#${type}`,
      );
    const missing = await sqsCall('GetQueueUrl', { QueueName: 'nope' });
    expect([missing.status, missing.headers.get('x-amzn-query-error')]).toEqual([
      400,
      'AWS.SimpleQueueService.NonExistentQueue;Sender',
    ]);
    expect((await sqsCall('DeleteQueue', { QueueUrl: url })).json).toEqual({});
    expect(fake.state.queues.size).toBe(0);
    expect((await sqsCall('ListQueues', {})).json.__type).toBe('com.amazonaws.sqs#InvalidAction');
    expect((await sqsCall('GetQueueUrl', '{')).json.__type).toBe('com.amazonaws.sqs#SerializationException');
  });

  it('messages: MD5s, visibility after a receive, deletion by the latest receipt handle only', async () => {
    const url = (await sqsCall('CreateQueue', { QueueName: 'q' })).json.QueueUrl as string;
    const sent = (await sqsCall('SendMessage', { QueueUrl: url, MessageBody: 'hello' })).json;
    expect(sent.MD5OfMessageBody).toBe('5d41402abc4b2a76b9719d911017c592');
    const first = (await sqsCall('ReceiveMessage', { QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }))
      .json.Messages as Record<string, unknown>[];
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ MessageId: sent.MessageId, Body: 'hello', MD5OfBody: sent.MD5OfMessageBody });
    const second = (await sqsCall('ReceiveMessage', { QueueUrl: url, VisibilityTimeout: 30 })).json.Messages as Record<
      string,
      unknown
    >[];
    expect((second[0].Attributes as Record<string, string>).ApproximateReceiveCount).toBe('2');
    // Hidden now: nothing to receive, counted as not visible.
    expect((await sqsCall('ReceiveMessage', { QueueUrl: url })).json).toEqual({});
    const counts = (
      await sqsCall('GetQueueAttributes', {
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      })
    ).json.Attributes;
    expect(counts).toEqual({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '1' });
    await sqsCall('DeleteMessage', { QueueUrl: url, ReceiptHandle: first[0].ReceiptHandle });
    expect(fake.state.queues.get('q')!.messages).toHaveLength(1);
    await sqsCall('DeleteMessage', { QueueUrl: url, ReceiptHandle: second[0].ReceiptHandle });
    expect(fake.state.queues.get('q')!.messages).toHaveLength(0);
    expect((await sqsCall('DeleteMessage', { QueueUrl: url, ReceiptHandle: 'garbage' })).json.__type).toBe(
      'com.amazonaws.sqs#ReceiptHandleIsInvalid',
    );
    expect((await sqsCall('ReceiveMessage', { QueueUrl: url, MaxNumberOfMessages: 11 })).status).toBe(400);
    expect(fake.calls.filter((c) => c.service === 'sqs').every((c) => c.signingRegion === 'eu-west-1')).toBe(true);
  });

  it('deliveryFails puts the envelope only into a queue whose policy lets SNS send for that topic', async () => {
    const topic = tag((await sns({ Action: 'CreateTopic', Name: 't' })).body, 'TopicArn')[0];
    const queueArn = 'arn:aws:sqs:us-east-1:123456789012:dlq';
    const policy = (source: string) =>
      JSON.stringify({
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'sns.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Resource: queueArn,
            Condition: { ArnEquals: { 'aws:SourceArn': source } },
          },
        ],
      });
    const url = (await sqsCall('CreateQueue', { QueueName: 'dlq', Attributes: { Policy: policy(`${topic}-other`) } }))
      .json.QueueUrl;
    const sub = tag(
      (
        await sns({
          Action: 'Subscribe',
          TopicArn: topic,
          Protocol: 'https',
          Endpoint: 'https://h/hook',
          ReturnSubscriptionArn: 'true',
          'Attributes.entry.1.key': 'RedrivePolicy',
          'Attributes.entry.1.value': JSON.stringify({ deadLetterTargetArn: queueArn }),
        })
      ).body,
      'SubscriptionArn',
    )[0];
    fake.confirmSubscriptions();
    expect(fake.deliveryFails(topic, 'lost')).toBe(0);
    await sqsCall('SetQueueAttributes', { QueueUrl: url, Attributes: { Policy: policy(topic) } });
    expect(fake.deliveryFails(topic, 'lost')).toBe(1);
    const envelope = JSON.parse(fake.state.queues.get('dlq')!.messages[0].body);
    expect(envelope).toMatchObject({ Type: 'Notification', TopicArn: topic, Message: 'lost' });
    expect(sub).toMatch(/^arn:aws:sns:/);
  });

  it('an sqs subscription: a queue ARN, confirmed at once in the same account; deliver honours policy and raw delivery', async () => {
    const topic = tag((await sns({ Action: 'CreateTopic', Name: 'fan' })).body, 'TopicArn')[0];
    const subscribe = (endpoint: string, raw?: string) =>
      sns({
        Action: 'Subscribe',
        TopicArn: topic,
        Protocol: 'sqs',
        Endpoint: endpoint,
        ...(raw ? { 'Attributes.entry.1.key': 'RawMessageDelivery', 'Attributes.entry.1.value': raw } : {}),
      });
    const bad = await subscribe('https://sqs.us-east-1.amazonaws.com/123456789012/a');
    expect([bad.status, tag(bad.body, 'Message')[0]]).toEqual([400, 'Invalid parameter: SQS endpoint ARN']);
    const queue = async (name: string, allowed: boolean) => {
      const arn = `arn:aws:sqs:us-east-1:123456789012:${name}`;
      const Policy = JSON.stringify({
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'sns.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Resource: arn,
            Condition: { ArnEquals: { 'aws:SourceArn': allowed ? topic : `${topic}-other` } },
          },
        ],
      });
      await sqsCall('CreateQueue', { QueueName: name, Attributes: { Policy } });
      return arn;
    };
    const [a, b, c] = [await queue('a', true), await queue('b', true), await queue('c', false)];
    // Same account: the SubscriptionArn at once, not "pending confirmation".
    expect(tag((await subscribe(a)).body, 'SubscriptionArn')[0]).toMatch(/^arn:aws:sns:.*:fan:/);
    await subscribe(b, 'true');
    await subscribe(c);
    const other = await subscribe('arn:aws:sqs:us-east-1:999999999999:theirs');
    expect(tag(other.body, 'SubscriptionArn')[0]).toBe('pending confirmation');
    const envelope = JSON.stringify({ Type: 'Notification', TopicArn: topic, Message: '{"Event":"x"}' });
    expect(fake.deliver(topic, envelope)).toBe(2);
    expect(fake.state.queues.get('a')!.messages.map((m) => m.body)).toEqual([envelope]);
    expect(fake.state.queues.get('b')!.messages.map((m) => m.body)).toEqual(['{"Event":"x"}']);
    expect(fake.state.queues.get('c')!.messages).toEqual([]);
    expect(fake.deliver(`${topic}-unknown`, envelope)).toBe(0);
  });

  it('redrive: received maxReceiveCount times, the next receive moves the message to the dead-letter queue', async () => {
    const dlq = 'arn:aws:sqs:us-east-1:123456789012:dead';
    await sqsCall('CreateQueue', { QueueName: 'dead' });
    const invalid = await sqsCall('CreateQueue', {
      QueueName: 'live',
      Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq, maxReceiveCount: 0 }) },
    });
    expect(invalid.json.__type).toBe('com.amazonaws.sqs#InvalidAttributeValue');
    const url = (
      await sqsCall('CreateQueue', {
        QueueName: 'live',
        Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq, maxReceiveCount: 2 }) },
      })
    ).json.QueueUrl as string;
    const sent = (await sqsCall('SendMessage', { QueueUrl: url, MessageBody: 'poison' })).json;
    const receive = async () =>
      ((await sqsCall('ReceiveMessage', { QueueUrl: url, VisibilityTimeout: 0 })).json.Messages ?? []) as unknown[];
    expect(await receive()).toHaveLength(1);
    expect(await receive()).toHaveLength(1);
    expect(await receive()).toEqual([]);
    expect(fake.state.queues.get('live')!.messages).toEqual([]);
    expect(fake.state.queues.get('dead')!.messages.map((m) => [m.id, m.body, m.receiveCount])).toEqual([
      [sent.MessageId, 'poison', 0],
    ]);
  });
});

describe('faults and control', () => {
  it('injects each fault kind with the answer AWS gives, for the given number of requests', async () => {
    const shape = async (kind: 'throttle' | 'server' | 'denied' | 'quota', service: Service, action: string) => {
      fake.inject({ kind, action, times: 1 });
      const a = await query(service, { Action: action });
      return [a.status, errorCode(a)];
    };
    expect(await shape('throttle', 'sns', 'ListTopics')).toEqual([400, 'Throttling']);
    expect(await shape('server', 'sns', 'ListTopics')).toEqual([500, 'InternalError']);
    expect(await shape('server', 'autoscaling', 'DescribeAutoScalingGroups')).toEqual([500, 'InternalFailure']);
    expect(await shape('denied', 'sns', 'CreateTopic')).toEqual([403, 'AuthorizationError']);
    expect(await shape('denied', 'autoscaling', 'DescribeAutoScalingGroups')).toEqual([403, 'AccessDenied']);
    expect(await shape('quota', 'sns', 'CreateTopic')).toEqual([403, 'TopicLimitExceeded']);
    expect(await shape('quota', 'sns', 'Subscribe')).toEqual([403, 'SubscriptionLimitExceeded']);
    expect(await shape('quota', 'autoscaling', 'PutNotificationConfiguration')).toEqual([400, 'LimitExceeded']);
    // Used up: the next request is answered normally.
    expect((await sns({ Action: 'ListTopics' })).status).toBe(200);
  });

  it('failAfterMutations lets n mutating calls through, then 500s; reads still work', async () => {
    fake.failAfterMutations(1);
    expect((await sns({ Action: 'CreateTopic', Name: 'a' })).status).toBe(200);
    expect((await sns({ Action: 'CreateTopic', Name: 'b' })).status).toBe(500);
    expect((await sns({ Action: 'ListTopics' })).status).toBe(200);
    fake.failAfterMutations(undefined);
    expect((await sns({ Action: 'CreateTopic', Name: 'b' })).status).toBe(200);
  });

  it('a hang is recorded with status 0 and never answered', async () => {
    fake.inject({ kind: 'hang', action: 'ListTopics', times: 1 });
    const outcome = await query('sns', { Action: 'ListTopics' }, { signal: AbortSignal.timeout(200) }).catch(
      (e: Error) => e.name,
    );
    expect(outcome).toBe('TimeoutError');
    expect(fake.calls.map((c) => [c.action, c.status])).toEqual([['ListTopics', 0]]);
  });

  it('the control API confirms subscriptions and shows the state and the calls', async () => {
    const arn = tag((await sns({ Action: 'CreateTopic', Name: 't' })).body, 'TopicArn')[0];
    await sns({ Action: 'Subscribe', TopicArn: arn, Protocol: 'https', Endpoint: 'https://h/hook' });
    const confirmed = await fetch(`${fake.url}/__fake/confirm`, {
      method: 'POST',
      body: '{"endpoint":"https://h/hook"}',
    });
    expect(await confirmed.json()).toEqual({ confirmed: 1 });
    const state = await (await fetch(`${fake.url}/__fake/state`)).json();
    expect(state.topics.map((t: { arn: string }) => t.arn)).toEqual([arn]);
    expect(state.subscriptions[0].confirmed).toBe(true);
    expect(state.calls.map((c: { action: string }) => c.action)).toEqual(['CreateTopic', 'Subscribe']);
  });

  it('latencyMs delays every answer', async () => {
    await fake.close();
    fake = await startFakeAws({ latencyMs: 60 });
    const started = Date.now();
    await sns({ Action: 'ListTopics' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
  });
});

describe('npm run fake-aws: the local sandbox', () => {
  it('starts the fake on 127.0.0.1 with example groups and prints the --endpoint-url that status then uses', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/fake-aws.mjs'), '--port', '0'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d;
          const m = /--endpoint-url (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (m && out.includes('Ctrl-C')) resolve(m[1]);
        });
        child.on('exit', (code) => reject(new Error(`fake-aws exited ${code}: ${out}`)));
      });
      expect(out).toContain('Auto Scaling groups: web-asg, worker-asg');
      const ws = await workspace({ groups: ['web-asg', 'worker-asg'] });
      try {
        const status = await runInProcess(
          ['status', '--config', ws.configFile, '--endpoint-url', url],
          awsEnv(undefined, ws.dir),
        );
        expect(status.code).toBe(1);
        expect(status.stdout).toContain('topic         salt-autoscale: missing');
        expect(status.stdout).toContain('group         web-asg     no notifications to this topic');
      } finally {
        await ws.cleanup();
      }
    } finally {
      child.kill('SIGTERM');
    }
  });
});

describe("EC2 and the groups' instances", () => {
  const ec2 = (params: Record<string, string>) => query('ec2', { Action: 'DescribeInstances', ...params });
  const ids = (a: Answer) => tag(a.body, 'instanceId');

  it("DescribeInstances answers in EC2's dialect: no Result wrapper, requestId, reservations with state and group tag", async () => {
    const live = fake.launchInstance('web-asg', 'i-0000000000000000a');
    fake.launchInstance('worker-asg', 'i-0000000000000000b');
    fake.terminateInstance('i-0000000000000000b');
    const a = await ec2({ 'InstanceId.1': live.id, 'InstanceId.2': 'i-0000000000000000b' });
    expect(a.status).toBe(200);
    expect(a.body).toMatch(
      /<DescribeInstancesResponse xmlns="http:\/\/ec2\.amazonaws\.com\/doc\/2016-11-15\/"><requestId>/,
    );
    expect(ids(a)).toEqual(['i-0000000000000000a', 'i-0000000000000000b']);
    expect(tag(a.body, 'name')).toEqual(['running', 'terminated']);
    expect(tag(a.body, 'code')).toEqual(['16', '48']);
    expect(tag(a.body, 'value')).toEqual(['web-asg', 'worker-asg']);
  });

  it('an unknown or malformed id fails the call (InvalidInstanceID.*, in <Response><Errors>); a filter leaves it out', async () => {
    fake.launchInstance('web-asg', 'i-0000000000000000a');
    fake.launchInstance('web-asg', 'i-0000000000000000c');
    fake.forgetInstance('i-0000000000000000c');
    const unknown = await ec2({ 'InstanceId.1': 'i-0000000000000000a', 'InstanceId.2': 'i-0000000000000000c' });
    expect([unknown.status, errorCode(unknown)]).toEqual([400, 'InvalidInstanceID.NotFound']);
    expect(unknown.body).toMatch(/^<\?xml[^>]*>\n<Response><Errors><Error><Code>/);
    expect(tag(unknown.body, 'Message')).toEqual(['The instance ID &apos;i-0000000000000000c&apos; does not exist']);
    const malformed = await ec2({ 'InstanceId.1': 'web01' });
    expect([malformed.status, errorCode(malformed)]).toEqual([400, 'InvalidInstanceID.Malformed']);
    const filtered = await ec2({
      'Filter.1.Name': 'instance-id',
      'Filter.1.Value.1': 'i-0000000000000000a',
      'Filter.1.Value.2': 'i-0000000000000000c',
    });
    expect(ids(filtered)).toEqual(['i-0000000000000000a']);
    const both = await ec2({ 'InstanceId.1': 'i-0000000000000000a', MaxResults: '5' });
    expect(errorCode(both)).toBe('InvalidParameterCombination');
  });

  it('pages by MaxResults (5 to 1000) with nextToken', async () => {
    for (let n = 0; n < 7; n++) fake.launchInstance('web-asg', `i-${String(n).padStart(8, '0')}`);
    const first = await ec2({ MaxResults: '5' });
    expect(ids(first)).toHaveLength(5);
    const second = await ec2({ MaxResults: '5', NextToken: tag(first.body, 'nextToken')[0] });
    expect(ids(second)).toEqual(['i-00000005', 'i-00000006']);
    expect(errorCode(await ec2({ MaxResults: '4' }))).toBe('InvalidParameterValue');
  });

  it("DescribeAutoScalingGroups lists each group's instances with their lifecycle state", async () => {
    fake.launchInstance('web-asg', 'i-0000000000000000a');
    fake.launchInstance('web-asg', 'i-0000000000000000d');
    fake.terminateInstance('i-0000000000000000d');
    const a = await asg({ Action: 'DescribeAutoScalingGroups', 'AutoScalingGroupNames.member.1': 'web-asg' });
    expect(tag(a.body, 'InstanceId')).toEqual(['i-0000000000000000a']);
    expect(tag(a.body, 'LifecycleState')).toEqual(['InService']);
  });

  it("EC2's faults carry EC2's codes", async () => {
    fake.inject({ kind: 'throttle', action: 'DescribeInstances', times: 1 });
    fake.inject({ kind: 'denied', action: 'DescribeInstances', times: 1 });
    const throttled = await ec2({});
    expect([throttled.status, errorCode(throttled)]).toEqual([503, 'RequestLimitExceeded']);
    const denied = await ec2({});
    expect([denied.status, errorCode(denied)]).toEqual([403, 'UnauthorizedOperation']);
    expect(tag(denied.body, 'Message')[0]).toMatch(/not authorized to perform: ec2:DescribeInstances/);
  });
});

describe('lifecycle hooks (Auto Scaling) and the role that publishes for them (IAM)', () => {
  const TRUST = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: 'autoscaling.amazonaws.com' }, Action: 'sts:AssumeRole' }],
  });
  const publishPolicy = (topicArn: string) =>
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'sns:Publish', Resource: topicArn }],
    });
  /** A topic and a role that may publish to it, as provision sets them up. */
  async function topicAndRole(roleName = 'hooks') {
    const topicArn = tag((await sns({ Action: 'CreateTopic', Name: 'events' })).body, 'TopicArn')[0];
    const role = await iam({ Action: 'CreateRole', RoleName: roleName, AssumeRolePolicyDocument: TRUST });
    const roleArn = tag(role.body, 'Arn')[0];
    await iam({
      Action: 'PutRolePolicy',
      RoleName: roleName,
      PolicyName: 'publish',
      PolicyDocument: publishPolicy(topicArn),
    });
    return { topicArn, roleArn };
  }
  const putHook = (p: Record<string, string>) =>
    asg({
      Action: 'PutLifecycleHook',
      AutoScalingGroupName: 'web-asg',
      LifecycleHookName: 'launch',
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
      ...p,
    });

  it('IAM answers in its namespace; roles: EntityAlreadyExists, NoSuchEntity, MalformedPolicyDocument, DeleteConflict; documents come back URL-encoded', async () => {
    const created = await iam({
      Action: 'CreateRole',
      RoleName: 'r1',
      AssumeRolePolicyDocument: TRUST,
      'Tags.member.1.Key': 'managed-by',
      'Tags.member.1.Value': 'salt-autoscale',
    });
    expect(created.status).toBe(200);
    expect(created.body).toContain(
      '<CreateRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><CreateRoleResult><Role>',
    );
    expect(tag(created.body, 'Arn')).toEqual(['arn:aws:iam::123456789012:role/r1']);
    const again = await iam({ Action: 'CreateRole', RoleName: 'r1', AssumeRolePolicyDocument: TRUST });
    expect([again.status, errorCode(again)]).toEqual([409, 'EntityAlreadyExists']);
    const bad = await iam({ Action: 'CreateRole', RoleName: 'r2', AssumeRolePolicyDocument: '{not json' });
    expect([bad.status, errorCode(bad)]).toEqual([400, 'MalformedPolicyDocument']);
    const missing = await iam({ Action: 'GetRole', RoleName: 'nobody' });
    expect([missing.status, errorCode(missing)]).toEqual([404, 'NoSuchEntity']);
    const got = await iam({ Action: 'GetRole', RoleName: 'r1' });
    expect(decodeURIComponent(tag(got.body, 'AssumeRolePolicyDocument')[0])).toBe(TRUST);
    expect(tag(got.body, 'Value')).toEqual(['salt-autoscale']);
    await iam({ Action: 'TagRole', RoleName: 'r1', 'Tags.member.1.Key': 'k', 'Tags.member.1.Value': 'v' });
    expect(fake.state.roles.get('r1')?.tags.get('k')).toBe('v');
    const doc = publishPolicy('arn:aws:sns:us-east-1:123456789012:t');
    expect((await iam({ Action: 'PutRolePolicy', RoleName: 'r1', PolicyName: 'p', PolicyDocument: doc })).status).toBe(
      200,
    );
    const policy = await iam({ Action: 'GetRolePolicy', RoleName: 'r1', PolicyName: 'p' });
    expect(decodeURIComponent(tag(policy.body, 'PolicyDocument')[0])).toBe(doc);
    expect(tag((await iam({ Action: 'ListRolePolicies', RoleName: 'r1' })).body, 'member')).toEqual(['p']);
    const conflict = await iam({ Action: 'DeleteRole', RoleName: 'r1' });
    expect([conflict.status, errorCode(conflict)]).toEqual([409, 'DeleteConflict']);
    expect((await iam({ Action: 'DeleteRolePolicy', RoleName: 'r1', PolicyName: 'p' })).status).toBe(200);
    expect(errorCode(await iam({ Action: 'DeleteRolePolicy', RoleName: 'r1', PolicyName: 'p' }))).toBe('NoSuchEntity');
    expect((await iam({ Action: 'DeleteRole', RoleName: 'r1' })).status).toBe(200);
    expect(fake.state.roles.size).toBe(0);
    fake.inject({ kind: 'quota', action: 'CreateRole', times: 1 });
    const quota = await iam({ Action: 'CreateRole', RoleName: 'r3', AssumeRolePolicyDocument: TRUST });
    expect([quota.status, errorCode(quota)]).toEqual([409, 'LimitExceeded']);
    expect(fake.calls.filter((c) => c.service === 'iam').every((c) => c.signingRegion === 'eu-west-1')).toBe(true);
  });

  it('PutLifecycleHook checks its limits (30-7200 s, CONTINUE/ABANDON, 50 per group) and sends a test notification as the role', async () => {
    const { topicArn, roleArn } = await topicAndRole();
    const ok = await putHook({
      NotificationTargetARN: topicArn,
      RoleARN: roleArn,
      HeartbeatTimeout: '900',
      DefaultResult: 'ABANDON',
      NotificationMetadata: '{"managed_by":"salt-autoscale"}',
    });
    expect(ok.status).toBe(200);
    const test = JSON.parse(fake.state.published.at(-1)!.message);
    expect(fake.state.published.at(-1)).toMatchObject({ topicArn, roleArn });
    expect(test).toMatchObject({
      AccountId: '123456789012',
      AutoScalingGroupName: 'web-asg',
      AutoScalingGroupARN: fake.state.groups.get('web-asg')!.arn,
      Service: 'AWS Auto Scaling',
      Event: 'autoscaling:TEST_NOTIFICATION',
    });
    expect(Object.keys(test)).toEqual([
      'AccountId',
      'RequestId',
      'AutoScalingGroupARN',
      'AutoScalingGroupName',
      'Service',
      'Event',
      'Time',
    ]);
    const described = await asg({ Action: 'DescribeLifecycleHooks', AutoScalingGroupName: 'web-asg' });
    expect(tag(described.body, 'LifecycleHookName')).toEqual(['launch']);
    expect(tag(described.body, 'HeartbeatTimeout')).toEqual(['900']);
    expect(tag(described.body, 'GlobalTimeout')).toEqual(['90000']);
    expect(tag(described.body, 'RoleARN')).toEqual([roleArn]);
    expect(tag(described.body, 'NotificationMetadata')).toEqual([
      '{&quot;managed_by&quot;:&quot;salt-autoscale&quot;}',
    ]);
    for (const t of ['29', '7201']) {
      const out = await putHook({ HeartbeatTimeout: t });
      expect([out.status, errorCode(out)]).toEqual([400, 'ValidationError']);
    }
    expect(errorCode(await putHook({ DefaultResult: 'RETRY' }))).toBe('ValidationError');
    expect(errorCode(await putHook({ LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCH' }))).toBe(
      'ValidationError',
    );
    expect(errorCode(await putHook({ AutoScalingGroupName: 'nope' }))).toBe('ValidationError');
    for (let n = 1; n < 50; n++) expect((await putHook({ LifecycleHookName: `h${n}` })).status).toBe(200);
    const over = await putHook({ LifecycleHookName: 'h50' });
    expect([over.status, errorCode(over)]).toEqual([400, 'LimitExceeded']);
    // Replacing an existing hook is not a new one.
    expect((await putHook({ LifecycleHookName: 'h1', HeartbeatTimeout: '60' })).status).toBe(200);
  });

  it('PutLifecycleHook fails when the role cannot publish: unknown, not trusting Auto Scaling, not allowed, denied by the topic policy, not yet propagated', async () => {
    const { topicArn, roleArn } = await topicAndRole();
    const unable = async (p: Record<string, string>) => {
      const out = await putHook({ NotificationTargetARN: topicArn, RoleARN: roleArn, ...p });
      expect([out.status, errorCode(out)]).toEqual([400, 'ValidationError']);
      expect(tag(out.body, 'Message')[0]).toMatch(/^Unable to publish test message to notification target/);
    };
    await unable({ RoleARN: 'arn:aws:iam::123456789012:role/nobody' });
    await iam({
      Action: 'CreateRole',
      RoleName: 'untrusting',
      AssumeRolePolicyDocument: TRUST.replace('autoscaling', 'ec2'),
    });
    await iam({
      Action: 'PutRolePolicy',
      RoleName: 'untrusting',
      PolicyName: 'p',
      PolicyDocument: publishPolicy(topicArn),
    });
    await unable({ RoleARN: 'arn:aws:iam::123456789012:role/untrusting' });
    await iam({ Action: 'CreateRole', RoleName: 'powerless', AssumeRolePolicyDocument: TRUST });
    await unable({ RoleARN: 'arn:aws:iam::123456789012:role/powerless' });
    const deny = {
      Statement: [
        {
          Effect: 'Deny',
          Principal: '*',
          Action: 'sns:Publish',
          Resource: topicArn,
          Condition: { ArnNotLike: { 'aws:PrincipalArn': ['arn:aws:iam::123456789012:role/other'] } },
        },
      ],
    };
    await sns({
      Action: 'SetTopicAttributes',
      TopicArn: topicArn,
      AttributeName: 'Policy',
      AttributeValue: JSON.stringify(deny),
    });
    await unable({});
    deny.Statement[0].Condition.ArnNotLike['aws:PrincipalArn'].push(roleArn);
    await sns({
      Action: 'SetTopicAttributes',
      TopicArn: topicArn,
      AttributeName: 'Policy',
      AttributeValue: JSON.stringify(deny),
    });
    expect((await putHook({ NotificationTargetARN: topicArn, RoleARN: roleArn })).status).toBe(200);
    fake.delayRolePropagation(2);
    await iam({ Action: 'CreateRole', RoleName: 'fresh', AssumeRolePolicyDocument: TRUST });
    await iam({ Action: 'PutRolePolicy', RoleName: 'fresh', PolicyName: 'p', PolicyDocument: publishPolicy(topicArn) });
    const fresh = 'arn:aws:iam::123456789012:role/fresh';
    deny.Statement[0].Condition.ArnNotLike['aws:PrincipalArn'].push(fresh);
    await sns({
      Action: 'SetTopicAttributes',
      TopicArn: topicArn,
      AttributeName: 'Policy',
      AttributeValue: JSON.stringify(deny),
    });
    await unable({ RoleARN: fresh });
    await unable({ RoleARN: fresh });
    expect((await putHook({ NotificationTargetARN: topicArn, RoleARN: fresh })).status).toBe(200);
  });

  it('a launch is held in Pending:Wait, notified with the lifecycle message, and goes InService on CONTINUE with its token', async () => {
    const { topicArn, roleArn } = await topicAndRole();
    await putHook({
      NotificationTargetARN: topicArn,
      RoleARN: roleArn,
      HeartbeatTimeout: '300',
      NotificationMetadata: 'meta',
    });
    const before = fake.state.published.length;
    const i = fake.launchInstance('web-asg', 'i-0000000000000000a');
    expect(fake.state.groups.get('web-asg')!.instances.get(i.id)).toBe('Pending:Wait');
    const [action] = fake.lifecycleActionsOf(i.id);
    expect(action).toMatchObject({ hook: 'launch', transition: 'autoscaling:EC2_INSTANCE_LAUNCHING', heartbeats: 0 });
    expect(action.result).toBeUndefined();
    const published = fake.state.published.slice(before);
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ topicArn, roleArn });
    const message = JSON.parse(published[0].message);
    expect(Object.keys(message)).toEqual([
      'Origin',
      'LifecycleHookName',
      'Destination',
      'AccountId',
      'RequestId',
      'LifecycleTransition',
      'AutoScalingGroupName',
      'Service',
      'Time',
      'EC2InstanceId',
      'NotificationMetadata',
      'LifecycleActionToken',
    ]);
    expect(message).toMatchObject({
      Origin: 'EC2',
      Destination: 'AutoScalingGroup',
      LifecycleHookName: 'launch',
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
      AutoScalingGroupName: 'web-asg',
      Service: 'AWS Auto Scaling',
      EC2InstanceId: i.id,
      NotificationMetadata: 'meta',
      LifecycleActionToken: action.token,
    });
    const described = await asg({ Action: 'DescribeAutoScalingGroups', 'AutoScalingGroupNames.member.1': 'web-asg' });
    expect(tag(described.body, 'LifecycleState')).toEqual(['Pending:Wait']);

    const complete = (p: Record<string, string>) =>
      asg({ Action: 'CompleteLifecycleAction', AutoScalingGroupName: 'web-asg', LifecycleHookName: 'launch', ...p });
    const wrong = await complete({
      LifecycleActionToken: '00000000-0000-0000-0000-000000000000',
      LifecycleActionResult: 'CONTINUE',
    });
    expect([wrong.status, errorCode(wrong)]).toEqual([400, 'ValidationError']);
    expect(tag(wrong.body, 'Message')[0]).toBe(
      'No active Lifecycle Action found with token 00000000-0000-0000-0000-000000000000',
    );
    expect(errorCode(await complete({ LifecycleActionToken: action.token, LifecycleActionResult: 'MAYBE' }))).toBe(
      'ValidationError',
    );
    expect(
      errorCode(
        await complete({
          LifecycleHookName: 'other',
          LifecycleActionToken: action.token,
          LifecycleActionResult: 'CONTINUE',
        }),
      ),
    ).toBe('ValidationError');
    const beat = await asg({
      Action: 'RecordLifecycleActionHeartbeat',
      AutoScalingGroupName: 'web-asg',
      LifecycleHookName: 'launch',
      InstanceId: i.id,
    });
    expect(beat.status).toBe(200);
    expect(fake.lifecycleActionsOf(i.id)[0].heartbeats).toBe(1);
    expect((await complete({ LifecycleActionToken: action.token, LifecycleActionResult: 'CONTINUE' })).status).toBe(
      200,
    );
    expect(fake.lifecycleActionsOf(i.id)[0]).toMatchObject({ result: 'CONTINUE', completedBy: 'call' });
    expect(fake.state.groups.get('web-asg')!.instances.get(i.id)).toBe('InService');
    // Completed once: a second completion finds no active action.
    const twice = await complete({ InstanceId: i.id, LifecycleActionResult: 'CONTINUE' });
    expect(tag(twice.body, 'Message')[0]).toBe(`No active Lifecycle Action found with instance ID ${i.id}`);
  });

  it('ABANDON terminates a launching instance; a timeout applies DefaultResult; deleting the hook completes what is open', async () => {
    const { topicArn, roleArn } = await topicAndRole();
    await putHook({ NotificationTargetARN: topicArn, RoleARN: roleArn, DefaultResult: 'CONTINUE' });
    const a = fake.launchInstance('web-asg', 'i-0000000000000000a');
    await asg({
      Action: 'CompleteLifecycleAction',
      AutoScalingGroupName: 'web-asg',
      LifecycleHookName: 'launch',
      InstanceId: a.id,
      LifecycleActionResult: 'ABANDON',
    });
    expect(fake.state.instances.get(a.id)?.state).toBe('terminated');
    expect(fake.state.groups.get('web-asg')!.instances.has(a.id)).toBe(false);
    const b = fake.launchInstance('web-asg', 'i-0000000000000000b');
    fake.timeOutLifecycleAction(fake.lifecycleActionsOf(b.id)[0].token);
    expect(fake.lifecycleActionsOf(b.id)[0]).toMatchObject({ result: 'CONTINUE', completedBy: 'timeout' });
    expect(fake.state.groups.get('web-asg')!.instances.get(b.id)).toBe('InService');
    const c = fake.launchInstance('web-asg', 'i-0000000000000000c');
    await asg({ Action: 'DeleteLifecycleHook', AutoScalingGroupName: 'web-asg', LifecycleHookName: 'launch' });
    expect(fake.lifecycleActionsOf(c.id)[0]).toMatchObject({ result: 'ABANDON', completedBy: 'hook_deleted' });
    const gone = await asg({
      Action: 'DeleteLifecycleHook',
      AutoScalingGroupName: 'web-asg',
      LifecycleHookName: 'launch',
    });
    expect([gone.status, errorCode(gone)]).toEqual([400, 'ValidationError']);
    // Without hooks a launch is InService at once, as before.
    expect(fake.state.groups.get('web-asg')!.instances.get(fake.launchInstance('web-asg').id)).toBe('InService');
  });

  it('a terminate hook holds the instance in Terminating:Wait (still running) until CONTINUE; warm pool origins are in the message', async () => {
    const { topicArn, roleArn } = await topicAndRole();
    await putHook({
      LifecycleHookName: 'drain',
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      NotificationTargetARN: topicArn,
      RoleARN: roleArn,
    });
    const i = fake.launchInstance('web-asg', 'i-0000000000000000a');
    expect(fake.state.groups.get('web-asg')!.instances.get(i.id)).toBe('InService');
    fake.terminateInstance(i.id);
    expect(fake.state.groups.get('web-asg')!.instances.get(i.id)).toBe('Terminating:Wait');
    expect(fake.state.instances.get(i.id)?.state).toBe('running');
    const message = JSON.parse(fake.state.published.at(-1)!.message);
    expect(message).toMatchObject({
      Origin: 'AutoScalingGroup',
      Destination: 'EC2',
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
    });
    const [action] = fake.lifecycleActionsOf(i.id);
    await asg({
      Action: 'CompleteLifecycleAction',
      AutoScalingGroupName: 'web-asg',
      LifecycleHookName: 'drain',
      LifecycleActionToken: action.token,
      LifecycleActionResult: 'CONTINUE',
    });
    expect(fake.state.instances.get(i.id)?.state).toBe('terminated');
    await putHook({ NotificationTargetARN: topicArn, RoleARN: roleArn });
    fake.launchInstance('web-asg', 'i-0000000000000000b', { origin: 'WarmPool' });
    expect(JSON.parse(fake.state.published.at(-1)!.message)).toMatchObject({
      Origin: 'WarmPool',
      Destination: 'AutoScalingGroup',
    });
    fake.launchInstance('web-asg', 'i-0000000000000000c', { destination: 'WarmPool' });
    expect(fake.state.groups.get('web-asg')!.instances.get('i-0000000000000000c')).toBe('Warmed:Pending:Wait');
  });

  it('the control API launches and terminates over HTTP, answering with the actions and the messages', async () => {
    const { topicArn, roleArn } = await topicAndRole();
    await putHook({ NotificationTargetARN: topicArn, RoleARN: roleArn });
    const launched = await (
      await fetch(`${fake.url}/__fake/launch`, {
        method: 'POST',
        body: '{"group":"web-asg","instance_id":"i-0000000000000000a"}',
      })
    ).json();
    expect(launched.lifecycle_state).toBe('Pending:Wait');
    expect(launched.actions[0].token).toBe(JSON.parse(launched.published[0].message).LifecycleActionToken);
    const state = await (await fetch(`${fake.url}/__fake/state`)).json();
    expect(state.groups.find((g: { name: string }) => g.name === 'web-asg').hooks[0].name).toBe('launch');
    expect(state.roles[0].name).toBe('hooks');
    const bad = await fetch(`${fake.url}/__fake/launch`, { method: 'POST', body: '{"group":"nope"}' });
    expect(bad.status).toBe(400);
  });

  it('the SDKs speak to it: the JS SDK (IAM, Auto Scaling) and boto3 complete a lifecycle action', async () => {
    const { IAMClient, GetRoleCommand } = await import('@aws-sdk/client-iam');
    const { AutoScalingClient, DescribeLifecycleHooksCommand } = await import('@aws-sdk/client-auto-scaling');
    const { topicArn, roleArn } = await topicAndRole();
    await putHook({ NotificationTargetARN: topicArn, RoleARN: roleArn });
    const common = { region: 'us-east-1', endpoint: fake.url, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } };
    const role = await new IAMClient(common).send(new GetRoleCommand({ RoleName: 'hooks' }));
    expect(role.Role?.Arn).toBe(roleArn);
    const hooks = await new AutoScalingClient(common).send(
      new DescribeLifecycleHooksCommand({ AutoScalingGroupName: 'web-asg' }),
    );
    expect(hooks.LifecycleHooks?.map((h) => [h.LifecycleHookName, h.HeartbeatTimeout, h.DefaultResult])).toEqual([
      ['launch', 3600, 'ABANDON'],
    ]);
    const i = fake.launchInstance('web-asg', 'i-0000000000000000a');
    const token = fake.lifecycleActionsOf(i.id)[0].token;
    const script = [
      'import boto3, sys',
      'c = boto3.client("autoscaling")',
      'c.record_lifecycle_action_heartbeat(AutoScalingGroupName="web-asg", LifecycleHookName="launch", LifecycleActionToken=sys.argv[1])',
      'c.complete_lifecycle_action(AutoScalingGroupName="web-asg", LifecycleHookName="launch", LifecycleActionToken=sys.argv[1], LifecycleActionResult="CONTINUE")',
      'try:',
      '    c.complete_lifecycle_action(AutoScalingGroupName="web-asg", LifecycleHookName="launch", LifecycleActionToken=sys.argv[1], LifecycleActionResult="CONTINUE")',
      'except c.exceptions.ClientError as e:',
      '    print(e.response["Error"]["Code"], e.response["Error"]["Message"])',
    ].join('\n');
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn('python3', ['-c', script, token], {
        env: awsEnv(fake.url, tmpdir(), { AWS_DEFAULT_REGION: 'us-east-1', AWS_ENDPOINT_URL: fake.url }),
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    if (out.code !== 0 && /No module named 'boto3'/.test(out.stderr)) return; // boto3 is optional here
    expect(out.stderr).toBe('');
    expect(out.stdout.trim()).toBe(`ValidationError No active Lifecycle Action found with token ${token}`);
    expect(fake.lifecycleActionsOf(i.id)[0]).toMatchObject({ result: 'CONTINUE', heartbeats: 1 });
    expect(fake.calls.filter((c) => c.action === 'CompleteLifecycleAction').map((c) => c.signingRegion)).toEqual([
      'us-east-1',
      'us-east-1',
    ]);
  });
});
