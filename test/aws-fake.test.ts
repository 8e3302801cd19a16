// The fake AWS against its written spec (test/fakes/README.md), on the wire: if the fake drifts from what it
// promises (and so from AWS), the tests built on it would prove nothing.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awsEnv, ROOT, runInProcess, workspace } from './aws-helpers.js';
import { type FakeAws, startFakeAws } from './fakes/aws.js';

type Service = 'sns' | 'autoscaling';
const VERSION = { sns: '2010-03-31', autoscaling: '2011-01-01' };

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
