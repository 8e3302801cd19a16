// salt-autoscale iam-policy: print the least-privilege IAM policies (see src/aws/iam.ts).

import { masterPolicy, reconcilePolicy, toolPolicy } from '../aws/iam.js';
import { loadConfig } from '../config/load.js';
import { EXIT, UserError } from '../errors.js';
import { type Io, type Outcome, outcome, type View } from '../io.js';

export interface IamPolicyOptions {
  config: string;
  only?: string;
}

interface Policies {
  only?: 'tool' | 'master' | 'reconcile';
  tool: object;
  /** For the master's role when it runs salt-autoscale reconcile. */
  reconcile: object;
  /** None when no group uses salt-cloud or lifecycle hooks: the master then makes no AWS call. */
  master?: object;
  /** sns.topic_arn is set, so the topic's ARN is exact (else the account is "*"). */
  exact: boolean;
}

const json = (v: unknown) => JSON.stringify(v, null, 2) + '\n';

const policiesView: View<Policies> = {
  text(p) {
    if (p.only) return json(p.only === 'tool' ? p.tool : p.only === 'reconcile' ? p.reconcile : p.master);
    return (
      '# For whoever runs salt-autoscale provision / status / teardown (a user or CI role):\n' +
      json(p.tool) +
      "\n# For the Salt master's instance role (salt-cloud's EC2 driver for bootstrap: salt-cloud groups; the reactor's\n" +
      '# CompleteLifecycleAction and RecordLifecycleActionHeartbeat for groups with lifecycle hooks):\n' +
      (p.master
        ? json(p.master)
        : '# none needed: no group uses bootstrap: salt-cloud or lifecycle hooks (preauth makes no AWS call from the master)\n') +
      "\n# For the Salt master's instance role too, when it runs salt-autoscale reconcile (on a schedule):\n" +
      json(p.reconcile) +
      (p.exact
        ? ''
        : '\n# The account is "*" until provision writes sns.topic_arn; run iam-policy again afterwards for exact ARNs.\n')
    );
  },
};

export async function run(_io: Io, opts: IamPolicyOptions): Promise<Outcome> {
  if (opts.only !== undefined && opts.only !== 'tool' && opts.only !== 'master' && opts.only !== 'reconcile')
    throw new UserError(`--only must be tool, master or reconcile, not ${JSON.stringify(opts.only)}`, EXIT.usage);
  const { config } = await loadConfig(opts.config);
  const policies: Policies = {
    only: opts.only,
    tool: toolPolicy(config),
    master: masterPolicy(config),
    reconcile: reconcilePolicy(config),
    exact: Boolean(config.sns.topic_arn),
  };
  if (opts.only === 'master' && !policies.master)
    throw new UserError(
      'no group uses bootstrap: salt-cloud or lifecycle hooks, so the Salt master needs no AWS permissions for salt-autoscale',
      EXIT.negative,
    );
  return outcome(policiesView, policies);
}
