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
  // The same clients (and paging) as provision; loaded only now, so init without discovery never pays for them.
  const { createAwsClients, listGroupNames: listAll } = await import('../aws/clients.js');
  const clients = await createAwsClients({ region, profile, endpointUrl: endpoint });
  let timer: NodeJS.Timeout | undefined;
  // Credential resolution does not always honour an abort signal: race the whole lookup against a timer.
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${LOOKUP_TIMEOUT_MS / 1000} s`)), LOOKUP_TIMEOUT_MS);
  });
  try {
    return await Promise.race([listAll(clients), timedOut]);
  } finally {
    clearTimeout(timer);
  }
};

/** One line saying why the lookup failed, without stack or request ids. */
export function lookupFailureReason(err: unknown): string {
  // The clients wrap SDK errors with the IAM action (AwsCallError); the SDK's own error says more here.
  const e = ((err as { sdkError?: unknown })?.sdkError ?? err) as { name?: string; message?: string };
  const message = (e?.message ?? String(err)).split('\n')[0];
  return e?.name && e.name !== 'Error' ? `${e.name}: ${message}` : message;
}
