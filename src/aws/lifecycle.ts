// Lifecycle hooks and the IAM role Auto Scaling assumes to publish their notifications to the topic: what the
// config asks for, and the plan items for provision and teardown (pure; read.ts reads, apply.ts performs).
import type { Config } from '../config/types.js';
import { MANAGED_TAG } from './desired.js';
import type { Action, ItemState, PlanItem } from './plan.js';

export const LAUNCHING = 'autoscaling:EC2_INSTANCE_LAUNCHING';
export const TERMINATING = 'autoscaling:EC2_INSTANCE_TERMINATING';

/**
 * The NotificationMetadata of every hook provision puts: it marks the hook as salt-autoscale's (teardown removes
 * only those), and Auto Scaling repeats it in each lifecycle notification.
 */
export const HOOK_METADATA = JSON.stringify({ managed_by: 'salt-autoscale' });

/** The inline policy on the role provision creates. */
export const ROLE_POLICY_NAME = 'publish-lifecycle-notifications';

/** The role's name: the topic's with -lifecycle (IAM role names hold at most 64 characters). */
export const roleNameFor = (topicName: string) => `${topicName.slice(0, 54)}-lifecycle`;

/** Only Auto Scaling may assume the role. */
export const TRUST_POLICY = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'AutoScalingPublishesLifecycleNotifications',
      Effect: 'Allow',
      Principal: { Service: 'autoscaling.amazonaws.com' },
      Action: 'sts:AssumeRole',
    },
  ],
};

/** What the role may do: publish to the managed topic, nothing else. */
export function rolePolicy(topicArn: string) {
  return {
    Version: '2012-10-17',
    Statement: [{ Sid: 'PublishToTheTopic', Effect: 'Allow', Action: 'sns:Publish', Resource: topicArn }],
  };
}

/** The hooks' role: one the config names (aws.lifecycle_role_arn), or the one provision manages, by name. */
export type RoleRef = { arn: string } | { name: string };

/** The role's ARN once the topic's is known (the managed role lives in the topic's partition and account). */
export function roleArnOf(ref: RoleRef, topicArn: string): string {
  if ('arn' in ref) return ref.arn;
  const [, partition, , , account] = topicArn.split(':');
  return `arn:${partition}:iam::${account}:role/${ref.name}`;
}

export interface DesiredHook {
  group: string;
  name: string;
  transition: typeof LAUNCHING | typeof TERMINATING;
  heartbeatTimeout: number;
  /** launch: on_failure; terminate: CONTINUE (a scale-in is never undone). */
  defaultResult: 'CONTINUE' | 'ABANDON';
}

export interface DesiredLifecycle {
  hooks: DesiredHook[];
  /** Groups whose config has a `lifecycle` key: their hooks are read, and ours among them kept in step. */
  groups: string[];
  /** The role the hooks use; undefined when no group has lifecycle settings (IAM is then never called). */
  role?: RoleRef;
}

export function desiredLifecycle(config: Config): DesiredLifecycle {
  const hooks: DesiredHook[] = [];
  const groups: string[] = [];
  for (const [group, g] of Object.entries(config.groups)) {
    if (!g.lifecycle) continue;
    groups.push(group);
    const { launch, terminate } = g.lifecycle;
    if (launch)
      hooks.push({
        group,
        name: launch.hook_name,
        transition: LAUNCHING,
        heartbeatTimeout: launch.heartbeat_timeout_seconds,
        defaultResult: launch.on_failure,
      });
    if (terminate)
      hooks.push({
        group,
        name: terminate.hook_name,
        transition: TERMINATING,
        heartbeatTimeout: terminate.heartbeat_timeout_seconds,
        defaultResult: 'CONTINUE',
      });
  }
  if (groups.length === 0) return { hooks, groups };
  const given = config.aws.lifecycle_role_arn;
  return { hooks, groups, role: given ? { arn: given } : { name: roleNameFor(config.sns.topic_name) } };
}

/** A hook as DescribeLifecycleHooks shows it. */
export interface HookState {
  group: string;
  name: string;
  transition: string;
  targetArn?: string;
  roleArn?: string;
  metadata?: string;
  heartbeatTimeout: number;
  defaultResult: string;
}

/** The managed role (GetRole by name, and its inline policy). */
export interface RoleState {
  name: string;
  arn: string;
  /** Tagged managed-by=salt-autoscale: created by provision, so teardown may delete it. */
  managed: boolean;
  /** The inline policy ROLE_POLICY_NAME (JSON text), if it has one. */
  policy?: string;
}

export interface LifecycleState {
  hooks: HookState[];
  role?: RoleState;
}

/** Whether provision put this hook (its NotificationMetadata says so). */
export function isOurHook(h: Pick<HookState, 'metadata'>): boolean {
  try {
    return JSON.parse(h.metadata ?? '').managed_by === 'salt-autoscale';
  } catch {
    return false;
  }
}

export const shortTransition = (t: string) => (t === LAUNCHING ? 'launch' : t === TERMINATING ? 'terminate' : t);
const hookLabel = (h: { group: string; name: string }) => `${h.group}:${h.name}`;

interface PlanInputs {
  desired: DesiredLifecycle;
  current: LifecycleState;
  /** The topic's ARN when it exists (hooks and the role's policy name it). */
  topicArn?: string;
  /** Groups that exist (a hook on a missing group is not planned: provision refuses such a config). */
  existingGroups: Set<string>;
  /** Whether a JSON text says the same as a document (policy comparison). */
  samePolicy: (text: string | undefined, wanted: unknown) => boolean;
}

const item = (
  change: PlanItem['change'],
  resource: 'hook' | 'role',
  name: string,
  state: ItemState,
  detail: string,
  action?: Action,
): PlanItem => ({ change, resource, name, state, detail, ...(action ? { action } : {}) });

/** The role first (it must exist, with its policy, before a hook names it), then each hook. */
export function lifecycleProvisionItems(p: PlanInputs): PlanItem[] {
  const { desired, current, topicArn } = p;
  const items: PlanItem[] = [];
  const wantHooks = desired.hooks.filter((h) => p.existingGroups.has(h.group));
  const role = desired.role;
  if (role && 'arn' in role) {
    if (wantHooks.length)
      items.push(
        item(
          'unchanged',
          'role',
          role.arn,
          'given',
          'aws.lifecycle_role_arn: used as is (provision neither creates nor changes it)',
        ),
      );
  } else if (role) {
    const have = current.role;
    if (wantHooks.length && !have) {
      items.push(
        item(
          'create',
          'role',
          role.name,
          'missing',
          `create, trusting autoscaling.amazonaws.com, tagged ${MANAGED_TAG.Key}=${MANAGED_TAG.Value}`,
          {
            type: 'CreateRole',
            name: role.name,
          },
        ),
        item('create', 'role', role.name, 'missing', 'policy: sns:Publish on the topic only', {
          type: 'PutRolePolicy',
          name: role.name,
        }),
      );
    } else if (wantHooks.length && have && !have.managed) {
      items.push(
        item(
          'blocked',
          'role',
          role.name,
          'unmanaged',
          `exists, not tagged ${MANAGED_TAG.Key}=${MANAGED_TAG.Value}: name it in aws.lifecycle_role_arn to use it, or delete it`,
        ),
      );
    } else if (wantHooks.length && have) {
      items.push(item('unchanged', 'role', role.name, 'managed', 'exists (managed by salt-autoscale)'));
      if (!topicArn || !p.samePolicy(have.policy, rolePolicy(topicArn)))
        items.push(
          item(
            'update',
            'role',
            role.name,
            'policy_differs',
            `policy ${have.policy ? 'differs' : 'missing'} -> sns:Publish on the topic only`,
            {
              type: 'PutRolePolicy',
              name: role.name,
            },
          ),
        );
    } else if (have?.managed) {
      // Hooks are off for every group: the role has nothing left to publish.
      items.push(
        item('delete', 'role', role.name, 'not_in_config', 'no group has a lifecycle hook: delete it and its policy', {
          type: 'DeleteRole',
          name: role.name,
        }),
      );
    }
  }

  const wantedRoleArn = role && topicArn ? roleArnOf(role, topicArn) : undefined;
  for (const h of wantHooks) {
    const have = current.hooks.find((c) => c.group === h.group && c.name === h.name);
    // A group with hooks always has a role in the desired state (desiredLifecycle).
    const put: Action = { type: 'PutLifecycleHook', hook: h, roleRef: role! };
    const what = `${shortTransition(h.transition)}, heartbeat ${h.heartbeatTimeout} s, default ${h.defaultResult}`;
    if (!have) {
      items.push(item('create', 'hook', hookLabel(h), 'missing', `create: ${what}, notifying the topic`, put));
      continue;
    }
    if (!isOurHook(have)) {
      items.push(
        item(
          'blocked',
          'hook',
          hookLabel(h),
          'unmanaged',
          'exists, not put by salt-autoscale (its NotificationMetadata): choose another hook_name, or delete that hook',
        ),
      );
      continue;
    }
    const diffs = [
      have.transition !== h.transition ? `transition ${shortTransition(have.transition)}` : '',
      have.heartbeatTimeout !== h.heartbeatTimeout ? `heartbeat ${have.heartbeatTimeout} s` : '',
      have.defaultResult !== h.defaultResult ? `default ${have.defaultResult}` : '',
      !topicArn || have.targetArn !== topicArn ? 'another target' : '',
      !wantedRoleArn || have.roleArn !== wantedRoleArn ? 'another role' : '',
    ].filter(Boolean);
    items.push(
      diffs.length
        ? item('update', 'hook', hookLabel(h), 'differs', `${diffs.join(', ')} -> ${what}`, put)
        : item('unchanged', 'hook', hookLabel(h), 'in_step', what),
    );
  }
  // Ours, in a group with lifecycle settings, but no longer asked for (a transition turned off, a hook renamed).
  for (const c of current.hooks) {
    if (!isOurHook(c) || wantHooks.some((h) => h.group === c.group && h.name === c.name)) continue;
    items.push(
      item(
        'delete',
        'hook',
        hookLabel(c),
        'not_in_config',
        `not in the config: remove the ${shortTransition(c.transition)} hook`,
        {
          type: 'DeleteLifecycleHook',
          group: c.group,
          name: c.name,
        },
      ),
    );
  }
  return items;
}

/** Our hooks go (before the role, which they name); the role goes if provision created it. */
export function lifecycleTeardownItems(desired: DesiredLifecycle, current: LifecycleState): PlanItem[] {
  const items: PlanItem[] = [];
  for (const c of current.hooks) {
    items.push(
      isOurHook(c)
        ? item('delete', 'hook', hookLabel(c), 'present', `remove the ${shortTransition(c.transition)} hook`, {
            type: 'DeleteLifecycleHook',
            group: c.group,
            name: c.name,
          })
        : item('unchanged', 'hook', hookLabel(c), 'unmanaged', 'not put by salt-autoscale: left alone'),
    );
  }
  const role = desired.role;
  if (role && 'arn' in role)
    items.push(
      item('unchanged', 'role', role.arn, 'given', 'aws.lifecycle_role_arn: kept (salt-autoscale did not create it)'),
    );
  else if (role && current.role?.managed)
    items.push(
      item(
        'delete',
        'role',
        role.name,
        'managed',
        `delete it and its policy (tagged ${MANAGED_TAG.Key}=${MANAGED_TAG.Value})`,
        {
          type: 'DeleteRole',
          name: role.name,
        },
      ),
    );
  else if (role && current.role)
    items.push(
      item(
        'unchanged',
        'role',
        role.name,
        'unmanaged',
        `not tagged ${MANAGED_TAG.Key}=${MANAGED_TAG.Value}: salt-autoscale did not create it and will not delete it`,
      ),
    );
  return items;
}
