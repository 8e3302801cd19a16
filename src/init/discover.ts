// Lists the Auto Scaling groups of a region so the interview can offer them as a checklist. The SDK is
// imported here on demand only (init without discovery, and every other command, never load it). Endpoint
// overrides work as in the AWS CLI: `endpoint` (--endpoint-url), else the SDK's own AWS_ENDPOINT_URL_AUTO_SCALING
// and AWS_ENDPOINT_URL variables.

export interface GroupLookup {
  region: string;
  profile?: string;
  endpoint?: string;
}

/** Injected into the interview so tests can stand in for AWS. Rejects when AWS cannot be asked. */
export type ListGroupNames = (lookup: GroupLookup) => Promise<string[]>;

/** Give up after this long: a missing network or credential chain must not stall the interview. */
const LOOKUP_TIMEOUT_MS = 15_000;

export const listGroupNames: ListGroupNames = async ({ region, profile, endpoint }) => {
  // On Node 20 the SDK prints a multi-line notice about its own future Node support; in the middle of an
  // interview that reads like an error. The user's explicit setting wins.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { AutoScalingClient, DescribeAutoScalingGroupsCommand } = await import('@aws-sdk/client-auto-scaling');
  const client = new AutoScalingClient({ region, profile, ...(endpoint ? { endpoint } : {}), maxAttempts: 2 });
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), LOOKUP_TIMEOUT_MS);
  try {
    const names: string[] = [];
    let nextToken: string | undefined;
    const timedOut = new Promise<never>((_, reject) =>
      abort.signal.addEventListener('abort', () => reject(new Error(`no answer within ${LOOKUP_TIMEOUT_MS / 1000} s`))),
    );
    do {
      // Credential resolution does not always honour abortSignal, hence the race as well.
      const page = await Promise.race([
        client.send(new DescribeAutoScalingGroupsCommand({ NextToken: nextToken, MaxRecords: 100 }), { abortSignal: abort.signal }),
        timedOut,
      ]);
      for (const group of page.AutoScalingGroups ?? []) if (group.AutoScalingGroupName) names.push(group.AutoScalingGroupName);
      nextToken = page.NextToken;
    } while (nextToken);
    return [...new Set(names)].sort();
  } finally {
    clearTimeout(timer);
    client.destroy();
  }
};

/** One line saying why the lookup failed, without stack or request ids. */
export function lookupFailureReason(err: unknown): string {
  const e = err as { name?: string; message?: string };
  const message = (e?.message ?? String(err)).split('\n')[0];
  return e?.name && e.name !== 'Error' ? `${e.name}: ${message}` : message;
}
