// The fleet as reconcile sees it: which instances the configured groups hold (Auto Scaling), and what EC2 says
// of other instance ids (terminated, or not known at all: gone). A narrow interface like api.ts's; the SDK's
// EC2 client is imported here, lazily, so only reconcile pays for loading it.
import type { AwsClientOptions } from './clients.js';
import { call, resolveEndpointLabel, retryConfig } from './clients.js';
import { mapConcurrent } from './pool.js';

export interface GroupInstance {
  id: string;
  group: string;
  /** Auto Scaling's LifecycleState: InService, Pending, Terminating, Standby, … */
  lifecycle: string;
}

export interface Ec2Instance {
  id: string;
  /** EC2's state name: pending, running, shutting-down, terminated, stopping, stopped. */
  state: string;
  /** The aws:autoscaling:groupName tag: the group that launched it. */
  group?: string;
}

export interface FleetApi {
  endpointLabel: string;
  /** The configured groups that exist and their instances (DescribeAutoScalingGroups, 50 names a call, paged). */
  groupInstances(groups: string[]): Promise<{ groups: string[]; instances: GroupInstance[] }>;
  /** EC2's view of `ids`; an id EC2 does not know is left out of the answer (DescribeInstances, paged). */
  describeInstances(ids: string[]): Promise<Ec2Instance[]>;
}

const chunks = <T>(items: T[], size: number): T[][] =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/** AWS's limit of names per DescribeAutoScalingGroups call. */
const GROUPS_PER_CALL = 50;
/** Ids per DescribeInstances call: EC2 takes up to 200 values for one filter. */
const IDS_PER_CALL = 200;
const CONCURRENCY = 4;

export async function createFleetClients(
  opts: AwsClientOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<FleetApi> {
  const endpointLabel = resolveEndpointLabel(opts, env);
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const [ec2Sdk, asSdk, retry, transport] = await Promise.all([
    import('@aws-sdk/client-ec2'),
    import('@aws-sdk/client-auto-scaling'),
    retryConfig(env),
    import('./transport.js'),
  ]);
  const common = {
    region: opts.region,
    ...(opts.profile ? { profile: opts.profile } : {}),
    ...(opts.endpointUrl ? { endpoint: opts.endpointUrl } : {}),
    requestHandler: transport.requestHandlerConfig(opts.timeoutMs ?? transport.resolveTimeoutMs(undefined, env), env),
    ...retry,
  };
  const ec2 = new ec2Sdk.EC2Client(common);
  const autoscaling = new asSdk.AutoScalingClient(common);

  const groupPages = async (names: string[]) => {
    const found: string[] = [];
    const instances: GroupInstance[] = [];
    let token: string | undefined;
    do {
      const out = await call('autoscaling:DescribeAutoScalingGroups', undefined, () =>
        autoscaling.send(
          new asSdk.DescribeAutoScalingGroupsCommand({
            AutoScalingGroupNames: names,
            MaxRecords: 100,
            NextToken: token,
          }),
        ),
      );
      for (const g of out.AutoScalingGroups ?? []) {
        const group = g.AutoScalingGroupName ?? '';
        found.push(group);
        for (const i of g.Instances ?? [])
          if (i.InstanceId) instances.push({ id: i.InstanceId, group, lifecycle: i.LifecycleState ?? '' });
      }
      token = out.NextToken;
    } while (token);
    return { found, instances };
  };

  // A filter on instance-id, not InstanceIds: with InstanceIds one id EC2 no longer knows fails the whole call
  // (InvalidInstanceID.NotFound), and a gone id is exactly what reconcile looks for. A filter leaves it out.
  const instancePages = async (ids: string[]) => {
    const out: Ec2Instance[] = [];
    let token: string | undefined;
    do {
      const page = await call('ec2:DescribeInstances', undefined, () =>
        ec2.send(
          new ec2Sdk.DescribeInstancesCommand({
            Filters: [{ Name: 'instance-id', Values: ids }],
            MaxResults: 1000,
            NextToken: token,
          }),
        ),
      );
      for (const r of page.Reservations ?? [])
        for (const i of r.Instances ?? []) {
          if (!i.InstanceId) continue;
          const group = i.Tags?.find((t) => t.Key === 'aws:autoscaling:groupName')?.Value;
          out.push({ id: i.InstanceId, state: i.State?.Name ?? '', ...(group ? { group } : {}) });
        }
      token = page.NextToken;
    } while (token);
    return out;
  };

  return {
    endpointLabel,
    async groupInstances(groups) {
      if (groups.length === 0) return { groups: [], instances: [] };
      const pages = await mapConcurrent(chunks(groups, GROUPS_PER_CALL), CONCURRENCY, groupPages);
      return { groups: pages.flatMap((p) => p.found), instances: pages.flatMap((p) => p.instances) };
    },
    async describeInstances(ids) {
      if (ids.length === 0) return [];
      return (await mapConcurrent(chunks(ids, IDS_PER_CALL), CONCURRENCY, instancePages)).flat();
    },
  };
}
