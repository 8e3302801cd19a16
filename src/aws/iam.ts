// The least-privilege IAM policies: one for whoever runs provision/status/teardown, one for the Salt
// master's role (salt-cloud's EC2 driver, when a group bootstraps with salt-cloud and an instance_id).
// Resource scoping follows the Service Authorization Reference: ListTopics, Unsubscribe and the Auto Scaling
// Describe* calls take no resource ARN ("*"); the topic calls are scoped to the one topic; the notification
// writes to the configured groups.
import type { Config } from '../config/types.js';
import { dlqNameFor } from './desired.js';

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
        Sid: 'ManageTheDeadLetterQueue',
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
        Resource: `arn:${p}:sqs:${region}:${account}:${dlqNameFor(config.sns.topic_name)}`,
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
        Resource: Object.keys(config.groups).map(
          (g) => `arn:${p}:autoscaling:${region}:${account}:autoScalingGroup:*:autoScalingGroupName/${g}`,
        ),
      },
    ],
  };
}

/**
 * The master's role, for salt-cloud's EC2 `create` with an instance_id (the instance exists already): it
 * waits for the address with DescribeInstances and sets the Name tag (CreateTags, checked with DescribeTags).
 * CreateTags is limited to instances that Auto Scaling tagged with one of the configured groups. Returns
 * undefined when no group uses salt-cloud (preauth needs no AWS call from the master).
 */
export function masterPolicy(config: Config): PolicyDocument | undefined {
  const groups = Object.entries(config.groups)
    .filter(([, g]) => g.bootstrap === 'salt-cloud')
    .map(([name]) => name);
  if (groups.length === 0) return undefined;
  const region = config.cloud_provider.location ?? config.aws.region;
  const p = partitionOf(region);
  return {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'FindInstances', Effect: 'Allow', Action: ['ec2:DescribeInstances', 'ec2:DescribeTags'], Resource: '*' },
      {
        Sid: 'NameGroupInstances',
        Effect: 'Allow',
        Action: ['ec2:CreateTags'],
        Resource: `arn:${p}:ec2:${region}:${accountOf(config)}:instance/*`,
        Condition: { StringEquals: { 'aws:ResourceTag/aws:autoscaling:groupName': groups } },
      },
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
