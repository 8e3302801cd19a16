// Issue 10's last attack: the topic's default policy lets any principal of the account publish, and so send
// genuinely signed fake launch/terminate events. provision sets a policy that lets only Auto Scaling and
// sns.publishers publish; status reports any other policy as drift.
import { describe, expect, it } from 'vitest';
import { desiredState, samePolicy, topicPolicy } from '../src/aws/desired.js';
import { parseConfigText } from '../src/config/load.js';
import { awsEnv, configText, runInProcess, useFakeAws, workspace } from './aws-helpers.js';
import { statementApplies } from './fakes/aws.js';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:salt-autoscale';
const AUTO_SCALING =
  'arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling';
const INTRUDER = 'arn:aws:iam::123456789012:user/intern-with-sns-full-access';
const PARTNER = 'arn:aws:iam::210987654321:role/partner-publisher';

describe('the topic policy', () => {
  const t = useFakeAws({}, { publishers: [PARTNER] });
  const cli = (...args: string[]) => runInProcess([...args, '--config', t.ws.configFile], awsEnv(t.fake.url, t.ws.dir));

  it('attack: a principal of the account can publish to a default topic, and cannot once provision ran', async () => {
    // What main left: the topic with SNS's default policy.
    t.fake.state.topics.set(TOPIC, {
      arn: TOPIC,
      name: 'salt-autoscale',
      attributes: { SignatureVersion: '2' },
      tags: new Map([['managed-by', 'salt-autoscale']]),
    });
    expect(t.fake.canPublish(INTRUDER, TOPIC)).toBe(true);

    const r = await cli('provision');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      '~ topic salt-autoscale: policy is not the one provision sets -> only Auto Scaling and the 1 principal(s) of sns.publishers may publish',
    );
    expect(t.fake.canPublish(INTRUDER, TOPIC)).toBe(false);
    expect(t.fake.canPublish('arn:aws:iam::123456789012:root', TOPIC)).toBe(false);
    expect(t.fake.canPublish('arn:aws:iam::999999999999:role/stranger', TOPIC)).toBe(false);
    expect(t.fake.canPublish(AUTO_SCALING, TOPIC)).toBe(true);
    expect(t.fake.canPublish(`${AUTO_SCALING}_custom`, TOPIC)).toBe(true); // a group's custom-suffix role
    expect(t.fake.canPublish(PARTNER, TOPIC)).toBe(true);
  });

  it('a new topic gets it at once; a second run changes nothing', async () => {
    const r = await cli('provision');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      '+ topic salt-autoscale: policy: only Auto Scaling and the 1 principal(s) of sns.publishers may publish',
    );
    const policy = JSON.parse(t.fake.state.topics.get(TOPIC)!.attributes.Policy);
    expect(policy.Statement).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { AWS: [PARTNER] },
        Action: 'sns:Publish',
        Resource: TOPIC,
      }),
      expect.objectContaining({
        Effect: 'Deny',
        Principal: '*',
        Action: 'sns:Publish',
        Resource: TOPIC,
        Condition: { ArnNotLike: { 'aws:PrincipalArn': [`${AUTO_SCALING}*`, PARTNER] } },
      }),
    ]);
    t.fake.calls.length = 0;
    expect((await cli('provision')).code).toBe(0);
    expect(t.fake.mutatingCalls()).toEqual([]);
  });

  it('status reports a changed policy (or a changed sns.publishers) as drift; provision puts it back', async () => {
    expect((await cli('provision')).code).toBe(0);
    t.fake.confirmSubscriptions();
    expect((await cli('status')).code).toBe(0);

    // Someone opens the topic again by hand.
    delete t.fake.state.topics.get(TOPIC)!.attributes.Policy;
    const drift = await cli('status', '--json');
    expect(drift.code).toBe(1);
    expect(JSON.parse(drift.stdout).drift).toEqual([
      expect.objectContaining({ change: 'update', resource: 'topic', call: 'SetTopicPolicy' }),
    ]);
    t.fake.calls.length = 0;
    expect((await cli('provision')).code).toBe(0);
    expect(t.fake.mutatingCalls().map((c) => `${c.action} ${c.params.AttributeName}`)).toEqual([
      'SetTopicAttributes Policy',
    ]);
    expect((await cli('status')).code).toBe(0);

    // The config names no publisher any more: the partner's grant is drift too.
    await t.ws.cleanup();
    t.ws = await workspace({});
    expect((await cli('status')).code).toBe(1);
    expect((await cli('provision')).code).toBe(0);
    expect(t.fake.canPublish(PARTNER, TOPIC)).toBe(false);
  });

  it('sns.publishers must be IAM principal ARNs', async () => {
    await t.ws.cleanup();
    t.ws = await workspace({ publishers: ['role/partner-publisher'] });
    const r = await cli('status');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('sns.publishers');
    expect(r.stderr).toContain('an IAM role or user ARN');
    expect(t.fake.calls).toEqual([]);
  });
});

describe('policy comparison', () => {
  it('ignores key order, list order and one-element lists, and nothing else', () => {
    const desired = desiredState(parseConfigText(configText({ publishers: [PARTNER] }), 't.yaml').config, 'us-east-1');
    const policy = topicPolicy(TOPIC, desired.publishers);
    const reordered = JSON.parse(JSON.stringify(policy));
    reordered.Statement.reverse();
    reordered.Statement[1].Principal.AWS = PARTNER;
    reordered.Statement[0].Condition.ArnNotLike['aws:PrincipalArn'].reverse();
    expect(samePolicy(reordered, policy)).toBe(true);
    const widened = JSON.parse(JSON.stringify(policy));
    widened.Statement[1].Condition.ArnNotLike['aws:PrincipalArn'].push('arn:aws:iam::123456789012:user/*');
    expect(samePolicy(widened, policy)).toBe(false);
  });
});

describe('who the Deny leaves able to publish', () => {
  // Evaluated by the fake AWS's own policy evaluation (conditions ANDed, as IAM does).
  const denied = (publishers: string[], principalArn: string) =>
    statementApplies(topicPolicy(TOPIC, publishers).Statement.find((s) => s.Effect === 'Deny')!, principalArn);
  const ASG = 'arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling';

  it('an account named by its root ARN may publish (by account), and only that account besides Auto Scaling', () => {
    const root = ['arn:aws:iam::210987654321:root'];
    // Excepting arn:…:root by aws:PrincipalArn alone would deny this role: no caller's PrincipalArn is the root ARN.
    expect(denied(root, 'arn:aws:iam::210987654321:role/publisher')).toBe(false);
    expect(denied(root, 'arn:aws:iam::555555555555:role/publisher')).toBe(true);
    expect(denied(root, 'arn:aws:iam::123456789012:role/other')).toBe(true);
    expect(denied(root, ASG)).toBe(false);
  });

  it('without a root ARN there is no account-wide exception', () => {
    const deny = topicPolicy(TOPIC, [PARTNER]).Statement.find((s) => s.Effect === 'Deny')!;
    expect(deny.Condition).not.toHaveProperty('StringNotEquals');
    expect(denied([PARTNER], PARTNER)).toBe(false);
    expect(denied([PARTNER], 'arn:aws:iam::210987654321:role/another')).toBe(true);
  });
});
