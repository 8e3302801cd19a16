// The narrow slice of SNS and Auto Scaling that salt-autoscale uses. Everything above this file (read, plan,
// apply, the commands) talks to these interfaces, never to the SDK, so the logic stays small and testable and
// the IAM policy (iam.ts) can list exactly these calls.

export interface Tag {
  Key: string;
  Value: string;
}

export interface SubscriptionSummary {
  /** The subscription ARN, or "PendingConfirmation" while the endpoint has not confirmed it. */
  arn: string;
  protocol: string;
  endpoint: string;
}

export interface NotificationConfig {
  group: string;
  topicArn: string;
  type: string;
}

export interface SnsApi {
  /** Every topic ARN in the region (ListTopics, all pages). */
  listTopics(): Promise<string[]>;
  createTopic(name: string, attributes: Record<string, string>, tags: Tag[]): Promise<string>;
  getTopicAttributes(topicArn: string): Promise<Record<string, string>>;
  setTopicAttribute(topicArn: string, name: string, value: string): Promise<void>;
  listTags(topicArn: string): Promise<Tag[]>;
  /** Every subscription of the topic (ListSubscriptionsByTopic, all pages). */
  listSubscriptions(topicArn: string): Promise<SubscriptionSummary[]>;
  /** Subscribe with ReturnSubscriptionArn: the real ARN even while confirmation is pending. */
  subscribe(topicArn: string, protocol: string, endpoint: string, attributes?: Record<string, string>): Promise<string>;
  getSubscriptionAttributes(subscriptionArn: string): Promise<Record<string, string>>;
  setSubscriptionAttribute(subscriptionArn: string, name: string, value: string): Promise<void>;
  unsubscribe(subscriptionArn: string): Promise<void>;
  deleteTopic(topicArn: string): Promise<void>;
}

export interface AutoScalingApi {
  /** The groups among `names` that exist (DescribeAutoScalingGroups, batched and paged). */
  describeGroups(names: string[]): Promise<string[]>;
  /** Every group name in the region (DescribeAutoScalingGroups with no filter, all pages). */
  listAllGroups(): Promise<string[]>;
  /** Every notification configuration in the region (DescribeNotificationConfigurations without a filter, paged). */
  listAllNotifications(): Promise<NotificationConfig[]>;
  putNotifications(group: string, topicArn: string, types: string[]): Promise<void>;
  deleteNotifications(group: string, topicArn: string): Promise<void>;
  /** The group's lifecycle hooks (DescribeLifecycleHooks). */
  describeLifecycleHooks(group: string): Promise<LifecycleHook[]>;
  /** PutLifecycleHook, retried while Auto Scaling cannot yet publish as a freshly created role. */
  putLifecycleHook(hook: LifecycleHookInput): Promise<void>;
  deleteLifecycleHook(group: string, name: string): Promise<void>;
}

export interface LifecycleHook {
  group: string;
  name: string;
  transition: string;
  targetArn?: string;
  roleArn?: string;
  metadata?: string;
  heartbeatTimeout: number;
  defaultResult: string;
}

export interface LifecycleHookInput {
  group: string;
  name: string;
  transition: string;
  targetArn: string;
  roleArn: string;
  metadata: string;
  heartbeatTimeout: number;
  defaultResult: string;
}

/** The slice of IAM for the hooks' role. */
export interface IamApi {
  /** The role, or undefined when there is none of that name (NoSuchEntity). */
  getRole(name: string): Promise<{ arn: string; tags: Tag[] } | undefined>;
  /** The inline policy's document (decoded JSON text), or undefined when the role has none of that name. */
  getRolePolicy(role: string, policy: string): Promise<string | undefined>;
  createRole(name: string, trustPolicy: string, description: string, tags: Tag[]): Promise<string>;
  putRolePolicy(role: string, policy: string, document: string): Promise<void>;
  listRolePolicies(role: string): Promise<string[]>;
  deleteRolePolicy(role: string, policy: string): Promise<void>;
  deleteRole(name: string): Promise<void>;
}

/** The dead-letter queue's slice of SQS. */
export interface SqsApi {
  /** The queue's URL, or undefined when there is no queue of that name (GetQueueUrl). */
  getQueueUrl(name: string): Promise<string | undefined>;
  createQueue(name: string, attributes: Record<string, string>, tags: Record<string, string>): Promise<string>;
  getQueueAttributes(queueUrl: string): Promise<Record<string, string>>;
  setQueueAttributes(queueUrl: string, attributes: Record<string, string>): Promise<void>;
  listQueueTags(queueUrl: string): Promise<Record<string, string>>;
  deleteQueue(queueUrl: string): Promise<void>;
}

export interface AwsClients {
  region: string;
  /** Where the calls go: "AWS" or the overriding endpoint URL(s), for messages. */
  endpointLabel: string;
  /** The per-attempt time limit in ms, for messages. */
  timeoutMs: number;
  sns: SnsApi;
  autoscaling: AutoScalingApi;
  sqs: SqsApi;
  iam: IamApi;
}
