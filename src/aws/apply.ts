// Carries out a plan: the topic first (everything else needs its ARN), then the independent changes
// (attributes, subscription, one call per group) with bounded concurrency, and a topic deletion last.
// Each action is idempotent on the AWS side, so a run that stops half-way is completed by the next one.
import type { AwsClients } from './api.js';
import { MANAGED_TAG, queueArnFor, queuePolicy, queueRedrivePolicy, redrivePolicy, topicPolicy } from './desired.js';
import { HOOK_METADATA, ROLE_POLICY_NAME, roleArnOf, rolePolicy, TRUST_POLICY } from './lifecycle.js';
import type { Action, Plan, PlanItem, QueueRedrive } from './plan.js';
import { mapConcurrent } from './pool.js';

export interface ApplyOptions {
  /** Calls in flight at once for the per-group changes. */
  concurrency?: number;
  onStart?: (item: PlanItem) => void;
  onDone?: (item: PlanItem) => void;
  /** Once aborted (Ctrl-C, SIGTERM), no further call starts; calls in flight finish and count as done. */
  signal?: AbortSignal;
}

export interface ApplyResult {
  topicArn?: string;
  /** The items whose call AWS answered, in the order they finished. */
  done: PlanItem[];
}

export const DEFAULT_CONCURRENCY = 8;

export async function applyPlan(clients: AwsClients, plan: Plan, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const result: ApplyResult = { topicArn: plan.topicArn, done: [] };
  const withAction = plan.items.filter((i): i is PlanItem & { action: Action } => !!i.action);
  const ofType = (...types: Action['type'][]) => types.flatMap((t) => withAction.filter((i) => i.action.type === t));
  // The topic, then the dead-letter queue (its policy names the topic; the subscription's redrive names it) and
  // the hooks' role. The hooks come after everything else: PutLifecycleHook publishes a test message as the
  // role, which needs the role's policy and a topic policy that lets the role publish.
  const first = ofType('CreateTopic', 'CreateQueue', 'CreateRole');
  const hooks = ofType('PutLifecycleHook');
  // The role goes last: hooks naming it are deleted in the middle phase.
  const last = ofType('DeleteTopic', 'DeleteQueue', 'DeleteRole');
  const middle = withAction.filter((i) => !first.includes(i) && !last.includes(i) && !hooks.includes(i));

  const run = async (item: PlanItem & { action: Action }) => {
    if (opts.signal?.aborted) return;
    opts.onStart?.(item);
    await perform(clients, item.action, result);
    result.done.push(item);
    opts.onDone?.(item);
  };

  for (const item of first) await run(item);
  await mapConcurrent(middle, opts.concurrency ?? DEFAULT_CONCURRENCY, run);
  await mapConcurrent(hooks, opts.concurrency ?? DEFAULT_CONCURRENCY, run);
  for (const item of last) await run(item);
  return result;
}

async function perform(clients: AwsClients, action: Action, result: ApplyResult): Promise<void> {
  if (action.type === 'CreateTopic') {
    result.topicArn = await clients.sns.createTopic(action.name, action.attributes, action.tags);
    return;
  }
  // The queue may outlive a topic deleted by hand: its removal needs no topic ARN; nor do the role's and hooks'.
  if (action.type === 'DeleteQueue') return clients.sqs.deleteQueue(action.queueUrl);
  if (action.type === 'CreateRole') {
    await clients.iam.createRole(
      action.name,
      JSON.stringify(TRUST_POLICY),
      'Lets Auto Scaling publish lifecycle hook notifications to the salt-autoscale topic (created by salt-autoscale provision)',
      [MANAGED_TAG],
    );
    return;
  }
  if (action.type === 'DeleteRole') {
    // IAM refuses to delete a role that still has inline policies (DeleteConflict).
    for (const policy of await clients.iam.listRolePolicies(action.name))
      await clients.iam.deleteRolePolicy(action.name, policy);
    return clients.iam.deleteRole(action.name);
  }
  if (action.type === 'DeleteLifecycleHook') return clients.autoscaling.deleteLifecycleHook(action.group, action.name);
  const topicArn = result.topicArn;
  if (!topicArn) throw new Error(`internal: ${action.type} planned without a topic ARN`);
  switch (action.type) {
    case 'SetTopicAttributes':
      return clients.sns.setTopicAttribute(topicArn, action.name, action.value);
    case 'SetTopicPolicy': {
      const publishers = action.hookRole
        ? [...action.publishers, roleArnOf(action.hookRole, topicArn)]
        : action.publishers;
      return clients.sns.setTopicAttribute(topicArn, 'Policy', JSON.stringify(topicPolicy(topicArn, publishers)));
    }
    case 'PutRolePolicy':
      return clients.iam.putRolePolicy(action.name, ROLE_POLICY_NAME, JSON.stringify(rolePolicy(topicArn)));
    case 'PutLifecycleHook': {
      const h = action.hook;
      return clients.autoscaling.putLifecycleHook({
        group: h.group,
        name: h.name,
        transition: h.transition,
        targetArn: topicArn,
        roleArn: roleArnOf(action.roleRef, topicArn),
        metadata: HOOK_METADATA,
        heartbeatTimeout: h.heartbeatTimeout,
        defaultResult: h.defaultResult,
      });
    }
    case 'Subscribe': {
      const sqs = action.protocol === 'sqs';
      const endpoint = sqs ? queueArnFor(topicArn, action.endpoint) : action.endpoint;
      await clients.sns.subscribe(topicArn, action.protocol, endpoint, {
        ...(action.deliveryPolicy ? { DeliveryPolicy: action.deliveryPolicy } : {}),
        // The envelope and its signature must reach the gate: never the bare Message.
        ...(sqs ? { RawMessageDelivery: 'false' } : {}),
        RedrivePolicy: JSON.stringify(redrivePolicy(queueArnFor(topicArn, action.deadLetterQueue))),
      });
      return;
    }
    case 'SetSubscriptionAttributes':
      return clients.sns.setSubscriptionAttribute(action.subscriptionArn, action.name, action.value);
    case 'CreateQueue': {
      const policy = queuePolicy(queueArnFor(topicArn, action.name), topicArn, purposeOf(action.redrive));
      await clients.sqs.createQueue(
        action.name,
        { ...action.attributes, Policy: JSON.stringify(policy), ...redriveAttribute(topicArn, action.redrive) },
        action.tags,
      );
      return;
    }
    case 'SetQueueAttributes': {
      const policy = queuePolicy(queueArnFor(topicArn, action.name), topicArn, purposeOf(action.redrive));
      return clients.sqs.setQueueAttributes(action.queueUrl, {
        ...action.attributes,
        ...(action.policy ? { Policy: JSON.stringify(policy) } : {}),
        ...redriveAttribute(topicArn, action.redrive),
      });
    }
    case 'PutNotificationConfiguration':
      return clients.autoscaling.putNotifications(action.group, topicArn, action.types);
    case 'DeleteNotificationConfiguration':
      return clients.autoscaling.deleteNotifications(action.group, topicArn);
    case 'Unsubscribe':
      return clients.sns.unsubscribe(action.subscriptionArn);
    case 'DeleteTopic':
      return clients.sns.deleteTopic(topicArn);
  }
}

/** A master's delivery queue has a redrive to the dead-letter queue; the dead-letter queue itself has none. */
const purposeOf = (redrive: QueueRedrive | undefined) => (redrive ? 'deliveries' : 'dead-letters');

const redriveAttribute = (topicArn: string, redrive: QueueRedrive | undefined): Record<string, string> =>
  redrive
    ? {
        RedrivePolicy: JSON.stringify(
          queueRedrivePolicy(queueArnFor(topicArn, redrive.deadLetterQueue), redrive.maxReceiveCount),
        ),
      }
    : {};
