// reconcile's plan, pure: from what the master holds (key names, stubs, the ledger, the gate's verdicts on dead
// letters) and what AWS says (the configured groups' instances, EC2's state of other ids), what to change.
// Items carry a change and a machine-readable state; `detail` is prose for people.
//
// The rule that matters most: a key is touched only if this tool manages its id, i.e. a configured group holds
// it now, the ledger says the reactor (or reconcile) admitted it, EC2 tags it with a configured group, or a
// verified dead letter names it. Every other key is listed as not managed here and left alone.

import type { BootstrapMode } from '../config/types.js';
import type { Change } from '../plan.js';

export type KeyState = 'accepted' | 'pending' | 'rejected' | 'denied';

export interface LedgerEntry {
  group?: string | null;
  admitted_how?: string;
  admitted_at?: number;
  terminated_at?: number;
}

/** The gate's verdict on one dead letter (reconcile_cli.py's snapshot). */
export interface LetterVerdict {
  id: string;
  verdict: 'accepted' | 'rejected';
  reason: string | null;
  outcome: string | null;
  group: string | null;
  instance_id: string | null;
  message_id: string | null;
}

/** An open lifecycle action in the ledger (reconcile_cli.py's view of lifecycle/<id>.json, without its token). */
export interface LifecycleOpen {
  group?: string | null;
  hook?: string | null;
  transition?: string | null;
  /** waiting | draining: Salt has not shown the instance ready / drained yet; complete: a result is decided. */
  state?: string | null;
  ready?: string | null;
  result?: string | null;
  attempts?: number | null;
  given_up?: boolean | null;
  last_error?: string | null;
}

/** What reconcile_cli.py's snapshot reads on the master. */
export interface MasterSnapshot {
  keys: Record<KeyState, string[]>;
  stubs: Record<string, { live: boolean }>;
  ledger: Record<string, LedgerEntry>;
  dlq: LetterVerdict[];
  /** Open lifecycle actions by instance id (absent from a gate older than lifecycle hooks). */
  lifecycle?: Record<string, LifecycleOpen>;
}

export interface FleetState {
  /** The configured groups and how each bootstraps. */
  groups: Record<string, BootstrapMode>;
  /** The configured groups that exist in AWS. */
  existing: string[];
  /** Their instances. */
  instances: { id: string; group: string; lifecycle: string }[];
  /** EC2's answer for the ids it was asked about (idsToCheck); an id asked and absent is unknown to EC2. */
  ec2: { id: string; state: string; group?: string }[];
}

/** What the gate package does on the master for one item (reconcile_cli.py apply). */
export type MasterAction =
  | { action: 'delete_key'; instance_id: string; group: string | null }
  | { action: 'write_stub'; instance_id: string; group: string }
  | { action: 'clear_denied'; instance_id: string }
  | { action: 'message_handled'; id: string }
  | { action: 'complete_lifecycle'; instance_id: string };

export type ItemState =
  | 'gone'
  | 'lost_launch'
  | 'stub_expired'
  | 'no_key'
  | 'denied'
  | 'not_managed'
  | 'handled'
  | 'rejected'
  | 'undetermined'
  | 'needs_cloud_create'
  | 'no_such_group'
  | 'lifecycle_unsent'
  | 'lifecycle_waiting';

export interface ReconcileItem {
  change: Change;
  resource: 'key' | 'stub' | 'ledger' | 'denied_key' | 'message' | 'group' | 'lifecycle';
  name: string;
  state: ItemState;
  detail: string;
  group?: string;
  /** What to do on the master, in order, before the item's queue deletion. */
  master?: MasterAction;
  /** The dead letter to delete from the queue once `master` (if any) is done. */
  letter?: string;
}

export interface ReconcilePlan {
  items: ReconcileItem[];
  /** Instances of the configured groups whose key (or live stub) is in place: nothing to do. */
  inStep: number;
}

const INSTANCE_ID = /^i-[0-9a-f]{8}([0-9a-f]{9})?$/;
/** Reasons that mean "could not judge here now", not "not to be acted on": the letter stays for the next run. */
const TRANSIENT = new Set(['cert_fetch_failed']);

const alive = (lifecycle: string) => !lifecycle.startsWith('Terminat');

/** Ids EC2 must be asked about: every id the master knows that no configured group holds alive. */
export function idsToCheck(master: MasterSnapshot, instances: FleetState['instances']): string[] {
  const held = new Set(instances.filter((i) => alive(i.lifecycle)).map((i) => i.id));
  const ids = new Set<string>();
  for (const names of Object.values(master.keys)) for (const id of names) ids.add(id);
  for (const id of Object.keys(master.stubs)) ids.add(id);
  for (const [id, e] of Object.entries(master.ledger)) if (e.terminated_at === undefined) ids.add(id);
  for (const v of master.dlq) if (v.verdict === 'accepted' && v.instance_id) ids.add(v.instance_id);
  return [...ids].filter((id) => INSTANCE_ID.test(id) && !held.has(id)).sort();
}

export interface PlanOptions {
  /** --clear-denied: delete denied keys of managed instances that are still alive. */
  clearDenied?: boolean;
}

export function planReconcile(master: MasterSnapshot, fleet: FleetState, opts: PlanOptions = {}): ReconcilePlan {
  const items: ReconcileItem[] = [];
  const configured = (g: string | null | undefined): g is string => !!g && g in fleet.groups;
  const inGroup = new Map(fleet.instances.map((i) => [i.id, i]));
  const ec2 = new Map(fleet.ec2.map((i) => [i.id, i]));
  const keyStates = new Map<string, KeyState[]>();
  for (const [state, names] of Object.entries(master.keys) as [KeyState, string[]][])
    for (const id of names) keyStates.set(id, [...(keyStates.get(id) ?? []), state]);
  const letters = new Map<string, LetterVerdict>();
  for (const v of master.dlq)
    if (v.verdict === 'accepted' && v.instance_id && configured(v.group)) letters.set(v.instance_id, v);

  /** The group that makes the id ours, and how we know; undefined: not managed here. */
  const claim = (id: string): { group: string | null; by: string } | undefined => {
    const held = inGroup.get(id);
    if (held) return { group: held.group, by: `an instance of ${held.group}` };
    const entry = master.ledger[id];
    if (entry) return { group: entry.group ?? null, by: 'admitted by this tool (ledger)' };
    const tagged = ec2.get(id)?.group;
    if (configured(tagged)) return { group: tagged, by: `launched by ${tagged} (EC2 tag)` };
    const letter = letters.get(id);
    if (letter) return { group: letter.group, by: `named by a verified dead letter of ${letter.group}` };
    return undefined;
  };
  const checked = new Set(idsToCheck(master, fleet.instances));
  const gone = (id: string) => {
    if (!checked.has(id)) return undefined;
    const seen = ec2.get(id);
    if (!seen) return 'EC2 does not know it';
    return seen.state === 'terminated' ? 'terminated' : undefined;
  };

  for (const g of Object.keys(fleet.groups).sort())
    if (!fleet.existing.includes(g))
      items.push({
        change: 'blocked',
        resource: 'group',
        name: g,
        state: 'no_such_group',
        detail:
          'no such Auto Scaling group: its instances cannot be listed (keys of its gone instances are still found)',
      });

  // Gone instances: their keys (every state) and stubs go; a ledger entry still open is closed.
  const planned = new Set<string>();
  for (const id of checked) {
    const why = gone(id);
    const owner = claim(id);
    if (!why || !owner) continue;
    const states = keyStates.get(id) ?? [];
    const stub = id in master.stubs;
    const open = master.ledger[id] && master.ledger[id].terminated_at === undefined;
    if (states.length === 0 && !stub && !open) continue;
    planned.add(id);
    const what =
      [...states.map((s) => `${s} key`), ...(stub ? ['stub'] : [])].join(', ') || 'nothing left on the master';
    items.push({
      change: states.length || stub ? 'delete' : 'update',
      resource: states.length ? 'key' : stub ? 'stub' : 'ledger',
      name: id,
      state: 'gone',
      detail: `${why}; ${owner.by}: remove ${what}${open ? ', record the termination' : ''}`,
      ...(owner.group ? { group: owner.group } : {}),
      master: { action: 'delete_key', instance_id: id, group: owner.group },
    });
  }

  // Live instances of the configured groups: a preauth one with no key and no live stub lost its launch.
  let inStep = 0;
  for (const i of [...fleet.instances].sort((a, b) => a.id.localeCompare(b.id))) {
    if (i.lifecycle !== 'InService') continue;
    const states = keyStates.get(i.id) ?? [];
    if (states.includes('accepted')) {
      inStep++;
      continue;
    }
    if (states.includes('rejected')) continue; // someone rejected it on purpose: Salt refuses it whatever we do
    const mode = fleet.groups[i.group];
    if (mode === 'salt-cloud') {
      items.push({
        change: 'blocked',
        resource: 'key',
        name: i.id,
        state: 'no_key',
        group: i.group,
        detail: `InService in ${i.group} (salt-cloud) with no accepted key: if cloud.create is not still bootstrapping it, run: salt-run cloud.create provider=<provider> instances=${i.id} instance_id=${i.id}`,
      });
      continue;
    }
    if (mode === 'attested') {
      // Never a stub: only the instance's own attestation admits a key (README "Security model").
      items.push({
        change: 'blocked',
        resource: 'key',
        name: i.id,
        state: 'no_key',
        group: i.group,
        detail: `InService in ${i.group} (attested) with no accepted key: it did not attest within attested.window_seconds; check its user data log (/var/log/cloud-init-output.log) and the master log, then salt-key -a ${i.id} once you checked its key (salt-key -f ${i.id})`,
      });
      continue;
    }
    if (master.stubs[i.id]?.live) {
      inStep++;
      continue;
    }
    const entry = master.ledger[i.id];
    if (entry?.admitted_how === 'stub_written' && entry.terminated_at === undefined) {
      items.push({
        change: 'blocked',
        resource: 'stub',
        name: i.id,
        state: 'stub_expired',
        group: i.group,
        detail: `admitted with a stub that expired unused: the instance did not connect within autosign_timeout; check it, then salt-key -a ${i.id}`,
      });
      continue;
    }
    planned.add(i.id);
    items.push({
      change: 'create',
      resource: 'stub',
      name: i.id,
      state: 'lost_launch',
      group: i.group,
      detail: `InService in ${i.group} (preauth) with no key and no live stub: write its autosign stub`,
      master: { action: 'write_stub', instance_id: i.id, group: i.group },
    });
  }

  // Denied keys of managed instances that are still there (a gone one's went with its key above).
  for (const id of master.keys.denied) {
    if (planned.has(id) || gone(id) || !claim(id)) continue;
    items.push(
      opts.clearDenied
        ? {
            change: 'delete',
            resource: 'denied_key',
            name: id,
            state: 'denied',
            detail: 'a denied key (another key came for this id while one was accepted): delete it (--clear-denied)',
            master: { action: 'clear_denied', instance_id: id },
          }
        : {
            change: 'blocked',
            resource: 'denied_key',
            name: id,
            state: 'denied',
            detail: `a denied key (another key came for this id while one was accepted): check, then run with --clear-denied`,
          },
    );
  }

  // Dead letters: an accepted one's effect is the plan above (or already true); each goes once handled. A
  // verified termination is acted on even while EC2 still shows the instance shutting down, as the reactor would.
  for (const v of master.dlq) {
    const id = v.instance_id;
    if (v.verdict === 'accepted' && v.outcome === 'terminate' && id && configured(v.group) && !planned.has(id)) {
      const states = keyStates.get(id) ?? [];
      if (states.length || id in master.stubs) {
        planned.add(id);
        items.push({
          change: 'delete',
          resource: states.length ? 'key' : 'stub',
          name: id,
          state: 'gone',
          group: v.group,
          detail: `terminated (a verified dead letter of ${v.group}): remove ${states.map((s) => `${s} key`).join(', ') || 'its stub'}`,
          master: { action: 'delete_key', instance_id: id, group: v.group },
        });
      }
    }
    items.push(letterItem(v, fleet));
  }

  // Everyone else's keys: listed, never touched.
  const reported = new Set(items.filter((i) => i.resource !== 'message').map((i) => i.name));
  for (const [id, states] of [...keyStates].sort(([a], [b]) => a.localeCompare(b))) {
    if (reported.has(id) || claim(id)) continue;
    items.push({
      change: 'unchanged',
      resource: 'key',
      name: id,
      state: 'not_managed',
      detail: `${states.join(', ')}: not managed here (no configured group or ledger entry claims it)`,
    });
  }
  items.push(...lifecycleItems(master.lifecycle ?? {}));
  return { items, inStep };
}

function letterItem(v: LetterVerdict, fleet: FleetState): ReconcileItem {
  const name = v.message_id ?? v.id;
  const base = { resource: 'message' as const, name, letter: v.id, ...(v.group ? { group: v.group } : {}) };
  if (v.verdict === 'rejected') {
    if (TRANSIENT.has(v.reason ?? ''))
      return {
        ...base,
        change: 'blocked',
        state: 'undetermined',
        detail: `cannot be judged here now (${v.reason}): kept in the queue for the next run`,
        letter: undefined,
      };
    return { ...base, change: 'delete', state: 'rejected', detail: `rejected by the gate (${v.reason}): delete it` };
  }
  if (v.outcome === 'launch' && v.group && fleet.groups[v.group] === 'salt-cloud')
    return {
      ...base,
      change: 'blocked',
      state: 'needs_cloud_create',
      detail: `a lost launch of ${v.instance_id} in ${v.group} (salt-cloud): reconcile cannot run cloud.create; kept in the queue`,
      letter: undefined,
    };
  const what = v.outcome === 'launch' || v.outcome === 'terminate' ? `${v.outcome} of ${v.instance_id}` : v.outcome;
  return {
    ...base,
    change: 'delete',
    state: 'handled',
    detail: `accepted (${what}): its effect is in this plan or already in place; record it as handled, delete it`,
    master: { action: 'message_handled', id: v.id },
  };
}

/** Open lifecycle actions: a decided result the reactor's worker could not send is sent now; one still waiting
 * for Salt (ready, drained) is reported and left to the reactor. */
export function lifecycleItems(open: Record<string, LifecycleOpen>): ReconcileItem[] {
  return Object.entries(open)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([id, a]): ReconcileItem => {
      const hook = `hook ${a.hook ?? '?'} of ${a.group ?? '?'}`;
      if (a.state === 'complete')
        return {
          change: 'update',
          resource: 'lifecycle',
          name: id,
          state: 'lifecycle_unsent',
          group: a.group ?? undefined,
          detail:
            `${hook}: ${a.result} decided, not accepted by Auto Scaling yet (${a.attempts ?? 0} attempt(s)` +
            `${a.last_error ? `, last: ${a.last_error}` : ''}): CompleteLifecycleAction ${a.result}`,
          master: { action: 'complete_lifecycle', instance_id: id },
        };
      return {
        change: 'unchanged',
        resource: 'lifecycle',
        name: id,
        state: 'lifecycle_waiting',
        group: a.group ?? undefined,
        detail: `${hook}: ${a.state === 'draining' ? 'draining' : `waiting for ${a.ready}`} (the reactor completes it)`,
      };
    });
}
