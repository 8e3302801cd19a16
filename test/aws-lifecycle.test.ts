// Lifecycle hooks and their role through the CLI (in-process, through its I/O layer) and the real SDK against the
// fake AWS: what provision creates and with which parameters, in which order, idempotence, a role that has not
// propagated yet, a role the config names, status and teardown.
import { describe, expect, it } from 'vitest';
import { awsEnv, runInProcess, useFakeAws, workspace } from './aws-helpers.js';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:salt-autoscale';
const ROLE = 'arn:aws:iam::123456789012:role/salt-autoscale-lifecycle';
const LIFECYCLE = {
  'web-asg': '{launch: {ready: highstate, heartbeat_timeout_seconds: 1200}, terminate: {drain: {state: drain}}}',
};

describe('lifecycle hooks: provision, status, teardown', () => {
  const t = useFakeAws({ groups: ['web-asg', 'worker-asg'] }, { lifecycle: LIFECYCLE });
  const cli = (...args: string[]) => runInProcess([...args, '--config', t.ws.configFile], awsEnv(t.fake.url, t.ws.dir));

  it('creates the role (trusting Auto Scaling, publish on the topic only), lets it publish in the topic policy, then the hooks', async () => {
    const r = await cli('provision');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const role = t.fake.state.roles.get('salt-autoscale-lifecycle')!;
    expect(role.arn).toBe(ROLE);
    expect(role.tags.get('managed-by')).toBe('salt-autoscale');
    expect(JSON.parse(role.assumeRolePolicy).Statement).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'autoscaling.amazonaws.com' },
        Action: 'sts:AssumeRole',
      }),
    ]);
    expect([...role.policies.keys()]).toEqual(['publish-lifecycle-notifications']);
    expect(JSON.parse(role.policies.get('publish-lifecycle-notifications')!).Statement).toEqual([
      expect.objectContaining({ Effect: 'Allow', Action: 'sns:Publish', Resource: TOPIC }),
    ]);
    // The topic policy lets the role publish, and still nobody else of the account.
    expect(t.fake.canPublish(ROLE, TOPIC)).toBe(true);
    expect(t.fake.canPublish('arn:aws:iam::123456789012:role/someone-else', TOPIC)).toBe(false);

    const hooks = t.fake.state.groups.get('web-asg')!.hooks;
    expect(Object.fromEntries([...hooks.values()].map((h) => [h.name, h]))).toEqual({
      'salt-autoscale-launch': {
        name: 'salt-autoscale-launch',
        group: 'web-asg',
        transition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
        targetArn: TOPIC,
        roleArn: ROLE,
        metadata: '{"managed_by":"salt-autoscale"}',
        heartbeatTimeout: 1200,
        globalTimeout: 120000,
        defaultResult: 'ABANDON',
      },
      'salt-autoscale-terminate': {
        name: 'salt-autoscale-terminate',
        group: 'web-asg',
        transition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        targetArn: TOPIC,
        roleArn: ROLE,
        metadata: '{"managed_by":"salt-autoscale"}',
        heartbeatTimeout: 600,
        globalTimeout: 60000,
        defaultResult: 'CONTINUE',
      },
    });
    expect(t.fake.state.groups.get('worker-asg')!.hooks.size).toBe(0);
    // Order: role and its policy, and the topic policy, before any PutLifecycleHook.
    const order = t.fake.calls.filter((c) => c.mutating && c.status === 200).map((c) => c.action);
    const firstHook = order.indexOf('PutLifecycleHook');
    for (const before of ['CreateRole', 'PutRolePolicy', 'SetTopicAttributes'])
      expect(order.indexOf(before)).toBeLessThan(firstHook);
    expect(r.stdout).toContain('+ role salt-autoscale-lifecycle: create, trusting autoscaling.amazonaws.com');
    expect(r.stdout).toContain(
      '+ hook web-asg:salt-autoscale-launch: create: launch, heartbeat 1200 s, default ABANDON',
    );

    // A second run changes nothing.
    const before = t.fake.mutatingCalls().length;
    const again = await cli('provision');
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Everything is in step');
    expect(t.fake.mutatingCalls().length).toBe(before);
  });

  it('dry run and --json show the role and hooks as states; a changed heartbeat is one update', async () => {
    const dry = await cli('provision', '--dry-run', '--json');
    expect(dry.code).toBe(1);
    const plan = JSON.parse(dry.stdout).plan as {
      resource: string;
      change: string;
      state: string;
      call?: string;
      name: string;
    }[];
    expect(plan.filter((i) => i.resource === 'role' || i.resource === 'hook')).toEqual([
      expect.objectContaining({
        resource: 'role',
        name: 'salt-autoscale-lifecycle',
        change: 'create',
        state: 'missing',
        call: 'CreateRole',
      }),
      expect.objectContaining({ resource: 'role', change: 'create', state: 'missing', call: 'PutRolePolicy' }),
      expect.objectContaining({
        resource: 'hook',
        name: 'web-asg:salt-autoscale-launch',
        change: 'create',
        call: 'PutLifecycleHook',
      }),
      expect.objectContaining({
        resource: 'hook',
        name: 'web-asg:salt-autoscale-terminate',
        change: 'create',
        call: 'PutLifecycleHook',
      }),
    ]);
    expect(t.fake.mutatingCalls()).toEqual([]);
    await cli('provision');
    await t.ws.cleanup();
    t.ws = await workspace({ lifecycle: { 'web-asg': '{launch: {heartbeat_timeout_seconds: 300}}' } });
    const changed = JSON.parse((await cli('provision', '--dry-run', '--json')).stdout).plan as typeof plan;
    expect(changed.filter((i) => i.change !== 'unchanged')).toEqual([
      expect.objectContaining({
        resource: 'hook',
        name: 'web-asg:salt-autoscale-launch',
        change: 'update',
        state: 'differs',
      }),
      // The terminate transition was turned off: provision removes the hook it put.
      expect.objectContaining({
        resource: 'hook',
        name: 'web-asg:salt-autoscale-terminate',
        change: 'delete',
        state: 'not_in_config',
      }),
    ]);
    expect((await cli('provision')).code).toBe(0);
    expect([...t.fake.state.groups.get('web-asg')!.hooks.values()].map((h) => [h.name, h.heartbeatTimeout])).toEqual([
      ['salt-autoscale-launch', 300],
    ]);
  });

  it('retries PutLifecycleHook while a new role has not propagated (the test message fails), then succeeds', async () => {
    t.fake.delayRolePropagation(3);
    const r = await cli('provision');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const puts = t.fake.calls.filter((c) => c.action === 'PutLifecycleHook');
    expect(puts.filter((c) => c.status === 400)).toHaveLength(3);
    expect(puts.filter((c) => c.status === 200)).toHaveLength(2);
    expect(t.fake.state.groups.get('web-asg')!.hooks.size).toBe(2);
  });

  it('a role that can never publish fails with what to check, after the bounded retries', async () => {
    t.fake.delayRolePropagation(100);
    const r = await cli('provision');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/could not publish the lifecycle hook's test message/);
    expect(r.stderr).toMatch(/aws\.lifecycle_role_arn/);
    // 1 + 6 retries per hook, and no more.
    expect(t.fake.calls.filter((c) => c.action === 'PutLifecycleHook').length).toBeLessThanOrEqual(14);
  });

  it('a config naming its own role creates none and uses it; teardown keeps it', async () => {
    const own = 'arn:aws:iam::123456789012:role/ops/asg-hooks';
    await t.ws.cleanup();
    t.ws = await workspace({ lifecycle: { 'web-asg': '{launch: {}}' }, lifecycleRoleArn: own });
    // The operator's role, set up by hand: trusted by Auto Scaling, may publish to the topic.
    const trust = JSON.stringify({
      Statement: [{ Effect: 'Allow', Principal: { Service: 'autoscaling.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    });
    const res = await fetch(t.fake.url, {
      method: 'POST',
      headers: { authorization: 'AWS4-HMAC-SHA256 Credential=A/20260101/us-east-1/iam/aws4_request' },
      body: new URLSearchParams({
        Action: 'CreateRole',
        Version: '2010-05-08',
        RoleName: 'asg-hooks',
        Path: '/ops/',
        AssumeRolePolicyDocument: trust,
      }),
    });
    expect(res.status).toBe(200);
    t.fake.state.roles
      .get('asg-hooks')!
      .policies.set('p', JSON.stringify({ Statement: [{ Effect: 'Allow', Action: 'sns:Publish', Resource: TOPIC }] }));
    const setUp = t.fake.calls.length;
    const r = await cli('provision');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect([...t.fake.state.roles.keys()]).toEqual(['asg-hooks']);
    // provision never called IAM: no permission for it is needed.
    expect(t.fake.calls.slice(setUp).filter((c) => c.service === 'iam')).toEqual([]);
    expect(t.fake.state.groups.get('web-asg')!.hooks.get('salt-autoscale-launch')!.roleArn).toBe(own);
    expect(t.fake.canPublish(own, TOPIC)).toBe(true);
    const down = await cli('teardown', '--yes');
    expect(down.code).toBe(0);
    expect(t.fake.state.groups.get('web-asg')!.hooks.size).toBe(0);
    expect(t.fake.state.roles.has('asg-hooks')).toBe(true);
  });

  it("status shows the hooks and the role; teardown removes the hooks, then the role it created, and leaves others' hooks", async () => {
    await cli('provision');
    t.fake.confirmSubscriptions();
    const status = await cli('status', '--json');
    const s = JSON.parse(status.stdout);
    expect(status.code).toBe(0);
    expect(s.lifecycle_role).toEqual({ name: 'salt-autoscale-lifecycle', arn: ROLE, managed: true });
    expect(s.lifecycle_hooks).toEqual([
      expect.objectContaining({ group: 'web-asg', name: 'salt-autoscale-launch', transition: 'launch', managed: true }),
      expect.objectContaining({
        group: 'web-asg',
        name: 'salt-autoscale-terminate',
        transition: 'terminate',
        managed: true,
      }),
    ]);
    const text = await cli('status');
    expect(text.stdout).toMatch(/hook +web-asg:salt-autoscale-launch +launch, heartbeat 1200 s, default ABANDON/);
    expect(text.stdout).toMatch(/role\s+salt-autoscale-lifecycle/);

    // Someone else's hook on the same group stays.
    const group = t.fake.state.groups.get('web-asg')!;
    group.hooks.set('theirs', { ...group.hooks.get('salt-autoscale-launch')!, name: 'theirs', metadata: 'other tool' });
    const down = await cli('teardown', '--yes');
    expect(down.stderr).toBe('');
    expect(down.code).toBe(0);
    expect([...group.hooks.keys()]).toEqual(['theirs']);
    expect(t.fake.state.roles.size).toBe(0);
    const order = t.fake.calls.filter((c) => c.mutating && c.status === 200).map((c) => c.action);
    expect(order.lastIndexOf('DeleteLifecycleHook')).toBeLessThan(order.indexOf('DeleteRole'));
    expect(order.indexOf('DeleteRolePolicy')).toBeLessThan(order.indexOf('DeleteRole'));
  });
});
