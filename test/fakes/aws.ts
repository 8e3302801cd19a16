// A fake of the slice of AWS that salt-autoscale uses: SNS, Auto Scaling and IAM over the AWS Query protocol, on
// 127.0.0.1, for the real SDK clients to talk to. It keeps state, records every call, and injects faults.
// The written spec is test/fakes/README.md. Node built-ins only: scripts/bench-provision.mjs loads this
// file by transpiling it, so it must not import anything relative.
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export type Service = 'sns' | 'autoscaling' | 'sqs' | 'ec2' | 'iam';

export interface FakeAwsOptions {
  accountId?: string;
  region?: string;
  /** Delay before every answer, in milliseconds. */
  latencyMs?: number;
  /** Page sizes (AWS: 100 topics, 100 subscriptions; groups and notifications up to MaxRecords). */
  topicPageSize?: number;
  subscriptionPageSize?: number;
  groupPageSize?: number;
  notificationPageSize?: number;
  /** Auto Scaling groups that exist from the start. */
  groups?: string[];
  /** The port to listen on (127.0.0.1); default 0, a free port. */
  port?: number;
  /** Serve HTTPS with this identity (PEM) instead of plain HTTP; `fake.url` is then https://127.0.0.1:PORT. */
  tls?: { cert: string; key: string };
}

export interface FakeCall {
  service: Service;
  action: string;
  mutating: boolean;
  params: Record<string, string>;
  status: number;
  /** The region of the SigV4 credential scope. */
  signingRegion?: string;
}

export type FaultKind = 'throttle' | 'server' | 'denied' | 'quota' | 'hang';

export interface Fault {
  kind: FaultKind;
  /** Only this action (e.g. "PutNotificationConfiguration"); any action when omitted. */
  action?: string;
  /** How many requests it hits (then it is used up). Infinity: until removed. */
  times: number;
}

export interface FakeTopic {
  arn: string;
  name: string;
  attributes: Record<string, string>;
  tags: Map<string, string>;
}

export interface FakeSubscription {
  arn: string;
  topicArn: string;
  protocol: string;
  endpoint: string;
  confirmed: boolean;
  /** Unsubscribed outside the API (its UnsubscribeURL, the console): SNS lists it as "Deleted" for a while. */
  deleted?: boolean;
  /** How many confirmation requests SNS would have sent to the endpoint. */
  confirmationRequests: number;
  /** Subscription attributes that were set (DeliveryPolicy, RedrivePolicy, …). */
  attributes: Record<string, string>;
}

export interface FakeMessage {
  id: string;
  body: string;
  sentAt: number;
  receiveCount: number;
  /** Hidden until then (ms since the epoch) after a ReceiveMessage. */
  visibleAt: number;
  /** The receipt handle of the latest receive; DeleteMessage needs it. */
  receiptHandle?: string;
}

export interface FakeQueue {
  name: string;
  url: string;
  arn: string;
  attributes: Record<string, string>;
  tags: Map<string, string>;
  messages: FakeMessage[];
}

export interface FakeGroup {
  name: string;
  arn: string;
  /** topic ARN -> notification types */
  notifications: Map<string, Set<string>>;
  /** The group's instances: instance id -> LifecycleState (InService, Pending:Wait, Terminating:Wait, …). */
  instances: Map<string, string>;
  /** Lifecycle hooks by name (PutLifecycleHook). */
  hooks: Map<string, FakeLifecycleHook>;
}

export type LifecycleResult = 'CONTINUE' | 'ABANDON';
export const LAUNCHING = 'autoscaling:EC2_INSTANCE_LAUNCHING';
export const TERMINATING = 'autoscaling:EC2_INSTANCE_TERMINATING';

export interface FakeLifecycleHook {
  name: string;
  group: string;
  /** autoscaling:EC2_INSTANCE_LAUNCHING or autoscaling:EC2_INSTANCE_TERMINATING */
  transition: string;
  targetArn?: string;
  roleArn?: string;
  metadata?: string;
  /** Seconds, 30-7200 (default 3600). */
  heartbeatTimeout: number;
  /** Seconds: min(100 x HeartbeatTimeout, 172800). */
  globalTimeout: number;
  defaultResult: LifecycleResult;
}

/** One instance held in a wait state by one hook, until CompleteLifecycleAction or the timeout. */
export interface FakeLifecycleAction {
  token: string;
  group: string;
  hook: string;
  instanceId: string;
  transition: string;
  /** Where the instance comes from and goes to (EC2, AutoScalingGroup, WarmPool), as in the notification. */
  origin: string;
  destination: string;
  startedAt: number;
  /** ms since the epoch: the action times out then unless a heartbeat moves it (never past globalDeadline). */
  heartbeatDeadline: number;
  globalDeadline: number;
  heartbeats: number;
  /** Set once completed: by CompleteLifecycleAction, the hook's DefaultResult on a timeout, or hook deletion. */
  result?: LifecycleResult;
  completedBy?: 'call' | 'timeout' | 'hook_deleted';
  completedAt?: number;
}

export interface FakeRole {
  name: string;
  arn: string;
  id: string;
  path: string;
  /** The trust policy (JSON text, as given). */
  assumeRolePolicy: string;
  description?: string;
  tags: Map<string, string>;
  /** Inline policies: name -> JSON text. */
  policies: Map<string, string>;
  createdAt: string;
  /** PutLifecycleHook test publications with this role that still fail (a role not yet propagated). */
  unassumableFor: number;
}

/** A message AWS would have published to an SNS topic (Auto Scaling's, as the hook's role when it has one). */
export interface FakePublished {
  topicArn: string;
  message: string;
  /** The role Auto Scaling assumed to publish (lifecycle hooks); absent for group notifications. */
  roleArn?: string;
}

/** An EC2 instance as DescribeInstances shows it (EC2 forgets a terminated one after about an hour). */
export interface FakeInstance {
  id: string;
  /** pending | running | shutting-down | terminated | stopping | stopped */
  state: string;
  launchTime: string;
  /** The aws:autoscaling:groupName tag that Auto Scaling puts on its instances. */
  group?: string;
}

export interface FakeState {
  accountId: string;
  region: string;
  topics: Map<string, FakeTopic>;
  subscriptions: Map<string, FakeSubscription>;
  groups: Map<string, FakeGroup>;
  /** SQS queues by name. */
  queues: Map<string, FakeQueue>;
  /** EC2 instances by id. */
  instances: Map<string, FakeInstance>;
  /** Messages AWS would have published: TEST_NOTIFICATIONs and lifecycle notifications. */
  published: FakePublished[];
  /** IAM roles by name. */
  roles: Map<string, FakeRole>;
  /** Every lifecycle action, in the order they started (completed ones stay, with their result). */
  lifecycleActions: FakeLifecycleAction[];
}

export interface LaunchOptions {
  /** Where the instance comes from: EC2 (default) or WarmPool. */
  origin?: 'EC2' | 'WarmPool';
  /** Where it goes: AutoScalingGroup (default) or WarmPool. */
  destination?: 'AutoScalingGroup' | 'WarmPool';
}

export interface FakeAws {
  url: string;
  state: FakeState;
  calls: FakeCall[];
  faults: Fault[];
  options: Required<Omit<FakeAwsOptions, 'groups' | 'tls' | 'port'>>;
  inject(fault: Fault): void;
  /** After `n` more successful mutating calls, every mutating call fails with a 500 (undefined: off). */
  failAfterMutations(n: number | undefined): void;
  /** Confirms pending subscriptions (all, or those to `endpoint`), as the reactor would. Returns how many. */
  confirmSubscriptions(endpoint?: string): number;
  /** Unsubscribes confirmed subscriptions to `endpoint` the way its UnsubscribeURL does: listed as "Deleted". */
  unsubscribeViaUrl(endpoint: string): number;
  addGroup(name: string): FakeGroup;
  /**
   * Whether `principalArn` may sns:Publish to the topic under its Policy, taking every principal of the fake's
   * own account to hold sns:Publish in an identity policy (the case a topic policy must guard against).
   */
  canPublish(principalArn: string, topicArn: string): boolean;
  /**
   * SNS gave up delivering `message` to the topic's HTTP/S subscriptions (its DeliveryPolicy ran out): each live
   * one with a RedrivePolicy whose queue exists and whose queue policy lets sns.amazonaws.com send for this topic
   * gets the SNS envelope in that queue; the others lose it. Returns how many queues received it.
   */
  deliveryFails(topicArn: string, message: string): number;
  /**
   * SNS delivers a notification (`envelope`: the signed SNS JSON, made by the test) to the topic's confirmed SQS
   * subscriptions whose queue exists and whose queue policy lets sns.amazonaws.com send for this topic: the envelope
   * as it is, or only its Message with RawMessageDelivery "true". Returns how many queues received it.
   */
  deliver(topicArn: string, envelope: string): number;
  /**
   * A group launches an instance: running in EC2 (tagged with the group), InService in the group; with launch
   * hooks, Pending:Wait and one lifecycle action per hook, each published to its hook's target.
   */
  launchInstance(group: string, id?: string, opts?: LaunchOptions): FakeInstance;
  /**
   * The group terminates it: terminated in EC2 (still described, as for about an hour), gone from the group;
   * with terminate hooks, Terminating:Wait (still running) until its actions complete.
   */
  terminateInstance(id: string): void;
  /** The instance's lifecycle actions, pending and completed, oldest first. */
  lifecycleActionsOf(instanceId: string): FakeLifecycleAction[];
  /** The action's heartbeat timeout passes now: its hook's DefaultResult applies. */
  timeOutLifecycleAction(token: string): void;
  /** Roles created from now on cannot be assumed by the first `attempts` PutLifecycleHook test publications. */
  delayRolePropagation(attempts: number): void;
  /** EC2 no longer knows the id at all (DescribeInstances: InvalidInstanceID.NotFound). */
  forgetInstance(id: string): void;
  mutatingCalls(): FakeCall[];
  /** The most requests that were in flight at once, per action. */
  peakInFlight: Map<string, number>;
  /** The distinct "service:Action" names called, e.g. "sns:CreateTopic". */
  actionsCalled(): string[];
  close(): Promise<void>;
}

/** The services that speak the query protocol (EC2 its own dialect of it); SQS speaks JSON. */
type QueryService = 'sns' | 'autoscaling' | 'ec2' | 'iam';
const NS: Record<QueryService, string> = {
  sns: 'http://sns.amazonaws.com/doc/2010-03-31/',
  autoscaling: 'http://autoscaling.amazonaws.com/doc/2011-01-01/',
  ec2: 'http://ec2.amazonaws.com/doc/2016-11-15/',
  iam: 'https://iam.amazonaws.com/doc/2010-05-08/',
};
const VERSION: Record<QueryService, string> = {
  sns: '2010-03-31',
  autoscaling: '2011-01-01',
  ec2: '2016-11-15',
  iam: '2010-05-08',
};
/** EC2's instance state codes (the low byte of instanceState.code). */
const EC2_STATE_CODES: Record<string, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};
/** A queue's ARN: partition, region, account (group 2), name. */
const SQS_ARN = /^arn:aws[a-z-]*:sqs:([a-z0-9-]+):(\d{12}):[A-Za-z0-9_-]{1,80}$/;
const INSTANCE_ID = /^i-[0-9a-f]{8}([0-9a-f]{9})?$/;

const MUTATING = new Set([
  'CreateTopic',
  'TagResource',
  'SetTopicAttributes',
  'Subscribe',
  'Unsubscribe',
  'DeleteTopic',
  'PutNotificationConfiguration',
  'DeleteNotificationConfiguration',
  'SetSubscriptionAttributes',
  'CreateQueue',
  'SetQueueAttributes',
  'TagQueue',
  'DeleteQueue',
  'SendMessage',
  'ReceiveMessage',
  'DeleteMessage',
  'PutLifecycleHook',
  'DeleteLifecycleHook',
  'CompleteLifecycleAction',
  'RecordLifecycleActionHeartbeat',
  'CreateRole',
  'PutRolePolicy',
  'DeleteRolePolicy',
  'DeleteRole',
  'TagRole',
]);

/**
 * Actions whose output is an empty structure (…Answer in the Auto Scaling model): AWS sends an empty …Result
 * element, and boto3's parser requires it (the JS SDK does not).
 */
const EMPTY_RESULT = new Set([
  'PutLifecycleHook',
  'DeleteLifecycleHook',
  'CompleteLifecycleAction',
  'RecordLifecycleActionHeartbeat',
]);

/** The types PutNotificationConfiguration accepts (AWS also takes TEST_NOTIFICATION, e.g. set by hand). */
export const NOTIFICATION_TYPES = [
  'autoscaling:EC2_INSTANCE_LAUNCH',
  'autoscaling:EC2_INSTANCE_LAUNCH_ERROR',
  'autoscaling:EC2_INSTANCE_TERMINATE',
  'autoscaling:EC2_INSTANCE_TERMINATE_ERROR',
  'autoscaling:TEST_NOTIFICATION',
];

/** AWS's limits on the Describe calls: MaxRecords at most 100; at most 50 names, or MaxRecords if larger. */
function checkDescribeLimits(p: Record<string, string>, names: string[]): void {
  const max = Number(p.MaxRecords ?? 50);
  if (max > 100)
    throw new AwsError(
      400,
      'ValidationError',
      `1 validation error detected: Value '${max}' at 'maxRecords' failed to satisfy constraint: Member must have value less than or equal to 100`,
    );
  if (names.length > Math.max(50, max))
    throw new AwsError(400, 'ValidationError', `The number of group names (${names.length}) exceeds the limit`);
}

/** What SNS reports as an HTTP/S subscription's EffectiveDeliveryPolicy when none is set: 3 retries, 20 s apart. */
const DEFAULT_HTTP_DELIVERY_POLICY = JSON.stringify({
  healthyRetryPolicy: {
    minDelayTarget: 20,
    maxDelayTarget: 20,
    numRetries: 3,
    numMaxDelayRetries: 0,
    numNoDelayRetries: 0,
    numMinDelayRetries: 0,
    backoffFunction: 'linear',
  },
  sicklyRetryPolicy: null,
  throttlePolicy: null,
  guaranteed: false,
});

const SUBSCRIPTION_ATTRIBUTES = [
  'DeliveryPolicy',
  'FilterPolicy',
  'FilterPolicyScope',
  'RawMessageDelivery',
  'RedrivePolicy',
  'SubscriptionRoleArn',
];

/**
 * SNS's limits on an HTTP/S delivery policy: at most 100 retries, delays 1..3600 s with min <= max, phases that
 * fit in numRetries, and at most 3600 s in all. The total is counted as if each backoff-phase retry waited
 * maxDelayTarget (an upper bound of SNS's own sum).
 */
function checkDeliveryPolicy(text: string): void {
  const bad = (why: string) => new AwsError(400, 'InvalidParameter', `Invalid parameter: DeliveryPolicy: ${why}`);
  let doc: { healthyRetryPolicy?: Record<string, unknown> };
  try {
    doc = JSON.parse(text);
  } catch {
    throw bad('not JSON');
  }
  const h = doc.healthyRetryPolicy;
  if (!h) return;
  const n = (k: string, dflt: number) => (h[k] === undefined ? dflt : Number(h[k]));
  const retries = n('numRetries', 3);
  const [min, max] = [n('minDelayTarget', 20), n('maxDelayTarget', 20)];
  const [none, atMin, atMax] = [n('numNoDelayRetries', 0), n('numMinDelayRetries', 0), n('numMaxDelayRetries', 0)];
  if (!(retries >= 0 && retries <= 100)) throw bad('numRetries must be 0..100');
  if (!(min >= 1 && min <= max && max <= 3600))
    throw bad('delays must satisfy 1 <= minDelayTarget <= maxDelayTarget <= 3600');
  if (none + atMin + atMax > retries) throw bad('the phases hold more retries than numRetries');
  const backoff = retries - none - atMin - atMax;
  if (atMin * min + (backoff + atMax) * max > 3600) throw bad('the total retry time exceeds 3600 seconds');
}

function checkSubscriptionAttribute(name: string, value: string): void {
  if (!SUBSCRIPTION_ATTRIBUTES.includes(name))
    throw new AwsError(400, 'InvalidParameter', `Invalid parameter: AttributeName ${name}`);
  if (name === 'DeliveryPolicy') checkDeliveryPolicy(value);
  if (name === 'RedrivePolicy') {
    let target: unknown;
    try {
      target = JSON.parse(value).deadLetterTargetArn;
    } catch {
      target = undefined;
    }
    if (typeof target !== 'string' || !SQS_ARN.test(target))
      throw new AwsError(400, 'InvalidParameter', 'Invalid parameter: RedrivePolicy: deadLetterTargetArn is invalid');
  }
}

/** The policy SNS gives a new topic: the owner account's principals may do anything with it, Publish included. */
export function defaultTopicPolicy(topicArn: string, accountId: string) {
  return {
    Version: '2008-10-17',
    Id: '__default_policy_ID',
    Statement: [
      {
        Sid: '__default_statement_ID',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: [
          'SNS:GetTopicAttributes',
          'SNS:SetTopicAttributes',
          'SNS:AddPermission',
          'SNS:RemovePermission',
          'SNS:DeleteTopic',
          'SNS:Subscribe',
          'SNS:ListSubscriptionsByTopic',
          'SNS:Publish',
        ],
        Resource: topicArn,
        Condition: { StringEquals: { 'AWS:SourceOwner': accountId } },
      },
    ],
  };
}

interface PolicyStatement {
  Effect?: string;
  Principal?: unknown;
  Action?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

function checkPolicy(text: string): void {
  let doc: { Statement?: unknown };
  try {
    doc = JSON.parse(text);
  } catch {
    throw new AwsError(400, 'InvalidParameter', 'Invalid parameter: Policy Error: null');
  }
  if (!Array.isArray(doc?.Statement) && typeof doc?.Statement !== 'object')
    throw new AwsError(400, 'InvalidParameter', 'Invalid parameter: Policy Error: Statement is missing');
}

const asList = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)]);
const globMatch = (pattern: string, value: string) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    'i',
  ).test(value);

/** The small part of IAM policy evaluation a topic policy needs: Principal, Action, and four condition kinds. */
export function statementApplies(st: PolicyStatement, principalArn: string): boolean {
  const account = principalArn.split(':')[4];
  if (!asList(st.Action).some((a) => globMatch(a, 'sns:Publish'))) return false;
  const principals = st.Principal === '*' ? ['*'] : asList((st.Principal as { AWS?: unknown })?.AWS);
  const named = principals.some(
    (p) => p === '*' || p === principalArn || p === account || p === `arn:aws:iam::${account}:root`,
  );
  if (!named) return false;
  for (const [op, tests] of Object.entries(st.Condition ?? {})) {
    for (const [key, values] of Object.entries(tests)) {
      const k = key.toLowerCase();
      const actual =
        k === 'aws:principalarn'
          ? principalArn
          : k === 'aws:sourceowner' || k === 'aws:principalaccount'
            ? account
            : undefined;
      if (actual === undefined) return false;
      const any = asList(values).some((v) => globMatch(v, actual));
      if (op === 'ArnLike' || op === 'StringLike' || op === 'StringEquals' || op === 'ArnEquals') {
        if (!any) return false;
      } else if (op === 'ArnNotLike' || op === 'StringNotLike' || op === 'StringNotEquals' || op === 'ArnNotEquals') {
        if (any) return false;
      } else return false;
    }
  }
  return true;
}

class AwsError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
const el = (tag: string, body: string) => `<${tag}>${body}</${tag}>`;
const text = (tag: string, value: string | number) => el(tag, esc(String(value)));
const members = <T>(items: T[], render: (item: T) => string) => items.map((i) => el('member', render(i))).join('');

/** Reads `Prefix.1.Field`, `Prefix.2.Field`, … (Query protocol lists and maps) into an array of records. */
function indexed(params: Record<string, string>, prefix: string): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  for (const [key, value] of Object.entries(params)) {
    if (!key.startsWith(prefix + '.')) continue;
    const rest = key.slice(prefix.length + 1);
    const m = /^(\d+)(?:\.(.+))?$/.exec(rest);
    if (!m) continue;
    const i = Number(m[1]) - 1;
    out[i] ??= {};
    out[i][m[2] ?? ''] = value;
  }
  return out.filter(Boolean);
}

const list = (params: Record<string, string>, prefix: string) => indexed(params, `${prefix}.member`).map((r) => r['']);
const map = (params: Record<string, string>, prefix: string) =>
  Object.fromEntries(indexed(params, `${prefix}.entry`).map((r) => [r.key, r.value]));

function page<T>(items: T[], token: string | undefined, size: number): { items: T[]; next?: string } {
  const start = token ? Number(Buffer.from(token, 'base64url').toString()) : 0;
  if (!Number.isInteger(start) || start < 0)
    throw new AwsError(400, 'InvalidParameter', 'Invalid parameter: NextToken');
  const end = start + size;
  return {
    items: items.slice(start, end),
    next: end < items.length ? Buffer.from(String(end)).toString('base64url') : undefined,
  };
}

export async function startFakeAws(options: FakeAwsOptions = {}): Promise<FakeAws> {
  const opts = {
    accountId: options.accountId ?? '123456789012',
    region: options.region ?? 'us-east-1',
    latencyMs: options.latencyMs ?? 0,
    topicPageSize: options.topicPageSize ?? 100,
    subscriptionPageSize: options.subscriptionPageSize ?? 100,
    groupPageSize: options.groupPageSize ?? 50,
    notificationPageSize: options.notificationPageSize ?? 50,
  };
  const state: FakeState = {
    accountId: opts.accountId,
    region: opts.region,
    topics: new Map(),
    subscriptions: new Map(),
    groups: new Map(),
    queues: new Map(),
    instances: new Map(),
    published: [],
    roles: new Map(),
    lifecycleActions: [],
  };
  const calls: FakeCall[] = [];
  const faults: Fault[] = [];
  let mutationsLeft: number | undefined;
  let rolePropagationAttempts = 0;
  const inFlight = new Map<string, number>();
  const peakInFlight = new Map<string, number>();

  const addGroup = (name: string): FakeGroup => {
    const group: FakeGroup = {
      name,
      arn: `arn:aws:autoscaling:${opts.region}:${opts.accountId}:autoScalingGroup:${randomUUID()}:autoScalingGroupName/${name}`,
      notifications: new Map(),
      instances: new Map(),
      hooks: new Map(),
    };
    state.groups.set(name, group);
    return group;
  };
  for (const g of options.groups ?? []) addGroup(g);

  const topic = (arn: string | undefined): FakeTopic => {
    const t = arn ? state.topics.get(arn) : undefined;
    if (!t) throw new AwsError(404, 'NotFound', 'Topic does not exist');
    return t;
  };
  const group = (name: string | undefined): FakeGroup => {
    const g = name ? state.groups.get(name) : undefined;
    if (!g) throw new AwsError(400, 'ValidationError', `AutoScalingGroup name not found - ${name ?? 'null'}`);
    return g;
  };
  const resourceOf = (service: QueryService, action: string, p: Record<string, string>): string => {
    if (service === 'iam') return `arn:aws:iam::${opts.accountId}:role/${p.RoleName ?? '*'}`;
    if (service === 'sns') {
      if (action === 'CreateTopic') return `arn:aws:sns:${opts.region}:${opts.accountId}:${p.Name}`;
      return p.TopicArn ?? p.ResourceArn ?? p.SubscriptionArn ?? '*';
    }
    return p.AutoScalingGroupName ? (state.groups.get(p.AutoScalingGroupName)?.arn ?? '*') : '*';
  };

  // ---- Lifecycle hooks and actions (Auto Scaling) ----
  const HOOK_NAME = /^[A-Za-z0-9\-_/]{1,255}$/;
  const MAX_HOOKS_PER_GROUP = 50;
  const validation = (message: string) => new AwsError(400, 'ValidationError', message);
  const hookOf = (g: FakeGroup, name: string | undefined): FakeLifecycleHook => {
    const h = name ? g.hooks.get(name) : undefined;
    if (!h) throw validation(`No Lifecycle Hook found with name ${name ?? 'null'} for group ${g.name}`);
    return h;
  };
  const publish = (topicArn: string | undefined, message: Record<string, unknown>, roleArn?: string) => {
    if (topicArn) state.published.push({ topicArn, message: JSON.stringify(message), ...(roleArn ? { roleArn } : {}) });
  };
  /** What the role lets Auto Scaling do with the topic: assume it (trust), publish (inline policy), not denied (topic policy). */
  const roleMayPublish = (roleArn: string | undefined, topicArn: string): boolean => {
    const role = [...state.roles.values()].find((r) => r.arn === roleArn);
    const t = state.topics.get(topicArn);
    if (!role || !t) return false;
    if (role.unassumableFor > 0) {
      role.unassumableFor--;
      return false;
    }
    const statements = (text: string): PolicyStatement[] => {
      try {
        return ([] as PolicyStatement[]).concat(JSON.parse(text).Statement ?? []);
      } catch {
        return [];
      }
    };
    const trusted = statements(role.assumeRolePolicy).some(
      (st) =>
        st.Effect === 'Allow' &&
        asList((st.Principal as { Service?: unknown })?.Service).includes('autoscaling.amazonaws.com') &&
        asList(st.Action).some((a) => globMatch(a, 'sts:AssumeRole')),
    );
    const allowed = [...role.policies.values()].some((doc) =>
      statements(doc).some(
        (st) =>
          st.Effect === 'Allow' &&
          asList(st.Action).some((a) => globMatch(a, 'sns:Publish')) &&
          asList((st as { Resource?: unknown }).Resource).some((r) => globMatch(r, topicArn)),
      ),
    );
    return trusted && allowed && fake.canPublish(role.arn, topicArn);
  };
  /** Applies the DefaultResult of every action whose time is up (AWS does so on its own; the fake when looked at). */
  const expireActions = (now = Date.now()) => {
    for (const a of state.lifecycleActions)
      if (!a.result && now >= Math.min(a.heartbeatDeadline, a.globalDeadline)) {
        const h = state.groups.get(a.group)?.hooks.get(a.hook);
        finish(a, h?.defaultResult ?? 'ABANDON', 'timeout');
      }
  };
  const finish = (a: FakeLifecycleAction, result: LifecycleResult, by: FakeLifecycleAction['completedBy']) => {
    a.result = result;
    a.completedBy = by;
    a.completedAt = Date.now();
    // The instance moves on once every hook of this transition has its result.
    const same = state.lifecycleActions.filter(
      (x) => x.instanceId === a.instanceId && x.transition === a.transition && x.startedAt === a.startedAt,
    );
    if (same.some((x) => !x.result)) return;
    const g = state.groups.get(a.group);
    const instance = state.instances.get(a.instanceId);
    const abandoned = same.some((x) => x.result === 'ABANDON');
    if (a.transition === LAUNCHING && !abandoned) {
      g?.instances.set(a.instanceId, a.destination === 'WarmPool' ? 'Warmed:Stopped' : 'InService');
      return;
    }
    // A launch ABANDONed is terminated at once; a termination goes ahead with either result.
    if (instance) instance.state = 'terminated';
    g?.instances.delete(a.instanceId);
  };
  /** Holds the instance in a wait state with one action per hook of the transition, each notified. */
  const startActions = (
    g: FakeGroup,
    instanceId: string,
    transition: string,
    origin: string,
    destination: string,
  ): FakeLifecycleAction[] => {
    const hooks = [...g.hooks.values()].filter((h) => h.transition === transition);
    const now = Date.now();
    return hooks.map((h) => {
      const a: FakeLifecycleAction = {
        token: randomUUID(),
        group: g.name,
        hook: h.name,
        instanceId,
        transition,
        origin,
        destination,
        startedAt: now,
        heartbeatDeadline: now + h.heartbeatTimeout * 1000,
        globalDeadline: now + h.globalTimeout * 1000,
        heartbeats: 0,
      };
      state.lifecycleActions.push(a);
      // The shape Auto Scaling publishes to an SNS or SQS target (the key order of AWS's own messages).
      publish(
        h.targetArn,
        {
          Origin: origin,
          LifecycleHookName: h.name,
          Destination: destination,
          AccountId: opts.accountId,
          RequestId: randomUUID(),
          LifecycleTransition: transition,
          AutoScalingGroupName: g.name,
          Service: 'AWS Auto Scaling',
          Time: new Date(now).toISOString(),
          EC2InstanceId: instanceId,
          ...(h.metadata !== undefined ? { NotificationMetadata: h.metadata } : {}),
          LifecycleActionToken: a.token,
        },
        h.roleArn,
      );
      return a;
    });
  };
  /** The pending action that CompleteLifecycleAction / RecordLifecycleActionHeartbeat name (token or instance). */
  const pendingAction = (p: Record<string, string>): { action: FakeLifecycleAction; hook: FakeLifecycleHook } => {
    const g = group(p.AutoScalingGroupName);
    const h = hookOf(g, p.LifecycleHookName);
    const token = p.LifecycleActionToken;
    const instanceId = p.InstanceId;
    if (!token && !instanceId) throw validation('Either the LifecycleActionToken or the InstanceId must be specified');
    expireActions();
    const action = state.lifecycleActions.find(
      (a) =>
        !a.result &&
        a.group === g.name &&
        a.hook === h.name &&
        (!token || a.token === token) &&
        (!instanceId || a.instanceId === instanceId),
    );
    if (!action)
      throw validation(
        token
          ? `No active Lifecycle Action found with token ${token}`
          : `No active Lifecycle Action found with instance ID ${instanceId}`,
      );
    return { action, hook: h };
  };
  const hookXml = (h: FakeLifecycleHook) =>
    text('LifecycleHookName', h.name) +
    text('AutoScalingGroupName', h.group) +
    text('LifecycleTransition', h.transition) +
    (h.targetArn ? text('NotificationTargetARN', h.targetArn) : '') +
    (h.roleArn ? text('RoleARN', h.roleArn) : '') +
    (h.metadata !== undefined ? text('NotificationMetadata', h.metadata) : '') +
    text('HeartbeatTimeout', h.heartbeatTimeout) +
    text('GlobalTimeout', h.globalTimeout) +
    text('DefaultResult', h.defaultResult);

  // ---- IAM (roles and their inline policies) ----
  const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
  const noRole = (name: string | undefined) =>
    new AwsError(404, 'NoSuchEntity', `The role with name ${name ?? 'null'} cannot be found.`);
  const roleOf = (name: string | undefined): FakeRole => {
    const r = name ? state.roles.get(name) : undefined;
    if (!r) throw noRole(name);
    return r;
  };
  const checkPolicyDocument = (text: string | undefined) => {
    let doc: { Statement?: unknown };
    try {
      doc = JSON.parse(text ?? '');
    } catch {
      throw new AwsError(400, 'MalformedPolicyDocument', 'This policy contains invalid Json');
    }
    if (!doc || typeof doc !== 'object' || !doc.Statement)
      throw new AwsError(400, 'MalformedPolicyDocument', 'Syntax errors in policy.');
  };
  // IAM returns policy documents URL-encoded (RFC 3986), as the real service does.
  const policyText = (doc: string) => encodeURIComponent(doc);
  const roleXml = (r: FakeRole) =>
    text('Path', r.path) +
    text('RoleName', r.name) +
    text('RoleId', r.id) +
    text('Arn', r.arn) +
    text('CreateDate', r.createdAt) +
    text('AssumeRolePolicyDocument', policyText(r.assumeRolePolicy)) +
    (r.description !== undefined ? text('Description', r.description) : '') +
    text('MaxSessionDuration', 3600) +
    (r.tags.size
      ? el(
          'Tags',
          members([...r.tags], ([k, v]) => text('Key', k) + text('Value', v)),
        )
      : '');
  const iam: Record<string, (p: Record<string, string>) => string> = {
    CreateRole(p) {
      const name = p.RoleName ?? '';
      if (!ROLE_NAME.test(name))
        throw validation(`1 validation error detected: Value '${name}' at 'roleName' failed to satisfy constraint`);
      if (state.roles.has(name))
        throw new AwsError(409, 'EntityAlreadyExists', `Role with name ${name} already exists.`);
      checkPolicyDocument(p.AssumeRolePolicyDocument);
      const path = p.Path ?? '/';
      if (!/^\/([\x21-\x7e]*\/)?$/.test(path)) throw validation(`The specified value for path is invalid: ${path}`);
      const role: FakeRole = {
        name,
        arn: `arn:aws:iam::${opts.accountId}:role${path}${name}`,
        id: `AROA${randomUUID().replace(/-/g, '').slice(0, 17).toUpperCase()}`,
        path,
        assumeRolePolicy: p.AssumeRolePolicyDocument ?? '',
        ...(p.Description !== undefined ? { description: p.Description } : {}),
        tags: new Map(indexed(p, 'Tags.member').map((t) => [t.Key, t.Value])),
        policies: new Map(),
        createdAt: new Date().toISOString(),
        unassumableFor: rolePropagationAttempts,
      };
      state.roles.set(name, role);
      return el('Role', roleXml(role));
    },
    GetRole(p) {
      return el('Role', roleXml(roleOf(p.RoleName)));
    },
    TagRole(p) {
      const r = roleOf(p.RoleName);
      for (const t of indexed(p, 'Tags.member')) r.tags.set(t.Key, t.Value);
      if (r.tags.size > 50)
        throw new AwsError(409, 'LimitExceeded', 'The number of tags has reached the maximum limit.');
      return '';
    },
    PutRolePolicy(p) {
      const r = roleOf(p.RoleName);
      if (!p.PolicyName || !/^[\w+=,.@-]{1,128}$/.test(p.PolicyName))
        throw validation(`The specified value for policyName is invalid`);
      checkPolicyDocument(p.PolicyDocument);
      r.policies.set(p.PolicyName, p.PolicyDocument ?? '');
      return '';
    },
    GetRolePolicy(p) {
      const r = roleOf(p.RoleName);
      const doc = r.policies.get(p.PolicyName ?? '');
      if (doc === undefined)
        throw new AwsError(404, 'NoSuchEntity', `The role policy with name ${p.PolicyName ?? 'null'} cannot be found.`);
      return (
        text('RoleName', r.name) + text('PolicyName', p.PolicyName ?? '') + text('PolicyDocument', policyText(doc))
      );
    },
    ListRolePolicies(p) {
      const r = roleOf(p.RoleName);
      return (
        el(
          'PolicyNames',
          members([...r.policies.keys()].sort(), (n) => esc(n)),
        ) + text('IsTruncated', 'false')
      );
    },
    DeleteRolePolicy(p) {
      const r = roleOf(p.RoleName);
      if (!r.policies.delete(p.PolicyName ?? ''))
        throw new AwsError(404, 'NoSuchEntity', `The role policy with name ${p.PolicyName ?? 'null'} cannot be found.`);
      return '';
    },
    DeleteRole(p) {
      const r = roleOf(p.RoleName);
      if (r.policies.size > 0)
        throw new AwsError(409, 'DeleteConflict', 'Cannot delete entity, must delete policies first.');
      const inUse = [...state.groups.values()].some((g) => [...g.hooks.values()].some((h) => h.roleArn === r.arn));
      // AWS does not refuse this (a hook would fail to notify later); the fake does not either.
      void inUse;
      state.roles.delete(r.name);
      return '';
    },
  };

  const sns: Record<string, (p: Record<string, string>) => string> = {
    ListTopics(p) {
      const arns = [...state.topics.keys()].sort();
      const { items, next } = page(arns, p.NextToken, opts.topicPageSize);
      return (
        el(
          'Topics',
          members(items, (a) => text('TopicArn', a)),
        ) + (next ? text('NextToken', next) : '')
      );
    },
    CreateTopic(p) {
      const name = p.Name ?? '';
      if (!/^[A-Za-z0-9_-]{1,256}$/.test(name))
        throw new AwsError(400, 'InvalidParameter', 'Invalid parameter: Topic Name');
      const arn = `arn:aws:sns:${opts.region}:${opts.accountId}:${name}`;
      const attributes = map(p, 'Attributes');
      const tags = indexed(p, 'Tags.member');
      const existing = state.topics.get(arn);
      if (existing) {
        // CreateTopic is idempotent only when what it is given matches what exists.
        for (const [k, v] of Object.entries(attributes)) {
          if (existing.attributes[k] !== v)
            throw new AwsError(
              400,
              'InvalidParameter',
              'Invalid parameter: Attributes Reason: Topic already exists with different attributes',
            );
        }
        for (const t of tags) {
          if (existing.tags.get(t.Key) !== t.Value)
            throw new AwsError(
              400,
              'InvalidParameter',
              'Invalid parameter: Tags Reason: Topic already exists with different tags',
            );
        }
      } else {
        state.topics.set(arn, { arn, name, attributes, tags: new Map(tags.map((t) => [t.Key, t.Value])) });
      }
      return text('TopicArn', arn);
    },
    GetTopicAttributes(p) {
      const t = topic(p.TopicArn);
      const subs = [...state.subscriptions.values()].filter((s) => s.topicArn === t.arn);
      const attrs: Record<string, string> = {
        TopicArn: t.arn,
        Owner: opts.accountId,
        DisplayName: '',
        SubscriptionsConfirmed: String(subs.filter((s) => s.confirmed).length),
        SubscriptionsPending: String(subs.filter((s) => !s.confirmed).length),
        SubscriptionsDeleted: '0',
        Policy: JSON.stringify(defaultTopicPolicy(t.arn, opts.accountId)),
        ...t.attributes,
      };
      return el(
        'Attributes',
        Object.entries(attrs)
          .map(([k, v]) => el('entry', text('key', k) + text('value', v)))
          .join(''),
      );
    },
    SetTopicAttributes(p) {
      const t = topic(p.TopicArn);
      if (p.AttributeName === 'SignatureVersion' && !['1', '2'].includes(p.AttributeValue ?? '')) {
        throw new AwsError(400, 'InvalidParameter', 'Invalid parameter: SignatureVersion');
      }
      if (p.AttributeName === 'Policy') checkPolicy(p.AttributeValue ?? '');
      t.attributes[p.AttributeName ?? ''] = p.AttributeValue ?? '';
      return '';
    },
    TagResource(p) {
      const t = state.topics.get(p.ResourceArn ?? '');
      if (!t) throw new AwsError(404, 'ResourceNotFound', 'Resource does not exist');
      for (const tag of indexed(p, 'Tags.member')) t.tags.set(tag.Key, tag.Value);
      return '';
    },
    ListTagsForResource(p) {
      const t = state.topics.get(p.ResourceArn ?? '');
      if (!t) throw new AwsError(404, 'ResourceNotFound', 'Resource does not exist');
      return el(
        'Tags',
        members([...t.tags], ([k, v]) => text('Key', k) + text('Value', v)),
      );
    },
    Subscribe(p) {
      const t = topic(p.TopicArn);
      const protocol = p.Protocol ?? '';
      const endpoint = p.Endpoint ?? '';
      if ((protocol === 'http' || protocol === 'https') && !endpoint.startsWith(`${protocol}://`)) {
        throw new AwsError(400, 'InvalidParameter', `Invalid parameter: Endpoint must match the specified protocol`);
      }
      // An SQS endpoint is a queue ARN; SNS confirms a subscription to a queue of its own account at once.
      const sqsEndpoint = protocol === 'sqs' ? SQS_ARN.exec(endpoint) : null;
      if (protocol === 'sqs' && !sqsEndpoint)
        throw new AwsError(400, 'InvalidParameter', 'Invalid parameter: SQS endpoint ARN');
      const attributes = map(p, 'Attributes');
      for (const [name, value] of Object.entries(attributes)) checkSubscriptionAttribute(name, value);
      let sub = [...state.subscriptions.values()].find(
        (s) => s.topicArn === t.arn && s.protocol === protocol && s.endpoint === endpoint && !s.deleted,
      );
      if (sub && Object.entries(attributes).some(([k, v]) => sub!.attributes[k] !== v))
        throw new AwsError(
          400,
          'InvalidParameter',
          'Invalid parameter: Attributes Reason: Subscription already exists with different attributes',
        );
      if (!sub) {
        sub = {
          arn: `${t.arn}:${randomUUID()}`,
          topicArn: t.arn,
          protocol,
          endpoint,
          confirmed: sqsEndpoint?.[2] === opts.accountId,
          confirmationRequests: 0,
          attributes,
        };
        state.subscriptions.set(sub.arn, sub);
      }
      // A Subscribe for a pending subscription sends the confirmation request again.
      if (!sub.confirmed) sub.confirmationRequests++;
      const shown = sub.confirmed || p.ReturnSubscriptionArn === 'true' ? sub.arn : 'pending confirmation';
      return text('SubscriptionArn', shown);
    },
    GetSubscriptionAttributes(p) {
      const sub = state.subscriptions.get(p.SubscriptionArn ?? '');
      if (!sub || sub.deleted) throw new AwsError(404, 'NotFound', 'Subscription does not exist');
      const attrs: Record<string, string> = {
        SubscriptionArn: sub.arn,
        TopicArn: sub.topicArn,
        Owner: opts.accountId,
        Protocol: sub.protocol,
        Endpoint: sub.endpoint,
        PendingConfirmation: String(!sub.confirmed),
        ConfirmationWasAuthenticated: 'false',
        RawMessageDelivery: 'false',
        ...(sub.protocol.startsWith('http')
          ? { EffectiveDeliveryPolicy: sub.attributes.DeliveryPolicy ?? DEFAULT_HTTP_DELIVERY_POLICY }
          : {}),
        ...sub.attributes,
      };
      return el(
        'Attributes',
        Object.entries(attrs)
          .map(([k, v]) => el('entry', text('key', k) + text('value', v)))
          .join(''),
      );
    },
    SetSubscriptionAttributes(p) {
      const sub = state.subscriptions.get(p.SubscriptionArn ?? '');
      if (!sub || sub.deleted) throw new AwsError(404, 'NotFound', 'Subscription does not exist');
      checkSubscriptionAttribute(p.AttributeName ?? '', p.AttributeValue ?? '');
      sub.attributes[p.AttributeName ?? ''] = p.AttributeValue ?? '';
      return '';
    },
    ListSubscriptionsByTopic(p) {
      const t = topic(p.TopicArn);
      const subs = [...state.subscriptions.values()].filter((s) => s.topicArn === t.arn);
      const { items, next } = page(subs, p.NextToken, opts.subscriptionPageSize);
      const body = members(
        items,
        (s) =>
          text('TopicArn', s.topicArn) +
          text('Protocol', s.protocol) +
          text('SubscriptionArn', s.deleted ? 'Deleted' : s.confirmed ? s.arn : 'PendingConfirmation') +
          text('Owner', opts.accountId) +
          text('Endpoint', s.endpoint),
      );
      return el('Subscriptions', body) + (next ? text('NextToken', next) : '');
    },
    Unsubscribe(p) {
      if (!(p.SubscriptionArn ?? '').startsWith('arn:')) {
        throw new AwsError(
          400,
          'InvalidParameter',
          'Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 1',
        );
      }
      const sub = state.subscriptions.get(p.SubscriptionArn ?? '');
      if (!sub || sub.deleted) throw new AwsError(404, 'NotFound', 'Subscription does not exist');
      if (!sub.confirmed)
        throw new AwsError(
          400,
          'InvalidParameter',
          'Invalid parameter: SubscriptionArn Reason: a pending subscription cannot be deleted',
        );
      state.subscriptions.delete(sub.arn);
      return '';
    },
    DeleteTopic(p) {
      // Idempotent, as in SNS: deleting a topic that is gone is not an error. Its subscriptions go with it;
      // groups keep notification configurations that point at it (AWS does not clean those up).
      state.topics.delete(p.TopicArn ?? '');
      for (const s of [...state.subscriptions.values()])
        if (s.topicArn === p.TopicArn) state.subscriptions.delete(s.arn);
      return '';
    },
  };

  const groupXml = (g: FakeGroup) =>
    text('AutoScalingGroupName', g.name) +
    text('AutoScalingGroupARN', g.arn) +
    text('MinSize', 0) +
    text('MaxSize', 2) +
    text('DesiredCapacity', 0) +
    text('DefaultCooldown', 300) +
    el(
      'AvailabilityZones',
      members([`${opts.region}a`], (z) => esc(z)),
    ) +
    text('HealthCheckType', 'EC2') +
    text('CreatedTime', '2026-01-01T00:00:00.000Z') +
    el(
      'Instances',
      members(
        [...g.instances],
        ([id, lifecycle]) =>
          text('InstanceId', id) +
          text('InstanceType', 't3.micro') +
          text('AvailabilityZone', `${opts.region}a`) +
          text('LifecycleState', lifecycle) +
          text('HealthStatus', 'Healthy') +
          text('ProtectedFromScaleIn', 'false'),
      ),
    );

  const autoscaling: Record<string, (p: Record<string, string>) => string> = {
    DescribeAutoScalingGroups(p) {
      expireActions();
      const names = list(p, 'AutoScalingGroupNames');
      checkDescribeLimits(p, names);
      const all = [...state.groups.values()].sort((a, b) => a.name.localeCompare(b.name));
      const wanted = names.length ? all.filter((g) => names.includes(g.name)) : all;
      const size = Math.min(Number(p.MaxRecords ?? 50), opts.groupPageSize);
      const { items, next } = page(wanted, p.NextToken, size);
      return el('AutoScalingGroups', members(items, groupXml)) + (next ? text('NextToken', next) : '');
    },
    DescribeNotificationConfigurations(p) {
      const names = list(p, 'AutoScalingGroupNames');
      checkDescribeLimits(p, names);
      const rows: { group: string; topic: string; type: string }[] = [];
      for (const g of [...state.groups.values()].sort((a, b) => a.name.localeCompare(b.name))) {
        if (names.length && !names.includes(g.name)) continue;
        for (const [topicArn, types] of g.notifications)
          for (const type of [...types].sort()) rows.push({ group: g.name, topic: topicArn, type });
      }
      const size = Math.min(Number(p.MaxRecords ?? 50), opts.notificationPageSize);
      const { items, next } = page(rows, p.NextToken, size);
      const body = members(
        items,
        (r) => text('AutoScalingGroupName', r.group) + text('TopicARN', r.topic) + text('NotificationType', r.type),
      );
      return el('NotificationConfigurations', body) + (next ? text('NextToken', next) : '');
    },
    PutNotificationConfiguration(p) {
      const g = group(p.AutoScalingGroupName);
      const types = list(p, 'NotificationTypes');
      const bad = types.find((t) => !NOTIFICATION_TYPES.includes(t));
      if (bad) throw new AwsError(400, 'ValidationError', `${bad} is not a valid notification type`);
      if (!p.TopicARN) throw new AwsError(400, 'ValidationError', 'TopicARN is required');
      g.notifications.set(p.TopicARN, new Set(types));
      state.published.push({
        topicArn: p.TopicARN,
        message: JSON.stringify({ Event: 'autoscaling:TEST_NOTIFICATION', AutoScalingGroupName: g.name }),
      });
      return '';
    },
    DeleteNotificationConfiguration(p) {
      const g = group(p.AutoScalingGroupName);
      g.notifications.delete(p.TopicARN ?? '');
      return '';
    },
    PutLifecycleHook(p) {
      const g = group(p.AutoScalingGroupName);
      const name = p.LifecycleHookName ?? '';
      if (!HOOK_NAME.test(name))
        throw validation(
          `1 validation error detected: Value '${name}' at 'lifecycleHookName' failed to satisfy constraint`,
        );
      const existing = g.hooks.get(name);
      if (!existing && g.hooks.size >= MAX_HOOKS_PER_GROUP)
        throw new AwsError(
          400,
          'LimitExceeded',
          `Unable to create lifecycle hook ${name}: the Auto Scaling group ${g.name} already has ${MAX_HOOKS_PER_GROUP} lifecycle hooks (the most allowed)`,
        );
      const transition = p.LifecycleTransition ?? existing?.transition;
      if (!transition) throw validation('LifecycleTransition is required for a new lifecycle hook');
      if (transition !== LAUNCHING && transition !== TERMINATING)
        throw validation(`Invalid Lifecycle Transition: ${transition}`);
      const heartbeat =
        p.HeartbeatTimeout !== undefined ? Number(p.HeartbeatTimeout) : (existing?.heartbeatTimeout ?? 3600);
      if (!Number.isInteger(heartbeat) || heartbeat < 30 || heartbeat > 7200)
        throw validation(`Heartbeat timeout ${p.HeartbeatTimeout} is out of range: it must be 30 to 7200 seconds`);
      const result = p.DefaultResult ?? existing?.defaultResult ?? 'ABANDON';
      if (result !== 'CONTINUE' && result !== 'ABANDON')
        throw validation(`Invalid value for DefaultResult: ${result} (CONTINUE or ABANDON)`);
      const metadata = p.NotificationMetadata ?? existing?.metadata;
      if (metadata !== undefined && (metadata.length < 1 || metadata.length > 1023))
        throw validation('NotificationMetadata must be 1 to 1023 characters');
      const targetArn = p.NotificationTargetARN ?? existing?.targetArn;
      const roleArn = p.RoleARN ?? existing?.roleArn;
      if (targetArn && !roleArn) throw validation('RoleARN is required when a NotificationTargetARN is given');
      // Auto Scaling proves it can publish before it keeps the hook: a test message to the target, as the role.
      if (targetArn && !roleMayPublish(roleArn, targetArn))
        throw validation(
          `Unable to publish test message to notification target ${targetArn} using IAM role ${roleArn}. Please check your target and role configuration and try to put lifecycle hook again.`,
        );
      const hook: FakeLifecycleHook = {
        name,
        group: g.name,
        transition,
        ...(targetArn ? { targetArn } : {}),
        ...(roleArn ? { roleArn } : {}),
        ...(metadata !== undefined ? { metadata } : {}),
        heartbeatTimeout: heartbeat,
        globalTimeout: Math.min(100 * heartbeat, 172800),
        defaultResult: result,
      };
      g.hooks.set(name, hook);
      publish(
        targetArn,
        {
          AccountId: opts.accountId,
          RequestId: randomUUID(),
          AutoScalingGroupARN: g.arn,
          AutoScalingGroupName: g.name,
          Service: 'AWS Auto Scaling',
          Event: 'autoscaling:TEST_NOTIFICATION',
          Time: new Date().toISOString(),
        },
        roleArn,
      );
      return '';
    },
    DescribeLifecycleHooks(p) {
      const g = group(p.AutoScalingGroupName);
      const names = list(p, 'LifecycleHookNames');
      const hooks = [...g.hooks.values()].filter((h) => !names.length || names.includes(h.name));
      return el('LifecycleHooks', members(hooks, hookXml));
    },
    DeleteLifecycleHook(p) {
      const g = group(p.AutoScalingGroupName);
      const h = hookOf(g, p.LifecycleHookName);
      g.hooks.delete(h.name);
      // Outstanding actions are completed first: ABANDON for launching instances, CONTINUE for terminating ones.
      for (const a of state.lifecycleActions)
        if (!a.result && a.group === g.name && a.hook === h.name)
          finish(a, a.transition === LAUNCHING ? 'ABANDON' : 'CONTINUE', 'hook_deleted');
      return '';
    },
    CompleteLifecycleAction(p) {
      const result = p.LifecycleActionResult;
      if (result !== 'CONTINUE' && result !== 'ABANDON')
        throw validation(`Invalid value for LifecycleActionResult: ${result ?? 'null'} (CONTINUE or ABANDON)`);
      const { action } = pendingAction(p);
      finish(action, result, 'call');
      return '';
    },
    RecordLifecycleActionHeartbeat(p) {
      const { action, hook } = pendingAction(p);
      action.heartbeats++;
      action.heartbeatDeadline = Math.min(Date.now() + hook.heartbeatTimeout * 1000, action.globalDeadline);
      return '';
    },
  };

  // EC2 speaks its own query dialect: lists are `InstanceId.N` and `Filter.N.Value.M` (no `.member`), answers
  // have no `…Result` wrapper, and errors are <Response><Errors><Error>… (see send below).
  const ec2: Record<string, (p: Record<string, string>) => string> = {
    DescribeInstances(p) {
      const ids = indexed(p, 'InstanceId').map((r) => r['']);
      const filters = indexed(p, 'Filter').map((f) => ({
        name: f.Name,
        values: Object.entries(f)
          .filter(([k]) => k.startsWith('Value.'))
          .map(([, v]) => v),
      }));
      if (ids.length && p.MaxResults !== undefined)
        throw new AwsError(
          400,
          'InvalidParameterCombination',
          'The parameter instancesSet cannot be used with the parameter maxResults',
        );
      const max = Number(p.MaxResults ?? 1000);
      if (!Number.isInteger(max) || max < 5 || max > 1000)
        throw new AwsError(
          400,
          'InvalidParameterValue',
          `Value ( ${p.MaxResults} ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.`,
        );
      const malformed = ids.find((id) => !INSTANCE_ID.test(id));
      if (malformed) throw new AwsError(400, 'InvalidInstanceID.Malformed', `Invalid id: "${malformed}"`);
      const unknown = ids.filter((id) => !state.instances.has(id));
      if (unknown.length === 1)
        throw new AwsError(400, 'InvalidInstanceID.NotFound', `The instance ID '${unknown[0]}' does not exist`);
      if (unknown.length > 1)
        throw new AwsError(400, 'InvalidInstanceID.NotFound', `The instance IDs '${unknown.join(', ')}' do not exist`);
      const bad = filters.find((f) => f.name !== 'instance-id' && f.name !== 'instance-state-name');
      if (bad) throw new AwsError(400, 'InvalidParameterValue', `The filter '${bad.name}' is invalid`);
      let found = [...state.instances.values()].sort((a, b) => a.id.localeCompare(b.id));
      if (ids.length) found = found.filter((i) => ids.includes(i.id));
      for (const f of filters)
        found = found.filter((i) => f.values.includes(f.name === 'instance-id' ? i.id : i.state));
      const { items, next } = ids.length ? { items: found, next: undefined } : page(found, p.NextToken, max);
      const item = (i: FakeInstance) =>
        el(
          'item',
          text('instanceId', i.id) +
            el('instanceState', text('code', EC2_STATE_CODES[i.state] ?? 16) + text('name', i.state)) +
            text('launchTime', i.launchTime) +
            el('tagSet', i.group ? el('item', text('key', 'aws:autoscaling:groupName') + text('value', i.group)) : ''),
        );
      // One reservation per instance, as Auto Scaling launches them one at a time.
      const reservations = items.map((i) =>
        el(
          'item',
          text('reservationId', `r-${i.id.slice(2)}`) + text('ownerId', opts.accountId) + el('instancesSet', item(i)),
        ),
      );
      return el('reservationSet', reservations.join('')) + (next ? text('nextToken', next) : '');
    },
  };

  const handlers: Record<QueryService, Record<string, (p: Record<string, string>) => string>> = {
    sns,
    autoscaling,
    ec2,
    iam,
  };

  // SQS speaks the AWS JSON 1.0 protocol (X-Amz-Target: AmazonSQS.<Action>, application/x-amz-json-1.0) with
  // awsQueryCompatible errors: a JSON body {"__type", "message"} and an x-amzn-query-error header "Code;Fault".
  type Json = Record<string, unknown>;
  class SqsError extends AwsError {
    constructor(
      status: number,
      readonly type: string,
      readonly queryCode: string,
      message: string,
    ) {
      super(status, type, message);
    }
  }
  const noQueue = () =>
    new SqsError(
      400,
      'QueueDoesNotExist',
      'AWS.SimpleQueueService.NonExistentQueue',
      'The specified queue does not exist.',
    );
  const QUEUE_DEFAULTS: Record<string, string> = {
    VisibilityTimeout: '30',
    MaximumMessageSize: '262144',
    MessageRetentionPeriod: '345600',
    DelaySeconds: '0',
    ReceiveMessageWaitTimeSeconds: '0',
    // New queues are encrypted with SSE-SQS unless asked otherwise (AWS's default since 2022).
    SqsManagedSseEnabled: 'true',
  };
  const QUEUE_SETTABLE = new Set([...Object.keys(QUEUE_DEFAULTS), 'Policy', 'RedrivePolicy', 'KmsMasterKeyId']);
  const checkQueueAttributes = (attrs: Json) => {
    for (const [k, v] of Object.entries(attrs)) {
      if (!QUEUE_SETTABLE.has(k))
        throw new SqsError(400, 'InvalidAttributeName', 'InvalidAttributeName', `Unknown Attribute ${k}.`);
      const value = String(v);
      const range = (lo: number, hi: number) => {
        if (!/^\d+$/.test(value) || Number(value) < lo || Number(value) > hi)
          throw new SqsError(
            400,
            'InvalidAttributeValue',
            'InvalidAttributeValue',
            `Invalid value for the parameter ${k}.`,
          );
      };
      if (k === 'MessageRetentionPeriod') range(60, 1209600);
      if (k === 'VisibilityTimeout') range(0, 43200);
      if (k === 'SqsManagedSseEnabled' && value !== 'true' && value !== 'false')
        throw new SqsError(
          400,
          'InvalidAttributeValue',
          'InvalidAttributeValue',
          'Invalid value for the parameter SqsManagedSseEnabled.',
        );
      if (k === 'RedrivePolicy') {
        // SQS: a dead-letter queue ARN and maxReceiveCount 1..1000 (a number or its digits).
        let policy: { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown } = {};
        try {
          policy = JSON.parse(value);
        } catch {
          /* refused below */
        }
        const count = Number(policy.maxReceiveCount);
        if (
          typeof policy.deadLetterTargetArn !== 'string' ||
          !SQS_ARN.test(policy.deadLetterTargetArn) ||
          !Number.isInteger(count) ||
          count < 1 ||
          count > 1000
        )
          throw new SqsError(
            400,
            'InvalidAttributeValue',
            'InvalidAttributeValue',
            `Value ${value} for parameter RedrivePolicy is invalid.`,
          );
      }
      if (k === 'Policy') {
        try {
          JSON.parse(value);
        } catch {
          throw new SqsError(
            400,
            'InvalidAttributeValue',
            'InvalidAttributeValue',
            'Invalid value for the parameter Policy.',
          );
        }
      }
    }
  };
  const queueOf = (url: unknown): FakeQueue => {
    const name =
      String(url ?? '')
        .split('/')
        .at(-1) ?? '';
    const q = state.queues.get(name);
    if (!q || !String(url).endsWith(`/${opts.accountId}/${name}`)) throw noQueue();
    return q;
  };
  const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');
  const visible = (q: FakeQueue, now: number) => {
    const keep = Number(q.attributes.MessageRetentionPeriod) * 1000;
    q.messages = q.messages.filter((m) => now - m.sentAt < keep);
    return q.messages.filter((m) => m.visibleAt <= now);
  };
  const enqueue = (q: FakeQueue, body: string): FakeMessage => {
    const m: FakeMessage = { id: randomUUID(), body, sentAt: Date.now(), receiveCount: 0, visibleAt: 0 };
    q.messages.push(m);
    return m;
  };
  const queueByArn = (arn: string): FakeQueue | undefined => [...state.queues.values()].find((x) => x.arn === arn);
  /**
   * SQS's redrive: a message received maxReceiveCount times that would be received again moves to the queue's
   * dead-letter queue instead (same MessageId and body, its receive count starting again). No such queue: it stays.
   * Returns the candidates that stay.
   */
  const redrive = (q: FakeQueue, candidates: FakeMessage[]): FakeMessage[] => {
    if (!q.attributes.RedrivePolicy) return candidates;
    const policy = JSON.parse(q.attributes.RedrivePolicy) as { deadLetterTargetArn: string; maxReceiveCount: number };
    const dlq = queueByArn(policy.deadLetterTargetArn);
    if (!dlq) return candidates;
    const spent = candidates.filter((c) => c.receiveCount >= Number(policy.maxReceiveCount));
    q.messages = q.messages.filter((m) => !spent.includes(m));
    for (const m of spent) dlq.messages.push({ ...m, receiveCount: 0, visibleAt: 0, receiptHandle: undefined });
    return candidates.filter((m) => !spent.includes(m));
  };
  const sqs: Record<string, (p: Json, host: string) => Json> = {
    CreateQueue(p, host) {
      const name = String(p.QueueName ?? '');
      if (!/^[A-Za-z0-9_-]{1,80}$/.test(name))
        throw new SqsError(
          400,
          'InvalidParameterValue',
          'InvalidParameterValue',
          'Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length',
        );
      const attrs = (p.Attributes ?? {}) as Json;
      checkQueueAttributes(attrs);
      const existing = state.queues.get(name);
      if (existing) {
        if (Object.entries(attrs).some(([k, v]) => existing.attributes[k] !== String(v)))
          throw new SqsError(
            400,
            'QueueNameExists',
            'QueueAlreadyExists',
            'A queue already exists with the same name and a different value for attribute(s)',
          );
        return { QueueUrl: existing.url };
      }
      const q: FakeQueue = {
        name,
        url: `http://${host}/${opts.accountId}/${name}`,
        arn: `arn:aws:sqs:${opts.region}:${opts.accountId}:${name}`,
        attributes: {
          ...QUEUE_DEFAULTS,
          ...Object.fromEntries(Object.entries(attrs).map(([k, v]) => [k, String(v)])),
          CreatedTimestamp: String(Math.floor(Date.now() / 1000)),
        },
        tags: new Map(Object.entries((p.tags ?? {}) as Record<string, string>)),
        messages: [],
      };
      state.queues.set(name, q);
      return { QueueUrl: q.url };
    },
    GetQueueUrl(p) {
      const q = state.queues.get(String(p.QueueName ?? ''));
      if (!q) throw noQueue();
      return { QueueUrl: q.url };
    },
    GetQueueAttributes(p) {
      const q = queueOf(p.QueueUrl);
      const now = Date.now();
      const shown = visible(q, now);
      const all: Record<string, string> = {
        QueueArn: q.arn,
        ApproximateNumberOfMessages: String(shown.length),
        ApproximateNumberOfMessagesNotVisible: String(q.messages.length - shown.length),
        ApproximateNumberOfMessagesDelayed: '0',
        LastModifiedTimestamp: q.attributes.CreatedTimestamp,
        ...q.attributes,
      };
      const names = (p.AttributeNames ?? []) as string[];
      const wanted = names.includes('All')
        ? all
        : Object.fromEntries(names.filter((n) => n in all).map((n) => [n, all[n]]));
      return { Attributes: wanted };
    },
    SetQueueAttributes(p) {
      const q = queueOf(p.QueueUrl);
      const attrs = (p.Attributes ?? {}) as Json;
      checkQueueAttributes(attrs);
      for (const [k, v] of Object.entries(attrs)) q.attributes[k] = String(v);
      return {};
    },
    ListQueueTags(p) {
      return { Tags: Object.fromEntries(queueOf(p.QueueUrl).tags) };
    },
    TagQueue(p) {
      const q = queueOf(p.QueueUrl);
      for (const [k, v] of Object.entries((p.Tags ?? {}) as Record<string, string>)) q.tags.set(k, v);
      return {};
    },
    DeleteQueue(p) {
      state.queues.delete(queueOf(p.QueueUrl).name);
      return {};
    },
    SendMessage(p) {
      const body = String(p.MessageBody ?? '');
      if (!body)
        throw new SqsError(
          400,
          'MissingParameter',
          'MissingParameter',
          'The request must contain the parameter MessageBody.',
        );
      const m = enqueue(queueOf(p.QueueUrl), body);
      return { MessageId: m.id, MD5OfMessageBody: md5(body) };
    },
    ReceiveMessage(p) {
      const q = queueOf(p.QueueUrl);
      const max = Number(p.MaxNumberOfMessages ?? 1);
      if (!(max >= 1 && max <= 10))
        throw new SqsError(
          400,
          'InvalidParameterValue',
          'InvalidParameterValue',
          'Value for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.',
        );
      const now = Date.now();
      const timeout = Number(p.VisibilityTimeout ?? q.attributes.VisibilityTimeout) * 1000;
      const got = redrive(q, visible(q, now)).slice(0, max);
      for (const m of got) {
        m.receiveCount++;
        m.visibleAt = now + timeout;
        m.receiptHandle = Buffer.from(`${m.id}:${randomUUID()}`).toString('base64');
      }
      if (!got.length) return {};
      return {
        Messages: got.map((m) => ({
          MessageId: m.id,
          ReceiptHandle: m.receiptHandle,
          MD5OfBody: md5(m.body),
          Body: m.body,
          Attributes: { ApproximateReceiveCount: String(m.receiveCount), SentTimestamp: String(m.sentAt) },
        })),
      };
    },
    DeleteMessage(p) {
      const q = queueOf(p.QueueUrl);
      const handle = String(p.ReceiptHandle ?? '');
      const id = Buffer.from(handle, 'base64').toString('utf8').split(':')[0];
      if (!/^[0-9a-f-]{36}$/.test(id))
        throw new SqsError(
          400,
          'ReceiptHandleIsInvalid',
          'ReceiptHandleIsInvalid',
          `The input receipt handle "${handle}" is not a valid receipt handle.`,
        );
      // Only the latest receipt handle deletes; an older one is accepted and does nothing (as SQS).
      q.messages = q.messages.filter((m) => m.receiptHandle !== handle);
      return {};
    },
  };

  /** Whether the queue's policy lets SNS deliver for this topic (Principal Service sns.amazonaws.com, aws:SourceArn). */
  const snsMaySend = (q: FakeQueue, topicArn: string): boolean => {
    let statements: PolicyStatement[];
    try {
      statements = ([] as PolicyStatement[]).concat(JSON.parse(q.attributes.Policy ?? '{}').Statement ?? []);
    } catch {
      return false;
    }
    return statements.some((st) => {
      const service = asList((st.Principal as { Service?: unknown })?.Service);
      if (st.Effect !== 'Allow' || !service.includes('sns.amazonaws.com')) return false;
      if (!asList(st.Action).some((a) => globMatch(a, 'sqs:SendMessage'))) return false;
      const cond = st.Condition ?? {};
      const sources = [...asList(cond.ArnEquals?.['aws:SourceArn']), ...asList(cond.ArnLike?.['aws:SourceArn'])];
      return sources.some((arn) => globMatch(arn, topicArn));
    });
  };

  const answerSqs = (req: IncomingMessage, res: ServerResponse, body: string, target: string) => {
    const action = target.slice('AmazonSQS.'.length);
    const region = /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1];
    const requestId = randomUUID();
    const mutating = MUTATING.has(action);
    let input: Json = {};
    const answer = () => {
      let status = 200;
      let out: Json;
      const headers: Record<string, string> = {
        'content-type': 'application/x-amz-json-1.0',
        'x-amzn-requestid': requestId,
      };
      try {
        if (!req.headers.authorization)
          throw new SqsError(
            400,
            'MissingAuthenticationToken',
            'MissingAuthenticationToken',
            'Request is missing Authentication Token',
          );
        try {
          input = body ? (JSON.parse(body) as Json) : {};
        } catch {
          throw new SqsError(
            400,
            'SerializationException',
            'SerializationException',
            'Start of structure or map found where not expected.',
          );
        }
        if (!(action in sqs))
          throw new SqsError(
            400,
            'InvalidAction',
            'InvalidAction',
            `The action ${action} is not valid for this endpoint.`,
          );
        const fault = faults.find((f) => f.times > 0 && (!f.action || f.action === action));
        if (fault) {
          fault.times--;
          if (fault.kind === 'hang') {
            calls.push({ service: 'sqs', action, mutating, params: flat(input), status: 0, signingRegion: region });
            return;
          }
          throw sqsFault(fault.kind, action);
        }
        if (mutating && mutationsLeft !== undefined) {
          if (mutationsLeft <= 0) throw sqsFault('server', action);
          mutationsLeft--;
        }
        out = sqs[action](input, String(req.headers.host ?? '127.0.0.1'));
      } catch (err) {
        const e = err instanceof SqsError ? err : new SqsError(500, 'InternalError', 'InternalError', String(err));
        status = e.status;
        headers['x-amzn-query-error'] = `${e.queryCode};${e.status >= 500 ? 'Receiver' : 'Sender'}`;
        out = { __type: `com.amazonaws.sqs#${e.type}`, message: e.message };
      }
      calls.push({ service: 'sqs', action, mutating, params: flat(input), status, signingRegion: region });
      const text = JSON.stringify(out);
      res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (opts.latencyMs > 0) setTimeout(answer, opts.latencyMs);
    else answer();
  };
  const flat = (input: Json): Record<string, string> =>
    Object.fromEntries(Object.entries(input).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
  const sqsFault = (kind: FaultKind, action: string): SqsError => {
    if (kind === 'throttle') return new SqsError(400, 'ThrottlingException', 'ThrottlingException', 'Rate exceeded');
    if (kind === 'server')
      return new SqsError(500, 'InternalError', 'InternalError', 'We encountered an internal error. Please try again.');
    if (kind === 'quota') return new SqsError(403, 'OverLimit', 'OverLimit', 'Too many queues');
    return new SqsError(
      403,
      'AccessDeniedException',
      'AccessDenied',
      `User: arn:aws:iam::${opts.accountId}:user/test is not authorized to perform: sqs:${action} because no identity-based policy allows the sqs:${action} action`,
    );
  };

  const serviceOf = (req: IncomingMessage, action: string): { service?: QueryService; region?: string } => {
    const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(
      String(req.headers.authorization ?? ''),
    );
    const svc = scope?.[2];
    if (svc === 'sns' || svc === 'autoscaling' || svc === 'ec2' || svc === 'iam')
      return { service: svc, region: scope?.[1] };
    if (action in sns) return { service: 'sns', region: scope?.[1] };
    if (action in autoscaling) return { service: 'autoscaling', region: scope?.[1] };
    if (action in ec2) return { service: 'ec2', region: scope?.[1] };
    if (action in iam) return { service: 'iam', region: scope?.[1] };
    return { region: scope?.[1] };
  };

  const faultError = (kind: FaultKind, service: QueryService, action: string, resource: string): AwsError => {
    if (service === 'ec2') return ec2FaultError(kind, action);
    if (service === 'iam') return iamFaultError(kind, action, resource);
    if (kind === 'throttle') return new AwsError(400, 'Throttling', 'Rate exceeded');
    if (kind === 'server')
      return new AwsError(
        500,
        service === 'sns' ? 'InternalError' : 'InternalFailure',
        'We encountered an internal error. Please try again.',
      );
    // SNS answers a quota with 403 (TopicLimitExceeded, SubscriptionLimitExceeded); Auto Scaling with 400 LimitExceeded.
    if (kind === 'quota') {
      return service === 'sns'
        ? new AwsError(
            403,
            action === 'Subscribe' ? 'SubscriptionLimitExceeded' : 'TopicLimitExceeded',
            'Topic limit exceeded',
          )
        : new AwsError(
            400,
            'LimitExceeded',
            'You have reached the maximum number of SNS topics for this Auto Scaling group',
          );
    }
    const prefix = service === 'sns' ? 'SNS' : 'autoscaling';
    const message = `User: arn:aws:iam::${opts.accountId}:user/test is not authorized to perform: ${prefix}:${action} on resource: ${resource} because no identity-based policy allows the ${prefix}:${action} action`;
    return new AwsError(403, service === 'sns' ? 'AuthorizationError' : 'AccessDenied', message);
  };

  // IAM's codes: Throttling, ServiceFailure (500), AccessDenied, LimitExceeded (409).
  const iamFaultError = (kind: FaultKind, action: string, resource: string): AwsError => {
    if (kind === 'throttle') return new AwsError(400, 'Throttling', 'Rate exceeded');
    if (kind === 'server')
      return new AwsError(500, 'ServiceFailure', 'The request processing has failed because of an unknown error.');
    if (kind === 'quota') return new AwsError(409, 'LimitExceeded', 'Cannot exceed quota for RolesPerAccount: 1000');
    return new AwsError(
      403,
      'AccessDenied',
      `User: arn:aws:iam::${opts.accountId}:user/test is not authorized to perform: iam:${action} on resource: ${resource} because no identity-based policy allows the iam:${action} action`,
    );
  };

  // EC2's own codes: RequestLimitExceeded (retried by the SDK as throttling), InternalError, UnauthorizedOperation.
  const ec2FaultError = (kind: FaultKind, action: string): AwsError => {
    if (kind === 'throttle') return new AwsError(503, 'RequestLimitExceeded', 'Request limit exceeded.');
    if (kind === 'server') return new AwsError(500, 'InternalError', 'An internal error has occurred');
    if (kind === 'quota') return new AwsError(400, 'RequestLimitExceeded', 'Request limit exceeded.');
    return new AwsError(
      403,
      'UnauthorizedOperation',
      `You are not authorized to perform this operation. User: arn:aws:iam::${opts.accountId}:user/test is not authorized to perform: ec2:${action} because no identity-based policy allows the ec2:${action} action`,
    );
  };

  const send = (res: ServerResponse, status: number, body: string, requestId: string) => {
    res.writeHead(status, {
      'content-type': 'text/xml',
      'x-amzn-requestid': requestId,
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  };

  const control = (req: IncomingMessage, res: ServerResponse, body: string) => {
    // The test control API (not AWS): confirm subscriptions, look at the state.
    if (req.url?.startsWith('/__fake/confirm')) {
      const endpoint = body ? (JSON.parse(body) as { endpoint?: string }).endpoint : undefined;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ confirmed: fake.confirmSubscriptions(endpoint) }));
      return;
    }
    // Launch or terminate an instance (for tests outside this process, e.g. the Python side): the answer holds the
    // instance's lifecycle actions and the messages published meanwhile.
    if (req.url?.startsWith('/__fake/launch') || req.url?.startsWith('/__fake/terminate')) {
      const given = (body ? JSON.parse(body) : {}) as {
        group?: string;
        instance_id?: string;
        origin?: LaunchOptions['origin'];
        destination?: LaunchOptions['destination'];
      };
      const before = state.published.length;
      let status = 200;
      let out: Record<string, unknown>;
      try {
        let id = given.instance_id ?? '';
        if (req.url.startsWith('/__fake/launch'))
          id = fake.launchInstance(given.group ?? '', given.instance_id, {
            origin: given.origin,
            destination: given.destination,
          }).id;
        else fake.terminateInstance(id);
        out = {
          instance_id: id,
          lifecycle_state: [...state.groups.values()].find((g) => g.instances.has(id))?.instances.get(id) ?? null,
          actions: fake.lifecycleActionsOf(id),
          published: state.published.slice(before),
        };
      } catch (err) {
        status = 400;
        out = { error: err instanceof Error ? err.message : String(err) };
      }
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(out));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        topics: [...state.topics.values()].map((t) => ({ ...t, tags: Object.fromEntries(t.tags) })),
        subscriptions: [...state.subscriptions.values()],
        groups: [...state.groups.values()].map((g) => ({
          name: g.name,
          notifications: Object.fromEntries([...g.notifications].map(([k, v]) => [k, [...v]])),
          hooks: [...g.hooks.values()],
          instances: Object.fromEntries(g.instances),
        })),
        roles: [...state.roles.values()].map((r) => ({
          ...r,
          tags: Object.fromEntries(r.tags),
          policies: Object.fromEntries(r.policies),
        })),
        lifecycleActions: state.lifecycleActions,
        published: state.published,
        queues: [...state.queues.values()].map((q) => ({ ...q, tags: Object.fromEntries(q.tags) })),
        calls,
      }),
    );
  };

  const listener: RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (req.url?.startsWith('/__fake/')) return control(req, res, body);
      const target = String(req.headers['x-amz-target'] ?? '');
      if (target.startsWith('AmazonSQS.')) return answerSqs(req, res, body, target);
      const params = Object.fromEntries(new URLSearchParams(body));
      const action = params.Action ?? '';
      const { service, region } = serviceOf(req, action);
      const requestId = randomUUID();
      const mutating = MUTATING.has(action);
      inFlight.set(action, (inFlight.get(action) ?? 0) + 1);
      peakInFlight.set(action, Math.max(peakInFlight.get(action) ?? 0, inFlight.get(action)!));
      const answer = () => {
        inFlight.set(action, inFlight.get(action)! - 1);
        let status = 200;
        let xml: string;
        try {
          if (req.method !== 'POST')
            throw new AwsError(400, 'InvalidAction', 'The Query protocol fake only takes POST');
          if (!req.headers.authorization)
            throw new AwsError(403, 'MissingAuthenticationToken', 'Request is missing Authentication Token');
          if (!service || !(action in handlers[service]))
            throw new AwsError(
              400,
              'InvalidAction',
              `Could not find operation ${action} for version ${params.Version}`,
            );
          if (params.Version !== VERSION[service])
            throw new AwsError(400, 'InvalidAction', `Version ${params.Version} is not valid for ${service}`);
          const fault = faults.find((f) => f.times > 0 && (!f.action || f.action === action));
          if (fault) {
            fault.times--;
            if (fault.kind === 'hang') {
              // Accepted and never answered: the connection stays open until the client gives up or close().
              calls.push({ service, action, mutating, params, status: 0, signingRegion: region });
              return;
            }
            throw faultError(fault.kind, service, action, resourceOf(service, action, params));
          }
          if (mutating && mutationsLeft !== undefined) {
            if (mutationsLeft <= 0) throw faultError('server', service, action, '');
            mutationsLeft--;
          }
          const result = handlers[service][action](params);
          xml =
            service === 'ec2'
              ? `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${NS.ec2}">${text('requestId', requestId)}${result}</${action}Response>\n`
              : `<?xml version="1.0"?>\n<${action}Response xmlns="${NS[service]}">` +
                (result || EMPTY_RESULT.has(action) ? el(`${action}Result`, result) : '') +
                el('ResponseMetadata', text('RequestId', requestId)) +
                `</${action}Response>\n`;
        } catch (err) {
          const e = err instanceof AwsError ? err : new AwsError(500, 'InternalFailure', String(err));
          status = e.status;
          xml =
            service === 'ec2'
              ? `<?xml version="1.0" encoding="UTF-8"?>\n<Response>${el('Errors', el('Error', text('Code', e.code) + text('Message', e.message)))}${text('RequestID', requestId)}</Response>\n`
              : `<?xml version="1.0"?>\n<ErrorResponse xmlns="${NS[service ?? 'sns']}">` +
                el(
                  'Error',
                  text('Type', e.status >= 500 ? 'Receiver' : 'Sender') +
                    text('Code', e.code) +
                    text('Message', e.message),
                ) +
                text('RequestId', requestId) +
                '</ErrorResponse>\n';
        }
        calls.push({ service: service ?? 'sns', action, mutating, params, status, signingRegion: region });
        send(res, status, xml, requestId);
      };
      if (opts.latencyMs > 0) setTimeout(answer, opts.latencyMs);
      else answer();
    });
  };
  const server = options.tls ? createTlsServer(options.tls, listener) : createServer(listener);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  const fake: FakeAws = {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    state,
    calls,
    faults,
    options: opts,
    inject: (fault) => faults.push(fault),
    failAfterMutations: (n) => {
      mutationsLeft = n;
    },
    confirmSubscriptions(endpoint) {
      let n = 0;
      for (const s of state.subscriptions.values()) {
        if (!s.confirmed && (!endpoint || s.endpoint === endpoint)) {
          s.confirmed = true;
          n++;
        }
      }
      return n;
    },
    unsubscribeViaUrl(endpoint) {
      let n = 0;
      for (const s of state.subscriptions.values()) {
        if (s.confirmed && !s.deleted && s.endpoint === endpoint) {
          s.deleted = true;
          n++;
        }
      }
      return n;
    },
    addGroup,
    canPublish(principalArn, topicArn) {
      const t = state.topics.get(topicArn);
      if (!t) return false;
      const policy = JSON.parse(t.attributes.Policy ?? JSON.stringify(defaultTopicPolicy(t.arn, opts.accountId)));
      const statements = ([] as PolicyStatement[]).concat(policy.Statement);
      const applying = statements.filter((st) => statementApplies(st, principalArn));
      if (applying.some((st) => st.Effect === 'Deny')) return false;
      if (applying.some((st) => st.Effect === 'Allow')) return true;
      return principalArn.split(':')[4] === opts.accountId;
    },
    deliveryFails(topicArn, message) {
      let n = 0;
      for (const sub of state.subscriptions.values()) {
        if (sub.topicArn !== topicArn || sub.deleted || !sub.confirmed || !sub.attributes.RedrivePolicy) continue;
        const target = String(JSON.parse(sub.attributes.RedrivePolicy).deadLetterTargetArn);
        const q = queueByArn(target);
        if (!q || !snsMaySend(q, topicArn)) continue;
        enqueue(
          q,
          JSON.stringify({
            Type: 'Notification',
            MessageId: randomUUID(),
            TopicArn: topicArn,
            Message: message,
            Timestamp: new Date().toISOString(),
            SignatureVersion: '2',
          }),
        );
        n++;
      }
      return n;
    },
    deliver(topicArn, envelope) {
      let n = 0;
      for (const sub of state.subscriptions.values()) {
        if (sub.topicArn !== topicArn || sub.protocol !== 'sqs' || sub.deleted || !sub.confirmed) continue;
        const q = queueByArn(sub.endpoint);
        if (!q || !snsMaySend(q, topicArn)) continue;
        enqueue(q, sub.attributes.RawMessageDelivery === 'true' ? String(JSON.parse(envelope).Message) : envelope);
        n++;
      }
      return n;
    },
    launchInstance(groupName, id, launch = {}) {
      const g = group(groupName);
      const instance: FakeInstance = {
        id: id ?? `i-${randomUUID().replace(/-/g, '').slice(0, 17)}`,
        state: 'running',
        launchTime: new Date().toISOString(),
        group: g.name,
      };
      state.instances.set(instance.id, instance);
      const origin = launch.origin ?? 'EC2';
      const destination = launch.destination ?? 'AutoScalingGroup';
      const held = startActions(g, instance.id, LAUNCHING, origin, destination);
      const waiting = destination === 'WarmPool' ? 'Warmed:Pending:Wait' : 'Pending:Wait';
      g.instances.set(instance.id, held.length ? waiting : destination === 'WarmPool' ? 'Warmed:Stopped' : 'InService');
      return instance;
    },
    terminateInstance(id) {
      const instance = state.instances.get(id);
      const g = [...state.groups.values()].find((x) => x.instances.has(id));
      const pending = state.lifecycleActions.some(
        (a) => a.instanceId === id && !a.result && a.transition === TERMINATING,
      );
      if (g && !pending && g.instances.get(id) !== 'Terminating:Wait') {
        const held = startActions(g, id, TERMINATING, 'AutoScalingGroup', 'EC2');
        if (held.length) {
          g.instances.set(id, 'Terminating:Wait');
          return;
        }
      }
      if (pending) return;
      if (instance) instance.state = 'terminated';
      for (const group of state.groups.values()) group.instances.delete(id);
    },
    lifecycleActionsOf(instanceId) {
      expireActions();
      return state.lifecycleActions.filter((a) => a.instanceId === instanceId);
    },
    timeOutLifecycleAction(token) {
      const a = state.lifecycleActions.find((x) => x.token === token);
      if (!a) throw new Error(`no lifecycle action with token ${token}`);
      if (!a.result) a.heartbeatDeadline = Date.now();
      expireActions();
    },
    delayRolePropagation(attempts) {
      rolePropagationAttempts = attempts;
    },
    forgetInstance(id) {
      fake.terminateInstance(id);
      state.instances.delete(id);
    },
    peakInFlight,
    mutatingCalls: () => calls.filter((c) => c.mutating),
    actionsCalled: () => [...new Set(calls.map((c) => `${c.service}:${c.action}`))].sort(),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
  return fake;
}
