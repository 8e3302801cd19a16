// Turns what the SDK throws into one clear message per cause, with the exit code the CLI leaves with. The
// wrapper in clients.ts tags every failure with the IAM action of the call, so AccessDenied can name what to
// grant even when AWS's own message does not.
import { EXIT, UserError } from '../errors.js';

/** A failed AWS call: which IAM action, on what, and the SDK's error. */
export class AwsCallError extends Error {
  constructor(
    readonly iamAction: string,
    readonly resource: string | undefined,
    readonly sdkError: unknown,
  ) {
    super(`${iamAction} failed: ${(sdkError as Error)?.message ?? String(sdkError)}`);
    this.name = 'AwsCallError';
  }
}

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number; attempts?: number; requestId?: string };
}

const ACCESS_DENIED = new Set([
  'AuthorizationError',
  'AuthorizationErrorException',
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
]);
const BAD_CREDENTIALS = new Set([
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'ExpiredTokenException',
  'UnrecognizedClientException',
  'InvalidAccessKeyId',
  'InvalidSecurity',
  'InvalidSecurityException',
]);
// Quotas: SNS sends some with HTTP 403, so they must be told apart from AccessDenied before the 403 fallback.
const QUOTA = new Set([
  'TopicLimitExceeded',
  'TopicLimitExceededException',
  'SubscriptionLimitExceeded',
  'SubscriptionLimitExceededException',
  'FilterPolicyLimitExceededException',
  'TagLimitExceededException',
  'LimitExceeded',
  'LimitExceededException',
  'LimitExceededFault',
]);
const THROTTLED = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'RequestThrottled',
]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPROTO',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);

export interface AwsErrorContext {
  region: string;
  endpointLabel: string;
  profile?: string;
  /** The per-attempt time limit, to say what ran out. */
  timeoutMs?: number;
}

/** The user-facing error for anything thrown while talking to AWS. Non-AWS errors are returned unchanged. */
export function toUserError(err: unknown, ctx: AwsErrorContext): unknown {
  if (err instanceof UserError) return err;
  if (!(err instanceof AwsCallError)) return err;
  const e = (err.sdkError ?? {}) as SdkErrorShape;
  const name = e.name ?? e.code ?? 'Error';
  const message = (e.message ?? '').trim();
  const status = e.$metadata?.httpStatusCode;
  const attempts = e.$metadata?.attempts;
  const on = err.resource ? ` on ${err.resource}` : '';

  if (
    name === 'CredentialsProviderError' ||
    /could not load credentials|could not be found or parsed|profile .* not found/i.test(message)
  ) {
    const profile = ctx.profile ? ` (profile ${ctx.profile})` : '';
    return new UserError(
      `no usable AWS credentials${profile}: ${message || name}\n` +
        'Give credentials the way the AWS CLI takes them: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, --profile NAME (or aws.profile in ' +
        'the config) for ~/.aws/config (run `aws sso login` for SSO profiles), or an instance role.',
      EXIT.aws,
    );
  }
  if (QUOTA.has(name)) {
    return new UserError(
      `AWS refused ${err.iamAction}${on} in ${ctx.region}: a quota is reached (${name}${message ? `: ${message}` : ''}).\n` +
        "This is not a permission problem: remove unused resources (topics, subscriptions, a group's other notification topics) " +
        'or ask AWS to raise the quota (Service Quotas), then run the command again.',
      EXIT.aws,
    );
  }
  if (ACCESS_DENIED.has(name) || (status === 403 && !BAD_CREDENTIALS.has(name))) {
    // AWS writes "SNS:CreateTopic" in its message; IAM policies use the lowercase prefix.
    const quoted = /perform:\s*([A-Za-z0-9-]+):([A-Za-z0-9*]+)/.exec(message);
    const named = quoted ? `${quoted[1].toLowerCase()}:${quoted[2]}` : err.iamAction;
    return new UserError(
      `AWS denied ${named}${on} in ${ctx.region} (${name}${message ? `: ${message}` : ''})\n` +
        `Allow ${named} for the credentials in use; \`salt-autoscale iam-policy\` prints the whole least-privilege policy.`,
      EXIT.aws,
    );
  }
  if (BAD_CREDENTIALS.has(name)) {
    return new UserError(
      `AWS rejected the credentials (${name}${message ? `: ${message}` : ''}) while calling ${err.iamAction}.\n` +
        'Check the access key, refresh expired session or SSO credentials, and that the clock of this machine is right.',
      EXIT.aws,
    );
  }
  if (THROTTLED.has(name)) {
    return new UserError(
      `AWS kept throttling ${err.iamAction}${on} after ${attempts ?? 'several'} attempts (${name}). Wait a minute and run the command again; ` +
        'it only does what is still missing. (AWS_MAX_ATTEMPTS raises the number of attempts.)',
      EXIT.aws,
    );
  }
  if (name === 'TimeoutError' || (e as { code?: string }).code === 'ETIMEDOUT') {
    const limit = ctx.timeoutMs ? `${ctx.timeoutMs / 1000} s` : 'the time limit';
    const tries = attempts && attempts > 1 ? ` (${attempts} attempts)` : '';
    return new UserError(
      `${ctx.endpointLabel} did not answer ${err.iamAction} within ${limit}${tries}: check the network, the proxy ` +
        '(HTTPS_PROXY, NO_PROXY) and --endpoint-url / AWS_ENDPOINT_URL*; --aws-timeout SECONDS (or ' +
        'SALT_AUTOSCALE_AWS_TIMEOUT) sets the limit.',
      EXIT.aws,
    );
  }
  const netCode = (e as { code?: string }).code ?? (e as { cause?: { code?: string } }).cause?.code;
  if (
    (netCode && NETWORK_CODES.has(netCode)) ||
    name === 'TimeoutError' ||
    /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|socket hang up/.test(message)
  ) {
    return new UserError(
      `cannot reach ${ctx.endpointLabel} for ${err.iamAction} (${netCode ?? name}${message ? `: ${message}` : ''}).\n` +
        'Check the network, the region, and --endpoint-url / AWS_ENDPOINT_URL* if you set them.',
      EXIT.aws,
    );
  }
  if (e.$fault === 'server' || (status !== undefined && status >= 500)) {
    return new UserError(
      `AWS failed ${err.iamAction}${on} with ${status ?? ''} ${name} after ${attempts ?? 'several'} attempts${message ? `: ${message}` : ''}.\n` +
        'This is on the AWS side; run the command again later: it picks up where this run stopped.',
      EXIT.aws,
    );
  }
  if (name === 'TypeError' && /invalid url/i.test(message)) {
    return new UserError(
      `the AWS endpoint URL is not valid (${message}); check --endpoint-url and AWS_ENDPOINT_URL*`,
      EXIT.usage,
    );
  }
  if (name === 'ValidationError' && /Unable to publish test message/i.test(message)) {
    return new UserError(
      `Auto Scaling could not publish the lifecycle hook's test message${on} in ${ctx.region}: ${message}\n` +
        "The hook's role must trust autoscaling.amazonaws.com and allow sns:Publish on the topic, and the topic policy must " +
        'let it publish (provision sets both for the role it creates; a role named by aws.lifecycle_role_arn needs them ' +
        'from you). A role created seconds ago may not have propagated yet: run provision again in a minute.',
      EXIT.aws,
    );
  }
  return new UserError(`AWS call ${err.iamAction}${on} failed: ${name}${message ? `: ${message}` : ''}`, EXIT.aws);
}
