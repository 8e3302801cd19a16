// Pure planning: current state + desired state -> the list of what to do. No I/O here, so provision,
// --dry-run, status and teardown all show the same plan, and the tests can check plans without AWS.

import type { Change } from '../plan.js';
import {
  type DesiredState,
  MANAGED_TAG,
  reactorTrustsTopic,
  SIGNATURE_VERSION,
  samePolicy,
  shortType,
  topicPolicy,
} from './desired.js';
import type { CurrentState } from './read.js';

/** What apply does for one plan item. The topic ARN comes from the apply context (it may be created first). */
export type Action =
  | { type: 'CreateTopic'; name: string; attributes: Record<string, string>; tags: { Key: string; Value: string }[] }
  | { type: 'SetTopicAttributes'; name: string; value: string }
  /** The Policy attribute: topicPolicy() for the topic ARN known at apply time. */
  | { type: 'SetTopicPolicy'; publishers: string[] }
  | { type: 'Subscribe'; protocol: string; endpoint: string }
  | { type: 'PutNotificationConfiguration'; group: string; types: string[] }
  | { type: 'DeleteNotificationConfiguration'; group: string }
  | { type: 'Unsubscribe'; subscriptionArn: string }
  | { type: 'DeleteTopic' };

/**
 * What was found, for scripts and for the code that reads a plan (never the prose in `detail`):
 * missing, managed/unmanaged (a topic's tag), signature_version (a topic's SignatureVersion is not 2),
 * awaiting_trust (the reactor does not trust the topic yet), pending/confirmed (a subscription),
 * no_such_group, differs/in_step/present (a group's notifications), not_in_config (a group the config no longer
 * names still notifies the topic), kept (--keep-topic), policy_differs (the topic's Policy is not the one provision
 * sets).
 */
export type ItemState =
  | 'missing'
  | 'managed'
  | 'unmanaged'
  | 'signature_version'
  | 'awaiting_trust'
  | 'pending'
  | 'confirmed'
  | 'no_such_group'
  | 'differs'
  | 'in_step'
  | 'present'
  | 'not_in_config'
  | 'kept'
  | 'policy_differs';

export interface PlanItem {
  change: Change;
  resource: 'topic' | 'subscription' | 'notifications';
  /** The topic name, the endpoint URL, or the group name. */
  name: string;
  state: ItemState;
  /** For people; never parsed. */
  detail: string;
  action?: Action;
  /** Something the user must know or do, even when nothing changes (a pending confirmation). */
  attention?: string;
}

export interface Plan {
  region: string;
  /** The topic ARN when the topic exists already. */
  topicArn?: string;
  items: PlanItem[];
}

export const PENDING_HINT =
  'SNS sends the confirmation request to the webhook, and the reactor confirms it. If salt-api was not serving ' +
  'the rendered reactor yet: render the Salt side (`salt-autoscale render --out /etc/salt`), restart salt-master ' +
  'and salt-api, then run `salt-autoscale provision --resend-confirmation`. `salt-autoscale status` shows when it is ' +
  'confirmed. An unconfirmed subscription receives nothing, and SNS deletes it after 48 hours.';

/** Said when the subscription must wait: the reactor would reject the confirmation of a topic it does not trust. */
export const SUBSCRIBE_LATER_HINT =
  "The subscription waits until the reactor trusts the topic, or SNS's confirmation request would be rejected " +
  '(unknown_topic). Render the Salt side again now that sns.topic_arn is in the config (`salt-autoscale render ' +
  '--out /etc/salt`), restart salt-master and salt-api, then run `salt-autoscale provision` again: it subscribes, ' +
  'and the reactor confirms the subscription.';

/** Said before a subscription is created (dry run): the request goes out at once. */
export const BEFORE_SUBSCRIBE_HINT =
  'SNS sends the confirmation request as soon as the subscription is created, so have salt-api serving the rendered ' +
  'reactor first (`salt-autoscale render`, restart salt-master and salt-api); otherwise re-send it later with ' +
  '`salt-autoscale provision --resend-confirmation`.';

/** Who the topic policy lets publish, for people. */
const publishersText = (desired: DesiredState) =>
  desired.publishers.length
    ? `only Auto Scaling and the ${desired.publishers.length} principal(s) of sns.publishers may publish`
    : 'only Auto Scaling may publish';

/** Whether the Policy attribute SNS returned is the one provision sets. */
function policyInStep(policyText: string | undefined, topicArn: string, desired: DesiredState): boolean {
  if (!policyText) return false;
  try {
    return samePolicy(JSON.parse(policyText), topicPolicy(topicArn, desired.publishers));
  } catch {
    return false;
  }
}

const typeList = (types: string[]) => (types.length ? types.map(shortType).join(', ') : 'none');

/**
 * Groups that are no longer in the config but still notify the topic: their configurations go, as Terraform
 * deletes a resource removed from its config. Only for a topic salt-autoscale manages; on a topic it merely
 * uses, another group's notifications may be someone else's, so they are shown and left alone.
 */
function strayGroupItems(current: CurrentState): PlanItem[] {
  return current.strayGroups.map(
    (g): PlanItem =>
      current.topic?.managed
        ? {
            change: 'delete',
            resource: 'notifications',
            name: g.name,
            state: 'not_in_config',
            detail: `not in the config: remove ${typeList(g.types)}`,
            action: { type: 'DeleteNotificationConfiguration', group: g.name },
          }
        : {
            change: 'unchanged',
            resource: 'notifications',
            name: g.name,
            state: 'not_in_config',
            detail: `not in the config: ${typeList(g.types)}, left alone (the topic is not managed by salt-autoscale)`,
          },
  );
}

export interface ProvisionOptions {
  resendConfirmation?: boolean;
}

export function planProvision(current: CurrentState, desired: DesiredState, opts: ProvisionOptions = {}): Plan {
  const items: PlanItem[] = [];
  const topic = current.topic;

  if (!topic) {
    items.push({
      change: 'create',
      resource: 'topic',
      name: desired.topicName,
      state: 'missing',
      detail: `create, tagged ${MANAGED_TAG.Key}=${MANAGED_TAG.Value}, SignatureVersion ${SIGNATURE_VERSION}`,
      action: {
        type: 'CreateTopic',
        name: desired.topicName,
        attributes: { SignatureVersion: SIGNATURE_VERSION },
        tags: [MANAGED_TAG],
      },
    });
  } else {
    items.push({
      change: 'unchanged',
      resource: 'topic',
      name: desired.topicName,
      state: topic.managed ? 'managed' : 'unmanaged',
      detail: topic.managed
        ? 'exists (managed by salt-autoscale)'
        : `exists, not tagged ${MANAGED_TAG.Key}=${MANAGED_TAG.Value}: used as is, teardown will keep it`,
    });
    if (topic.signatureVersion !== SIGNATURE_VERSION) {
      items.push({
        change: 'update',
        resource: 'topic',
        name: desired.topicName,
        state: 'signature_version',
        detail: `SignatureVersion ${topic.signatureVersion ?? '1 (default)'} -> ${SIGNATURE_VERSION}`,
        action: { type: 'SetTopicAttributes', name: 'SignatureVersion', value: SIGNATURE_VERSION },
      });
    }
  }
  // Without it, any principal of the account with sns:Publish could publish genuinely signed fake events.
  const setPolicy: Action = { type: 'SetTopicPolicy', publishers: [...desired.publishers] };
  if (!topic) {
    items.push({
      change: 'create',
      resource: 'topic',
      name: desired.topicName,
      state: 'missing',
      detail: `policy: ${publishersText(desired)}`,
      action: setPolicy,
    });
  } else if (!policyInStep(topic.policy, topic.arn, desired)) {
    items.push({
      change: 'update',
      resource: 'topic',
      name: desired.topicName,
      state: 'policy_differs',
      detail: `policy is not the one provision sets -> ${publishersText(desired)}`,
      action: setPolicy,
    });
  }

  const sub = current.subscription;
  const subscribe: Action = { type: 'Subscribe', protocol: desired.protocol, endpoint: desired.endpoint };
  if (!sub && !reactorTrustsTopic(desired, topic?.arn)) {
    items.push({
      change: 'blocked',
      resource: 'subscription',
      name: desired.endpoint,
      state: 'awaiting_trust',
      detail: 'not yet: the rendered reactor does not trust this topic (sns.topic_arn)',
      attention: SUBSCRIBE_LATER_HINT,
    });
  } else if (!sub) {
    items.push({
      change: 'create',
      resource: 'subscription',
      name: desired.endpoint,
      state: 'missing',
      detail: `subscribe ${desired.protocol} (SNS sends the confirmation request at once)`,
      action: subscribe,
      attention: BEFORE_SUBSCRIBE_HINT,
    });
  } else if (sub.pending && opts.resendConfirmation) {
    items.push({
      change: 'update',
      resource: 'subscription',
      name: desired.endpoint,
      state: 'pending',
      detail: 're-send the confirmation request (Subscribe again)',
      action: subscribe,
      attention: PENDING_HINT,
    });
  } else if (sub.pending) {
    items.push({
      change: 'unchanged',
      resource: 'subscription',
      name: desired.endpoint,
      state: 'pending',
      detail: 'pending confirmation',
      attention: PENDING_HINT,
    });
  } else {
    items.push({
      change: 'unchanged',
      resource: 'subscription',
      name: desired.endpoint,
      state: 'confirmed',
      detail: 'confirmed',
    });
  }

  for (const g of current.groups) {
    if (!g.exists) {
      items.push({
        change: 'blocked',
        resource: 'notifications',
        name: g.name,
        state: 'no_such_group',
        detail: `no Auto Scaling group named ${g.name} in ${desired.region}`,
      });
      continue;
    }
    const have = new Set(g.types);
    const missing = desired.notificationTypes.filter((t) => !have.has(t));
    const extra = g.types.filter((t) => !desired.notificationTypes.includes(t));
    const put: Action = { type: 'PutNotificationConfiguration', group: g.name, types: [...desired.notificationTypes] };
    if (g.types.length === 0) {
      items.push({
        change: 'create',
        resource: 'notifications',
        name: g.name,
        state: 'missing',
        detail: typeList(desired.notificationTypes),
        action: put,
      });
    } else if (missing.length || extra.length) {
      const parts = [
        missing.length ? `add ${typeList(missing)}` : '',
        extra.length ? `remove ${typeList(extra)}` : '',
      ].filter(Boolean);
      items.push({
        change: 'update',
        resource: 'notifications',
        name: g.name,
        state: 'differs',
        detail: parts.join('; '),
        action: put,
      });
    } else {
      items.push({
        change: 'unchanged',
        resource: 'notifications',
        name: g.name,
        state: 'in_step',
        detail: typeList(g.types),
      });
    }
  }
  items.push(...strayGroupItems(current));
  return { region: desired.region, topicArn: topic?.arn, items };
}

export interface TeardownOptions {
  keepTopic?: boolean;
}

export function planTeardown(current: CurrentState, desired: DesiredState, opts: TeardownOptions = {}): Plan {
  const items: PlanItem[] = [];
  const topic = current.topic;
  if (!topic) {
    items.push({
      change: 'unchanged',
      resource: 'topic',
      name: desired.topicName,
      state: 'missing',
      detail: 'does not exist; nothing to remove',
    });
    return { region: desired.region, items };
  }
  const deleteTopic = !opts.keepTopic && topic.managed;

  for (const g of current.groups) {
    if (!g.exists)
      items.push({
        change: 'unchanged',
        resource: 'notifications',
        name: g.name,
        state: 'no_such_group',
        detail: `no group named ${g.name} in ${desired.region}; nothing to remove`,
      });
    else if (g.types.length === 0)
      items.push({
        change: 'unchanged',
        resource: 'notifications',
        name: g.name,
        state: 'missing',
        detail: 'none for this topic',
      });
    else
      items.push({
        change: 'delete',
        resource: 'notifications',
        name: g.name,
        state: 'present',
        detail: `remove ${typeList(g.types)}`,
        action: { type: 'DeleteNotificationConfiguration', group: g.name },
      });
  }
  items.push(...strayGroupItems(current));

  const sub = current.subscription;
  if (!sub && !reactorTrustsTopic(desired, topic?.arn)) {
    items.push({
      change: 'blocked',
      resource: 'subscription',
      name: desired.endpoint,
      state: 'awaiting_trust',
      detail: 'not yet: the rendered reactor does not trust this topic (sns.topic_arn)',
      attention: SUBSCRIBE_LATER_HINT,
    });
  } else if (!sub) {
    items.push({
      change: 'unchanged',
      resource: 'subscription',
      name: desired.endpoint,
      state: 'missing',
      detail: 'does not exist',
    });
  } else if (!sub.pending) {
    items.push({
      change: 'delete',
      resource: 'subscription',
      name: desired.endpoint,
      state: 'confirmed',
      detail: 'unsubscribe',
      action: { type: 'Unsubscribe', subscriptionArn: sub.arn },
    });
  } else if (deleteTopic) {
    items.push({
      change: 'delete',
      resource: 'subscription',
      name: desired.endpoint,
      state: 'pending',
      detail: 'pending confirmation: goes with the topic',
    });
  } else {
    items.push({
      change: 'blocked',
      resource: 'subscription',
      name: desired.endpoint,
      state: 'pending',
      detail: 'pending confirmation: SNS does not let the API remove a pending subscription',
      attention:
        'It receives nothing until confirmed, and SNS deletes it after 48 hours. (Deleting the topic removes it at once.)',
    });
  }

  if (opts.keepTopic) {
    items.push({
      change: 'unchanged',
      resource: 'topic',
      name: desired.topicName,
      state: 'kept',
      detail: 'kept (--keep-topic)',
    });
  } else if (topic.managed) {
    items.push({
      change: 'delete',
      resource: 'topic',
      name: desired.topicName,
      state: 'managed',
      detail: 'delete (tagged managed-by=salt-autoscale)',
      action: { type: 'DeleteTopic' },
    });
  } else {
    items.push({
      change: 'blocked',
      resource: 'topic',
      name: desired.topicName,
      state: 'unmanaged',
      detail: `not tagged ${MANAGED_TAG.Key}=${MANAGED_TAG.Value}: salt-autoscale did not create it and will not delete it`,
    });
  }
  return { region: desired.region, topicArn: topic.arn, items };
}

export const actionsOf = (plan: Plan) => plan.items.filter((i) => i.action);
