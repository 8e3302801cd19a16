// The least-privilege IAM policies: one for whoever runs provision/status/teardown, one for the Salt
// master's role (salt-cloud's EC2 driver, when a group bootstraps with salt-cloud and an instance_id).
// Resource scoping follows the Service Authorization Reference: ListTopics, Unsubscribe and the Auto Scaling
// Describe* calls take no resource ARN ("*"); the topic calls are scoped to the one topic; the notification
// writes to the configured groups.
import { type Config, masterQueueName } from '../config/types.js';
import { dlqNameFor } from './desired.js';
import { desiredLifecycle } from './lifecycle.js';

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** The account id from sns.topic_arn once provision has written it; "*" before that. */
function accountOf(config: Config): string {
  return config.sns.topic_arn?.split(':')[4] ?? '*';
}

/** The dead-letter queue and, with delivery sqs, every master's queue (provision manages them all). */
function managedQueueArns(config: Config, p: string, region: string, account: string): string[] {
  const names = [
    dlqNameFor(config.sns.topic_name),
    ...(config.delivery.mode === 'sqs' ? Object.keys(config.masters).map((m) => masterQueueName(config, m)) : []),
  ];
  return names.map((n) => `arn:${p}:sqs:${region}:${account}:${n}`);
}

const groupArn = (p: string, region: string, account: string, group: string) =>
  `arn:${p}:autoscaling:${region}:${account}:autoScalingGroup:*:autoScalingGroupName/${group}`;

/**
 * With lifecycle hooks: reading and writing them on those groups, the role provision creates (or, for a role the
 * config names, only passing it to Auto Scaling: PutLifecycleHook with a RoleARN needs iam:PassRole).
 */
function lifecycleStatements(config: Config, p: string, region: string, account: string): PolicyStatement[] {
  const { groups, role } = desiredLifecycle(config);
  if (!role) return [];
  const roleArn = 'arn' in role ? role.arn : `arn:${p}:iam::${account}:role/${role.name}`;
  return [
    {
      Sid: 'ReadLifecycleHooks',
      Effect: 'Allow',
      Action: ['autoscaling:DescribeLifecycleHooks'],
      Resource: '*',
    },
    {
      Sid: 'GroupLifecycleHooks',
      Effect: 'Allow',
      Action: ['autoscaling:PutLifecycleHook', 'autoscaling:DeleteLifecycleHook'],
      Resource: groups.map((g) => groupArn(p, region, account, g)),
    },
    ...('arn' in role
      ? []
      : [
          {
            Sid: 'ManageTheHooksRole',
            Effect: 'Allow' as const,
            // iam:TagRole is needed as well to tag the role when CreateRole creates it.
            Action: [
              'iam:GetRole',
              'iam:CreateRole',
              'iam:TagRole',
              'iam:GetRolePolicy',
              'iam:PutRolePolicy',
              'iam:ListRolePolicies',
              'iam:DeleteRolePolicy',
              'iam:DeleteRole',
            ],
            Resource: roleArn,
          },
        ]),
    {
      Sid: 'PassTheHooksRoleToAutoScaling',
      Effect: 'Allow',
      Action: ['iam:PassRole'],
      Resource: roleArn,
      Condition: { StringEquals: { 'iam:PassedToService': 'autoscaling.amazonaws.com' } },
    },
  ];
}

export function toolPolicy(config: Config, region = config.aws.region): PolicyDocument {
  const p = partitionOf(region);
  const account = accountOf(config);
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'FindTopicAndRemoveSubscription',
        Effect: 'Allow',
        // The subscription calls take no resource ARN (a subscription is not an IAM resource type).
        Action: ['sns:ListTopics', 'sns:Unsubscribe', 'sns:GetSubscriptionAttributes', 'sns:SetSubscriptionAttributes'],
        Resource: '*',
      },
      {
        Sid: 'ManageTheTopic',
        Effect: 'Allow',
        // sns:TagResource is needed as well to tag the topic when CreateTopic creates it.
        Action: [
          'sns:CreateTopic',
          'sns:TagResource',
          'sns:ListTagsForResource',
          'sns:GetTopicAttributes',
          'sns:SetTopicAttributes',
          'sns:ListSubscriptionsByTopic',
          'sns:Subscribe',
          'sns:DeleteTopic',
        ],
        Resource: `arn:${p}:sns:${region}:${account}:${config.sns.topic_name}`,
      },
      {
        Sid: 'ManageTheQueues',
        Effect: 'Allow',
        // sqs:TagQueue is needed as well to tag the queue when CreateQueue creates it.
        Action: [
          'sqs:GetQueueUrl',
          'sqs:CreateQueue',
          'sqs:TagQueue',
          'sqs:ListQueueTags',
          'sqs:GetQueueAttributes',
          'sqs:SetQueueAttributes',
          'sqs:DeleteQueue',
        ],
        Resource: ((arns) => (arns.length === 1 ? arns[0] : arns))(managedQueueArns(config, p, region, account)),
      },
      {
        Sid: 'ReadGroups',
        Effect: 'Allow',
        Action: ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeNotificationConfigurations'],
        Resource: '*',
      },
      {
        Sid: 'GroupNotifications',
        Effect: 'Allow',
        Action: ['autoscaling:PutNotificationConfiguration', 'autoscaling:DeleteNotificationConfiguration'],
        Resource: Object.keys(config.groups).map((g) => groupArn(p, region, account, g)),
      },
      ...lifecycleStatements(config, p, region, account),
    ],
  };
}

/**
 * The master's role. For salt-cloud's EC2 `create` with an instance_id (the instance exists already): it
 * waits for the address with DescribeInstances and sets the Name tag (CreateTags, checked with DescribeTags).
 * CreateTags is limited to instances that Auto Scaling tagged with one of the configured groups. For lifecycle
 * hooks: the reactor completes the actions and sends heartbeats, on the groups with hooks only. For delivery sqs:
 * the engine receives and deletes on its master's queue (`master`, or every master's). Returns undefined when
 * none applies (preauth over a webhook needs no AWS call from the master).
 */
export function masterPolicy(config: Config, master?: string): PolicyDocument | undefined {
  const groups = Object.entries(config.groups)
    .filter(([, g]) => g.bootstrap === 'salt-cloud')
    .map(([name]) => name);
  const hooked = [...new Set(desiredLifecycle(config).hooks.map((h) => h.group))];
  const sqs = config.delivery.mode === 'sqs';
  if (groups.length === 0 && hooked.length === 0 && !sqs) return undefined;
  const region = config.cloud_provider.location ?? config.aws.region;
  const p = partitionOf(region);
  const hooksRegion = config.aws.region;
  const hp = partitionOf(hooksRegion);
  return {
    Version: '2012-10-17',
    Statement: [
      ...(groups.length
        ? [
            {
              Sid: 'FindInstances',
              Effect: 'Allow' as const,
              Action: ['ec2:DescribeInstances', 'ec2:DescribeTags'],
              Resource: '*',
            },
            {
              Sid: 'NameGroupInstances',
              Effect: 'Allow' as const,
              Action: ['ec2:CreateTags'],
              Resource: `arn:${p}:ec2:${region}:${accountOf(config)}:instance/*`,
              Condition: { StringEquals: { 'aws:ResourceTag/aws:autoscaling:groupName': groups } },
            },
          ]
        : []),
      ...(hooked.length
        ? [
            {
              Sid: 'CompleteLifecycleActions',
              Effect: 'Allow' as const,
              Action: ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'],
              Resource: hooked.map((g) => groupArn(hp, hooksRegion, accountOf(config), g)),
            },
          ]
        : []),
      ...(sqs
        ? [
            {
              Sid: 'ReadThisMastersQueue',
              Effect: 'Allow' as const,
              // The engine receives and deletes; nothing else. SSE-SQS needs no KMS permission.
              Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage'],
              Resource: (master ? [master] : Object.keys(config.masters)).map(
                (m) => `arn:${hp}:sqs:${hooksRegion}:${accountOf(config)}:${masterQueueName(config, m)}`,
              ),
            },
          ]
        : []),
    ],
  };
}

/**
 * The master's role for `salt-autoscale reconcile` (run on the master): read the configured groups' instances
 * and EC2's state of other ids (neither takes a resource ARN: the Service Authorization Reference lists
 * DescribeAutoScalingGroups and DescribeInstances with "*" only), and handle the dead-letter queue's messages.
 */
export function reconcilePolicy(config: Config, region = config.aws.region): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ReconcileReadsTheFleet',
        Effect: 'Allow',
        Action: ['autoscaling:DescribeAutoScalingGroups', 'ec2:DescribeInstances'],
        Resource: '*',
      },
      {
        Sid: 'ReconcileHandlesTheDeadLetters',
        Effect: 'Allow',
        Action: ['sqs:GetQueueUrl', 'sqs:ReceiveMessage', 'sqs:DeleteMessage'],
        Resource: `arn:${partitionOf(region)}:sqs:${region}:${accountOf(config)}:${dlqNameFor(config.sns.topic_name)}`,
      },
    ],
  };
}
