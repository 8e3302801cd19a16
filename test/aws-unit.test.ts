// Pure parts: planning, the config edit, bounded concurrency, error messages.
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DELIVERY_POLICY,
  desiredState,
  NOTIFICATION_TYPES,
  queuePolicy,
  redrivePolicy,
  topicPolicy,
} from '../src/aws/desired.js';
import { AwsCallError, toUserError } from '../src/aws/errors.js';
import { planProvision, planTeardown } from '../src/aws/plan.js';
import { mapConcurrent } from '../src/aws/pool.js';
import type { CurrentState } from '../src/aws/read.js';
import { withTopicArnText, writeTopicArn } from '../src/config/edit.js';
import { parseConfigText } from '../src/config/load.js';
import { UserError } from '../src/errors.js';
import { configText } from './aws-helpers.js';

const ARN = 'arn:aws:sns:us-east-1:123456789012:salt-autoscale';
const QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:salt-autoscale-dlq';
const desired = desiredState(parseConfigText(configText(), 'test.yaml').config, 'us-east-1');
const ENDPOINT = desired.subscriptions[0].endpoint;
const inStep = (): CurrentState => ({
  topic: { arn: ARN, managed: true, signatureVersion: '2', policy: JSON.stringify(topicPolicy(ARN, [])) },
  subscriptions: {
    [ENDPOINT]: {
      arn: `${ARN}:1`,
      pending: false,
      protocol: 'https',
      endpoint: ENDPOINT,
      deliveryPolicy: JSON.stringify(DELIVERY_POLICY),
      redrivePolicy: JSON.stringify(redrivePolicy(QUEUE_ARN)),
    },
  },
  masterQueues: {},
  otherWebhookSubscriptions: [],
  groups: desired.groups.map((name) => ({ name, exists: true, types: [...NOTIFICATION_TYPES], otherTopics: [] })),
  strayGroups: [],
  lifecycle: { hooks: [] },
  queue: {
    url: 'http://127.0.0.1/123456789012/salt-autoscale-dlq',
    arn: QUEUE_ARN,
    managed: true,
    retentionSeconds: 1_209_600,
    encrypted: true,
    policy: JSON.stringify(queuePolicy(QUEUE_ARN, ARN)),
    messages: 0,
    visibilityTimeout: 30,
  },
});

describe('planProvision', () => {
  it('plans nothing for a state in step', () => {
    const plan = planProvision(inStep(), desired);
    expect(plan.items.map((i) => i.change)).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged', 'unchanged']);
    expect(plan.items.some((i) => i.action)).toBe(false);
  });

  it("replaces a group's types with exactly the four, naming what it adds and removes", () => {
    const state = inStep();
    state.groups[0].types = ['autoscaling:EC2_INSTANCE_LAUNCH', 'autoscaling:TEST_NOTIFICATION'];
    const item = planProvision(state, desired).items.find((i) => i.name === 'web-asg')!;
    expect(item.change).toBe('update');
    expect(item.detail).toBe('add terminate, launch_error, terminate_error; remove test_notification');
    expect(item.action).toEqual({
      type: 'PutNotificationConfiguration',
      group: 'web-asg',
      types: [...NOTIFICATION_TYPES],
    });
  });

  it('keeps a pending subscription unless asked to re-send, and blocks a missing group', () => {
    const state = inStep();
    state.subscriptions[ENDPOINT] = {
      arn: 'PendingConfirmation',
      pending: true,
      protocol: 'https',
      endpoint: ENDPOINT,
    };
    state.groups[1].exists = false;
    const plain = planProvision(state, desired);
    expect(plain.items.find((i) => i.resource === 'subscription')).toMatchObject({
      change: 'unchanged',
      detail: 'pending confirmation',
    });
    expect(plain.items.find((i) => i.name === 'worker-asg')).toMatchObject({
      change: 'blocked',
      detail: 'no Auto Scaling group named worker-asg in us-east-1',
    });
    const resend = planProvision(state, desired, { resendConfirmation: true });
    expect(resend.items.find((i) => i.resource === 'subscription')!.action).toEqual({
      type: 'Subscribe',
      protocol: 'https',
      endpoint: ENDPOINT,
      deliveryPolicy: JSON.stringify(DELIVERY_POLICY),
      deadLetterQueue: 'salt-autoscale-dlq',
    });
  });
});

describe('planTeardown', () => {
  it('deletes the topic, then the dead-letter queue, last and only when managed', () => {
    const plan = planTeardown(inStep(), desired);
    expect(plan.items.map((i) => i.action?.type)).toEqual([
      'DeleteNotificationConfiguration',
      'DeleteNotificationConfiguration',
      'Unsubscribe',
      'DeleteTopic',
      'DeleteQueue',
    ]);
    const unmanaged = inStep();
    unmanaged.topic!.managed = false;
    unmanaged.queue!.managed = false;
    const kept = planTeardown(unmanaged, desired).items;
    expect(kept.at(-2)).toMatchObject({ change: 'blocked', resource: 'topic' });
    expect(kept.at(-1)).toMatchObject({ change: 'unchanged', resource: 'queue', state: 'unmanaged' });
    expect(planTeardown(unmanaged, desired, { keepTopic: true }).items.at(-2)).toMatchObject({
      change: 'unchanged',
      detail: 'kept (--keep-topic)',
    });
  });
});

describe('writing topic_arn back', () => {
  it('replaces the value and nothing else, comments included', () => {
    const text =
      'sns:\n  topic_name: t   # name\n  # the ARN\n  topic_arn: arn:aws:sns:us-east-1:1:old   # set by provision\nx: 1\n';
    expect(withTopicArnText(text, ARN)).toBe(
      `sns:\n  topic_name: t   # name\n  # the ARN\n  topic_arn: ${ARN}   # set by provision\nx: 1\n`,
    );
  });

  it('fills an empty value and inserts a missing key under topic_name with its indentation', () => {
    expect(withTopicArnText('sns:\n    topic_name: t\n    topic_arn:   # later\n', ARN)).toBe(
      `sns:\n    topic_name: t\n    topic_arn:   ${ARN} # later\n`,
    );
    expect(withTopicArnText('sns:\n    topic_name: "t"  # n\nother: 2\n', ARN)).toBe(
      `sns:\n    topic_name: "t"  # n\n    topic_arn: ${ARN}\nother: 2\n`,
    );
    expect(withTopicArnText('sns:\n  topic_name: t', ARN)).toBe(`sns:\n  topic_name: t\n  topic_arn: ${ARN}`);
  });

  it('falls back to the YAML printer for a flow mapping, and writes atomically keeping the file mode', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'edit-'));
    try {
      const file = join(dir, 'c.yaml');
      await writeFile(file, 'sns: {topic_name: t}\n');
      await chmod(file, 0o600);
      expect(await writeTopicArn(file, ARN)).toBe(true);
      expect(parseConfigText(configText(), 'x').config).toBeTruthy();
      expect(await readFile(file, 'utf8')).toContain(`topic_arn: ${ARN}`);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect(await writeTopicArn(file, ARN)).toBe(false);
      expect(await readdir(dir)).toEqual(['c.yaml']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('mapConcurrent', () => {
  it('keeps order, never exceeds the limit, and stops starting work after a failure', async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapConcurrent([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      peak = Math.max(peak, ++inFlight);
      await new Promise((r) => setTimeout(r, 5 * (8 - n)));
      inFlight--;
      return n * 2;
    });
    expect(out).toEqual([2, 4, 6, 8, 10, 12, 14]);
    expect(peak).toBe(3);
    const started: number[] = [];
    await expect(
      mapConcurrent([1, 2, 3, 4, 5], 1, async (n) => {
        started.push(n);
        if (n === 2) throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(started).toEqual([1, 2]);
  });
});

describe('toUserError', () => {
  const ctx = { region: 'eu-west-1', endpointLabel: 'AWS in eu-west-1' };
  it("names the IAM action from the wrapper when AWS's message does not", () => {
    const err = toUserError(
      new AwsCallError('autoscaling:DescribeAutoScalingGroups', undefined, {
        name: 'AccessDenied',
        message: 'Access denied',
        $metadata: { httpStatusCode: 403 },
      }),
      ctx,
    ) as UserError;
    expect(err).toBeInstanceOf(UserError);
    expect(err.exitCode).toBe(4);
    expect(err.message).toContain('AWS denied autoscaling:DescribeAutoScalingGroups in eu-west-1');
  });
  it('tells expired credentials from missing permissions', () => {
    const err = toUserError(
      new AwsCallError('sns:ListTopics', undefined, {
        name: 'ExpiredToken',
        message: 'The security token included in the request is expired',
        $metadata: { httpStatusCode: 403 },
      }),
      ctx,
    ) as UserError;
    expect(err.message).toContain('AWS rejected the credentials (ExpiredToken');
  });
  it('leaves errors that are not from AWS alone', () => {
    const bug = new TypeError('x is undefined');
    expect(toUserError(bug, ctx)).toBe(bug);
  });
});
