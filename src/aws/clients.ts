// Builds the SNS and Auto Scaling clients and wraps them into the narrow interfaces of api.ts. The SDK is
// imported here, lazily, so only the AWS commands pay for loading it.
//
// Credentials, region and endpoints follow the SDK's own rules, which already match the AWS CLI:
// the default credential chain (env, profile, SSO, instance role), AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_SNS,
// AWS_ENDPOINT_URL_AUTO_SCALING and `endpoint_url` in a profile are all honoured by the SDK itself; this file
// only adds --endpoint-url (an explicit endpoint for both services), --profile/--region, and clear errors
// for an endpoint URL that does not parse.
import { EXIT, UserError } from '../errors.js';
import type {
  AutoScalingApi,
  AwsClients,
  IamApi,
  LifecycleHook,
  NotificationConfig,
  SnsApi,
  SqsApi,
  SubscriptionSummary,
  Tag,
} from './api.js';
import { AwsCallError } from './errors.js';
import { mapConcurrent } from './pool.js';

export interface AwsClientOptions {
  region: string;
  profile?: string;
  /** --endpoint-url: every call of both services goes there. */
  endpointUrl?: string;
  /** Per-attempt limit to connect and get an answer (transport.ts resolveTimeoutMs). */
  timeoutMs?: number;
}

/** The env variables that the SDK reads for endpoints, most specific first. */
const ENDPOINT_ENV = [
  'AWS_ENDPOINT_URL_SNS',
  'AWS_ENDPOINT_URL_AUTO_SCALING',
  'AWS_ENDPOINT_URL_SQS',
  'AWS_ENDPOINT_URL_IAM',
  'AWS_ENDPOINT_URL',
] as const;

function checkUrl(value: string, where: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UserError(
      `${where} is not a valid URL: ${JSON.stringify(value)}; expected e.g. https://sns.us-east-1.amazonaws.com or http://127.0.0.1:4566`,
      EXIT.usage,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UserError(`${where} must be an http:// or https:// URL, not ${url.protocol}//…`, EXIT.usage);
  }
}

/** Where the calls will go, for messages; throws on an endpoint that cannot work. */
export function resolveEndpointLabel(opts: AwsClientOptions, env: NodeJS.ProcessEnv = process.env): string {
  if (opts.endpointUrl !== undefined) {
    checkUrl(opts.endpointUrl, '--endpoint-url');
    return opts.endpointUrl;
  }
  const set = ENDPOINT_ENV.filter((name) => env[name]);
  for (const name of set) checkUrl(env[name]!, name);
  if (set.length > 0) return set.map((name) => `${env[name]} (${name})`).join(', ');
  return `AWS in ${opts.region}`;
}

/**
 * Retry: the SDK's standard strategy (3 attempts, exponential backoff with jitter; AWS_MAX_ATTEMPTS and
 * AWS_RETRY_MODE apply). SALT_AUTOSCALE_RETRY_BASE_MS swaps in the SDK's ConfiguredRetryStrategy with that
 * base delay, so the test suite does not sleep for a second per injected throttle.
 */
export async function retryConfig(env: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
  const base = env.SALT_AUTOSCALE_RETRY_BASE_MS;
  if (base === undefined || base === '') return {};
  const ms = Number(base);
  if (!Number.isFinite(ms) || ms < 0)
    throw new UserError(`SALT_AUTOSCALE_RETRY_BASE_MS must be a number of milliseconds, not ${JSON.stringify(base)}`);
  const attempts = Number(env.AWS_MAX_ATTEMPTS ?? 3);
  const { ConfiguredRetryStrategy } = await import('@smithy/core/retry');
  return {
    retryStrategy: new ConfiguredRetryStrategy(
      Number.isInteger(attempts) && attempts > 0 ? attempts : 3,
      (attempt: number) => ms * 2 ** (attempt - 1),
    ),
  };
}

export async function call<T>(iamAction: string, resource: string | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new AwsCallError(iamAction, resource, err);
  }
}

const chunk = <T>(items: T[], size: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

/** Group names per DescribeAutoScalingGroups / DescribeNotificationConfigurations call. */
const NAMES_PER_CALL = 50;
/** How many of those batched calls run at once. */
const BATCH_CONCURRENCY = 4;

export async function createAwsClients(
  opts: AwsClientOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<AwsClients> {
  const endpointLabel = resolveEndpointLabel(opts, env);
  // The SDK warns on Node 20 that its releases after January 2027 will need Node 22. This CLI pins its SDK
  // version and supports Node 20, so the warning would only confuse its users; the SDK's own switch turns it off.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const [snsSdk, asSdk, sqsSdk, iamSdk, retry, transport] = await Promise.all([
    import('@aws-sdk/client-sns'),
    import('@aws-sdk/client-auto-scaling'),
    import('@aws-sdk/client-sqs'),
    import('@aws-sdk/client-iam'),
    retryConfig(env),
    import('./transport.js'),
  ]);
  const timeoutMs = opts.timeoutMs ?? transport.resolveTimeoutMs(undefined, env);
  const common = {
    region: opts.region,
    ...(opts.profile ? { profile: opts.profile } : {}),
    ...(opts.endpointUrl ? { endpoint: opts.endpointUrl } : {}),
    // Fail in seconds, not minutes, when an endpoint swallows packets or never answers; proxy and CA bundle.
    requestHandler: transport.requestHandlerConfig(timeoutMs, env),
    ...retry,
  };
  const snsClient = new snsSdk.SNSClient(common);
  const asClient = new asSdk.AutoScalingClient(common);
  const sqsClient = new sqsSdk.SQSClient(common);
  // IAM is global: the SDK's endpoint rules sign for its home region (us-east-1 in the aws partition) themselves.
  const iamClient = new iamSdk.IAMClient(common);
  const propagationDelays = rolePropagationDelays(env);

  const sns: SnsApi = {
    async listTopics() {
      const arns: string[] = [];
      let token: string | undefined;
      do {
        const out = await call('sns:ListTopics', undefined, () =>
          snsClient.send(new snsSdk.ListTopicsCommand({ NextToken: token })),
        );
        for (const t of out.Topics ?? []) if (t.TopicArn) arns.push(t.TopicArn);
        token = out.NextToken;
      } while (token);
      return arns;
    },
    async createTopic(name, attributes, tags) {
      const out = await call('sns:CreateTopic', name, () =>
        snsClient.send(new snsSdk.CreateTopicCommand({ Name: name, Attributes: attributes, Tags: tags })),
      );
      if (!out.TopicArn) throw new AwsCallError('sns:CreateTopic', name, new Error('CreateTopic returned no TopicArn'));
      return out.TopicArn;
    },
    async getTopicAttributes(topicArn) {
      const out = await call('sns:GetTopicAttributes', topicArn, () =>
        snsClient.send(new snsSdk.GetTopicAttributesCommand({ TopicArn: topicArn })),
      );
      return out.Attributes ?? {};
    },
    async setTopicAttribute(topicArn, name, value) {
      await call('sns:SetTopicAttributes', topicArn, () =>
        snsClient.send(
          new snsSdk.SetTopicAttributesCommand({ TopicArn: topicArn, AttributeName: name, AttributeValue: value }),
        ),
      );
    },
    async listTags(topicArn) {
      const out = await call('sns:ListTagsForResource', topicArn, () =>
        snsClient.send(new snsSdk.ListTagsForResourceCommand({ ResourceArn: topicArn })),
      );
      return (out.Tags ?? []).map((t): Tag => ({ Key: t.Key ?? '', Value: t.Value ?? '' }));
    },
    async listSubscriptions(topicArn) {
      const subs: SubscriptionSummary[] = [];
      let token: string | undefined;
      do {
        const out = await call('sns:ListSubscriptionsByTopic', topicArn, () =>
          snsClient.send(new snsSdk.ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken: token })),
        );
        for (const s of out.Subscriptions ?? []) {
          subs.push({ arn: s.SubscriptionArn ?? '', protocol: s.Protocol ?? '', endpoint: s.Endpoint ?? '' });
        }
        token = out.NextToken;
      } while (token);
      return subs;
    },
    async subscribe(topicArn, protocol, endpoint, attributes) {
      const out = await call('sns:Subscribe', topicArn, () =>
        snsClient.send(
          new snsSdk.SubscribeCommand({
            TopicArn: topicArn,
            Protocol: protocol,
            Endpoint: endpoint,
            ReturnSubscriptionArn: true,
            Attributes: attributes,
          }),
        ),
      );
      return out.SubscriptionArn ?? '';
    },
    async getSubscriptionAttributes(subscriptionArn) {
      const out = await call('sns:GetSubscriptionAttributes', subscriptionArn, () =>
        snsClient.send(new snsSdk.GetSubscriptionAttributesCommand({ SubscriptionArn: subscriptionArn })),
      );
      return out.Attributes ?? {};
    },
    async setSubscriptionAttribute(subscriptionArn, name, value) {
      await call('sns:SetSubscriptionAttributes', subscriptionArn, () =>
        snsClient.send(
          new snsSdk.SetSubscriptionAttributesCommand({
            SubscriptionArn: subscriptionArn,
            AttributeName: name,
            AttributeValue: value,
          }),
        ),
      );
    },
    async unsubscribe(subscriptionArn) {
      await call('sns:Unsubscribe', subscriptionArn, () =>
        snsClient.send(new snsSdk.UnsubscribeCommand({ SubscriptionArn: subscriptionArn })),
      );
    },
    async deleteTopic(topicArn) {
      await call('sns:DeleteTopic', topicArn, () =>
        snsClient.send(new snsSdk.DeleteTopicCommand({ TopicArn: topicArn })),
      );
    },
  };

  const describeGroupPages = async (names: string[] | undefined): Promise<string[]> => {
    const found: string[] = [];
    let token: string | undefined;
    do {
      const out = await call('autoscaling:DescribeAutoScalingGroups', undefined, () =>
        asClient.send(
          new asSdk.DescribeAutoScalingGroupsCommand({
            AutoScalingGroupNames: names,
            MaxRecords: 100,
            NextToken: token,
            IncludeInstances: false,
          }),
        ),
      );
      for (const g of out.AutoScalingGroups ?? []) if (g.AutoScalingGroupName) found.push(g.AutoScalingGroupName);
      token = out.NextToken;
    } while (token);
    return found;
  };

  const describeNotificationPages = async (names: string[] | undefined): Promise<NotificationConfig[]> => {
    const configs: NotificationConfig[] = [];
    let token: string | undefined;
    do {
      const out = await call('autoscaling:DescribeNotificationConfigurations', undefined, () =>
        asClient.send(
          new asSdk.DescribeNotificationConfigurationsCommand({
            AutoScalingGroupNames: names,
            MaxRecords: 100,
            NextToken: token,
          }),
        ),
      );
      for (const n of out.NotificationConfigurations ?? []) {
        configs.push({
          group: n.AutoScalingGroupName ?? '',
          topicArn: n.TopicARN ?? '',
          type: n.NotificationType ?? '',
        });
      }
      token = out.NextToken;
    } while (token);
    return configs;
  };

  const autoscaling: AutoScalingApi = {
    async describeGroups(names) {
      if (names.length === 0) return [];
      const pages = await mapConcurrent(chunk(names, NAMES_PER_CALL), BATCH_CONCURRENCY, (batch) =>
        describeGroupPages(batch),
      );
      return pages.flat();
    },
    listAllGroups: () => describeGroupPages(undefined),
    listAllNotifications: () => describeNotificationPages(undefined),
    async putNotifications(group, topicArn, types) {
      await call('autoscaling:PutNotificationConfiguration', group, () =>
        asClient.send(
          new asSdk.PutNotificationConfigurationCommand({
            AutoScalingGroupName: group,
            TopicARN: topicArn,
            NotificationTypes: types,
          }),
        ),
      );
    },
    async deleteNotifications(group, topicArn) {
      await call('autoscaling:DeleteNotificationConfiguration', group, () =>
        asClient.send(
          new asSdk.DeleteNotificationConfigurationCommand({ AutoScalingGroupName: group, TopicARN: topicArn }),
        ),
      );
    },
    async describeLifecycleHooks(group) {
      const out = await call('autoscaling:DescribeLifecycleHooks', group, () =>
        asClient.send(new asSdk.DescribeLifecycleHooksCommand({ AutoScalingGroupName: group })),
      );
      return (out.LifecycleHooks ?? []).map(
        (h): LifecycleHook => ({
          group: h.AutoScalingGroupName ?? group,
          name: h.LifecycleHookName ?? '',
          transition: h.LifecycleTransition ?? '',
          targetArn: h.NotificationTargetARN,
          roleArn: h.RoleARN,
          metadata: h.NotificationMetadata,
          heartbeatTimeout: h.HeartbeatTimeout ?? 3600,
          defaultResult: h.DefaultResult ?? 'ABANDON',
        }),
      );
    },
    async putLifecycleHook(h) {
      const put = () =>
        call('autoscaling:PutLifecycleHook', h.group, () =>
          asClient.send(
            new asSdk.PutLifecycleHookCommand({
              AutoScalingGroupName: h.group,
              LifecycleHookName: h.name,
              LifecycleTransition: h.transition,
              NotificationTargetARN: h.targetArn,
              RoleARN: h.roleArn,
              NotificationMetadata: h.metadata,
              HeartbeatTimeout: h.heartbeatTimeout,
              DefaultResult: h.defaultResult,
            }),
          ),
        );
      // A role IAM created seconds ago may not be assumable by Auto Scaling yet: PutLifecycleHook's test
      // publication then fails as for a role that cannot publish. Wait and try again, a bounded number of times.
      for (const delay of propagationDelays) {
        try {
          await put();
          return;
        } catch (err) {
          if (!isTestPublicationFailure(err)) throw err;
          await new Promise((r) => setTimeout(r, delay));
        }
      }
      await put();
    },
    async deleteLifecycleHook(group, name) {
      await call('autoscaling:DeleteLifecycleHook', group, () =>
        asClient.send(new asSdk.DeleteLifecycleHookCommand({ AutoScalingGroupName: group, LifecycleHookName: name })),
      );
    },
  };

  const noSuchEntity = (err: unknown) =>
    err instanceof AwsCallError && (err.sdkError as { name?: string })?.name === 'NoSuchEntityException';
  const iam: IamApi = {
    async getRole(name) {
      try {
        const out = await call('iam:GetRole', name, () =>
          iamClient.send(new iamSdk.GetRoleCommand({ RoleName: name })),
        );
        return {
          arn: out.Role?.Arn ?? '',
          tags: (out.Role?.Tags ?? []).map((t): Tag => ({ Key: t.Key ?? '', Value: t.Value ?? '' })),
        };
      } catch (err) {
        if (noSuchEntity(err)) return undefined;
        throw err;
      }
    },
    async getRolePolicy(role, policy) {
      try {
        const out = await call('iam:GetRolePolicy', role, () =>
          iamClient.send(new iamSdk.GetRolePolicyCommand({ RoleName: role, PolicyName: policy })),
        );
        // IAM returns policy documents URL-encoded (RFC 3986).
        return out.PolicyDocument === undefined ? undefined : decodeURIComponent(out.PolicyDocument);
      } catch (err) {
        if (noSuchEntity(err)) return undefined;
        throw err;
      }
    },
    async createRole(name, trustPolicy, description, tags) {
      const out = await call('iam:CreateRole', name, () =>
        iamClient.send(
          new iamSdk.CreateRoleCommand({
            RoleName: name,
            AssumeRolePolicyDocument: trustPolicy,
            Description: description,
            Tags: tags,
          }),
        ),
      );
      return out.Role?.Arn ?? '';
    },
    async putRolePolicy(role, policy, document) {
      await call('iam:PutRolePolicy', role, () =>
        iamClient.send(
          new iamSdk.PutRolePolicyCommand({ RoleName: role, PolicyName: policy, PolicyDocument: document }),
        ),
      );
    },
    async listRolePolicies(role) {
      const out = await call('iam:ListRolePolicies', role, () =>
        iamClient.send(new iamSdk.ListRolePoliciesCommand({ RoleName: role })),
      );
      return out.PolicyNames ?? [];
    },
    async deleteRolePolicy(role, policy) {
      await call('iam:DeleteRolePolicy', role, () =>
        iamClient.send(new iamSdk.DeleteRolePolicyCommand({ RoleName: role, PolicyName: policy })),
      );
    },
    async deleteRole(name) {
      await call('iam:DeleteRole', name, () => iamClient.send(new iamSdk.DeleteRoleCommand({ RoleName: name })));
    },
  };

  const sqs: SqsApi = {
    async getQueueUrl(name) {
      try {
        const out = await call('sqs:GetQueueUrl', name, () =>
          sqsClient.send(new sqsSdk.GetQueueUrlCommand({ QueueName: name })),
        );
        return out.QueueUrl;
      } catch (err) {
        // No queue of that name: SQS's answer to "does it exist?".
        if (err instanceof AwsCallError && (err.sdkError as { name?: string })?.name === 'QueueDoesNotExist')
          return undefined;
        throw err;
      }
    },
    async createQueue(name, attributes, tags) {
      const out = await call('sqs:CreateQueue', name, () =>
        sqsClient.send(new sqsSdk.CreateQueueCommand({ QueueName: name, Attributes: attributes, tags })),
      );
      if (!out.QueueUrl) throw new AwsCallError('sqs:CreateQueue', name, new Error('CreateQueue returned no QueueUrl'));
      return out.QueueUrl;
    },
    async getQueueAttributes(queueUrl) {
      const out = await call('sqs:GetQueueAttributes', queueUrl, () =>
        sqsClient.send(new sqsSdk.GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] })),
      );
      return out.Attributes ?? {};
    },
    async setQueueAttributes(queueUrl, attributes) {
      await call('sqs:SetQueueAttributes', queueUrl, () =>
        sqsClient.send(new sqsSdk.SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: attributes })),
      );
    },
    async listQueueTags(queueUrl) {
      const out = await call('sqs:ListQueueTags', queueUrl, () =>
        sqsClient.send(new sqsSdk.ListQueueTagsCommand({ QueueUrl: queueUrl })),
      );
      return out.Tags ?? {};
    },
    async deleteQueue(queueUrl) {
      await call('sqs:DeleteQueue', queueUrl, () =>
        sqsClient.send(new sqsSdk.DeleteQueueCommand({ QueueUrl: queueUrl })),
      );
    },
  };

  return { region: opts.region, endpointLabel, timeoutMs, sns, autoscaling, sqs, iam };
}

/** Auto Scaling could not publish PutLifecycleHook's test message as the hook's role (ValidationError). */
export function isTestPublicationFailure(err: unknown): boolean {
  const e = err instanceof AwsCallError ? (err.sdkError as { name?: string; message?: string }) : undefined;
  return e?.name === 'ValidationError' && /Unable to publish test message/i.test(e.message ?? '');
}

/**
 * The waits between PutLifecycleHook attempts while a new role propagates: 1, 2, 4, 8, 8, 8 s (31 s in all; IAM
 * usually takes a few seconds). SALT_AUTOSCALE_RETRY_BASE_MS scales them, as it does the SDK's retries.
 */
function rolePropagationDelays(env: NodeJS.ProcessEnv): number[] {
  const base = Number(env.SALT_AUTOSCALE_RETRY_BASE_MS || 1000);
  const ms = Number.isFinite(base) && base >= 0 ? base : 1000;
  return [1, 2, 4, 8, 8, 8].map((f) => f * ms);
}

/** Every Auto Scaling group name in the region, sorted (for `init`'s picker). */
export async function listGroupNames(clients: Pick<AwsClients, 'autoscaling'>): Promise<string[]> {
  return (await clients.autoscaling.listAllGroups()).sort((a, b) => a.localeCompare(b));
}
