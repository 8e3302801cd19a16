import { describe, expect, it } from 'vitest';
import { awsEnv, runInProcess, useFakeAws } from './aws-helpers.js';
import { startFakeAws } from './fakes/aws.js';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:salt-autoscale';

describe('AWS errors and faults', () => {
  const t = useFakeAws({}, {});
  const cli = (args: string[], extraEnv: Record<string, string | undefined> = {}) =>
    runInProcess(['provision', '--config', t.ws.configFile, ...args], awsEnv(t.fake.url, t.ws.dir, extraEnv));

  it("retries throttling and 5xx answers with the SDK's retry, then succeeds", async () => {
    t.fake.inject({ kind: 'throttle', action: 'PutNotificationConfiguration', times: 2 });
    t.fake.inject({ kind: 'server', action: 'CreateTopic', times: 1 });
    t.fake.inject({ kind: 'throttle', action: 'ListTopics', times: 1 });
    const r = await cli([]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(
      t.fake.calls
        .filter((c) => c.status === 400 && c.action !== 'GetQueueUrl') // no queue yet: QueueDoesNotExist
        .map((c) => c.action)
        .sort(),
    ).toEqual(['ListTopics', 'PutNotificationConfiguration', 'PutNotificationConfiguration']);
    expect(t.fake.calls.filter((c) => c.status === 500).map((c) => c.action)).toEqual(['CreateTopic']);
    expect(t.fake.state.groups.get('web-asg')!.notifications.get(TOPIC)!.size).toBe(4);
    expect(t.fake.state.groups.get('worker-asg')!.notifications.get(TOPIC)!.size).toBe(4);
  });

  it('gives up on endless throttling with a clear message', async () => {
    t.fake.inject({ kind: 'throttle', action: 'ListTopics', times: Infinity });
    const r = await cli([]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('AWS kept throttling sns:ListTopics after 3 attempts');
    expect(t.fake.calls.filter((c) => c.action === 'ListTopics')).toHaveLength(3);
  });

  it('names the IAM action that AccessDenied refused, for SNS and for Auto Scaling', async () => {
    t.fake.inject({ kind: 'denied', action: 'CreateTopic', times: 1 });
    const sns = await cli([]);
    expect(sns.code).toBe(4);
    expect(sns.stderr).toContain('AWS denied sns:CreateTopic on salt-autoscale in us-east-1 (AuthorizationError');
    expect(sns.stderr).toContain('salt-autoscale iam-policy');
    expect(sns.stderr).not.toContain('fake-secret-do-not-print');

    t.fake.inject({ kind: 'denied', action: 'PutNotificationConfiguration', times: Infinity });
    const asg = await cli([]);
    expect(asg.code).toBe(4);
    expect(asg.stderr).toMatch(
      /AWS denied autoscaling:PutNotificationConfiguration on (web|worker)-asg in us-east-1 \(AccessDenied/,
    );
  });

  it('tells a quota (SNS answers it with 403) from a missing permission', async () => {
    t.fake.inject({ kind: 'quota', action: 'CreateTopic', times: 1 });
    const sns = await cli([]);
    expect(sns.code).toBe(4);
    expect(sns.stderr).toContain(
      'AWS refused sns:CreateTopic on salt-autoscale in us-east-1: a quota is reached (TopicLimitExceeded',
    );
    expect(sns.stderr).toContain('not a permission problem');
    expect(sns.stderr).not.toContain('AWS denied');

    t.fake.inject({ kind: 'quota', action: 'PutNotificationConfiguration', times: Infinity });
    const asg = await cli([]);
    expect(asg.code).toBe(4);
    expect(asg.stderr, asg.stderr).toMatch(
      /AWS refused autoscaling:PutNotificationConfiguration on (web|worker)-asg in us-east-1: a quota is reached \(LimitExceeded/,
    );
  });

  it('a run that fails half-way is completed by the next run', async () => {
    t.fake.failAfterMutations(2);
    const crashed = await cli([]);
    expect(crashed.code).toBe(4);
    expect(crashed.stderr).toMatch(/AWS failed .* with 500/);
    // The topic and the dead-letter queue come first, one after the other; everything else failed.
    expect(t.fake.state.topics.size).toBe(1);
    expect(t.fake.state.queues.size).toBe(1);
    const configured = [...t.fake.state.groups.values()].filter((g) => g.notifications.get(TOPIC)?.size === 4);
    const policySet = t.fake.state.topics.get(TOPIC)!.attributes.Policy ? 1 : 0;
    expect(configured.length + t.fake.state.subscriptions.size + policySet).toBe(0);

    t.fake.failAfterMutations(undefined);
    const rerun = await cli([]);
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toMatch(/= topic salt-autoscale: exists/);
    expect(t.fake.state.subscriptions.size).toBe(1);
    for (const g of t.fake.state.groups.values()) expect(g.notifications.get(TOPIC)!.size).toBe(4);

    t.fake.calls.length = 0;
    expect((await cli([])).code).toBe(0);
    expect(t.fake.mutatingCalls()).toEqual([]);
  });

  it('says plainly when there are no credentials', async () => {
    const r = await cli([], { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('no usable AWS credentials');
    expect(r.stderr).toContain('--profile');
    expect(t.fake.calls).toEqual([]);
  });

  it('names a profile that does not exist', async () => {
    const r = await cli(['--profile', 'nope'], { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('no usable AWS credentials (profile nope)');
  });

  it('rejects an invalid endpoint URL before any call, and explains an unreachable one', async () => {
    const bad = await cli(['--endpoint-url', 'not a url']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--endpoint-url is not a valid URL: "not a url"');

    const badEnv = await cli([], { AWS_ENDPOINT_URL_SNS: 'ftp://x' });
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toContain('AWS_ENDPOINT_URL_SNS must be an http:// or https:// URL');

    const closed = await cli(['--endpoint-url', 'http://127.0.0.1:9']);
    expect(closed.code).toBe(4);
    expect(closed.stderr).toContain('cannot reach http://127.0.0.1:9');
  });

  it('honours the per-service endpoint variables as the AWS CLI does', async () => {
    const other = await startFakeAws({ groups: ['web-asg', 'worker-asg'] });
    try {
      // SNS goes to `fake`, Auto Scaling to `other`.
      const r = await cli([], {
        AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
        AWS_ENDPOINT_URL_SNS: t.fake.url,
        AWS_ENDPOINT_URL_AUTO_SCALING: other.url,
        AWS_ENDPOINT_URL_SQS: other.url,
      });
      expect(r.code).toBe(0);
      expect(new Set(t.fake.calls.map((c) => c.service))).toEqual(new Set(['sns']));
      expect(new Set(other.calls.map((c) => c.service))).toEqual(new Set(['autoscaling', 'sqs']));
    } finally {
      await other.close();
    }
  });

  it('signs for the region given with --region', async () => {
    const r = await cli(['--region', 'eu-west-1', '--dry-run']);
    expect(r.code, 'a dry run with changes pending exits 1').toBe(1);
    expect(new Set(t.fake.calls.map((c) => c.signingRegion))).toEqual(new Set(['eu-west-1']));
    const bad = await cli(['--region', 'mars']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--region "mars" is not an AWS region name');
  });
});
