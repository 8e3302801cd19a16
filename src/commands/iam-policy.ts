// salt-autoscale iam-policy: print the least-privilege IAM policies (see src/aws/iam.ts).

import { masterPolicy, toolPolicy } from '../aws/iam.js';
import { loadConfig } from '../config/load.js';
import { EXIT, UserError } from '../errors.js';

export interface IamPolicyOptions {
  config: string;
  only?: string;
}

export async function run(opts: IamPolicyOptions): Promise<number> {
  const { config } = await loadConfig(opts.config);
  const tool = toolPolicy(config);
  const master = masterPolicy(config);
  const json = (v: unknown) => JSON.stringify(v, null, 2) + '\n';
  if (opts.only === 'tool') {
    process.stdout.write(json(tool));
    return EXIT.ok;
  }
  if (opts.only === 'master') {
    if (!master)
      throw new UserError(
        'no group uses bootstrap: salt-cloud, so the Salt master needs no AWS permissions for salt-autoscale',
        EXIT.negative,
      );
    process.stdout.write(json(master));
    return EXIT.ok;
  }
  if (opts.only !== undefined)
    throw new UserError(`--only must be tool or master, not ${JSON.stringify(opts.only)}`, EXIT.usage);
  process.stdout.write('# For whoever runs salt-autoscale provision / status / teardown (a user or CI role):\n');
  process.stdout.write(json(tool));
  process.stdout.write(
    "\n# For the Salt master's instance role (salt-cloud's EC2 driver, bootstrap: salt-cloud groups):\n",
  );
  process.stdout.write(
    master
      ? json(master)
      : '# none needed: no group uses bootstrap: salt-cloud (preauth makes no AWS call from the master)\n',
  );
  if (!config.sns.topic_arn)
    process.stdout.write(
      '\n# The account is "*" until provision writes sns.topic_arn; run iam-policy again afterwards for exact ARNs.\n',
    );
  return EXIT.ok;
}
