// What the reactor does for an accepted message (DESIGN.md's per-event table), as data: `verify` prints it,
// nothing here performs it. Pure.
import type { Outcome } from './codes.js';
import type { AutoScalingEvent } from './policy.js';
import type { VerifySettings } from './settings.js';

export type Action =
  | { action: 'runner'; fun: 'cloud.create'; kwargs: Record<string, unknown> }
  | { action: 'wheel'; fun: 'key.delete'; kwargs: { match: string } }
  | { action: 'write_autosign_stub'; path: string }
  | { action: 'remove_autosign_stub'; path: string }
  | { action: 'confirm_subscription'; url: string }
  | { action: 'email_subscribe_url'; url: string }
  | { action: 'alert'; level: 'WARNING'; message: string; email: boolean }
  | { action: 'log'; level: 'INFO'; message: string }
  | { action: 'mark_handled'; messageId: string };

const RESERVED_KWARGS = new Set(['provider', 'instances', 'instance_id', 'opts']);

/**
 * runner.cloud.create's keyword arguments, as the reactor builds them: provider, instances and instance_id
 * first (a group setting cannot override them, nor pass Salt's dunder arguments), then the group's settings
 * sorted by name.
 */
export function cloudCreateKwargs(provider: string | undefined, instanceId: string, settings: Record<string, unknown>) {
  const kwargs: Record<string, unknown> = { provider, instances: instanceId, instance_id: instanceId };
  for (const name of Object.keys(settings).sort()) {
    if (!RESERVED_KWARGS.has(name) && !name.startsWith('__')) kwargs[name] = settings[name];
  }
  return kwargs;
}

/** What the reactor's run() returns to Salt for these actions ({} when it reacts through side effects only). */
export function saltReaction(actions: Action[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of actions) {
    if (a.action === 'runner' || a.action === 'wheel') {
      const id = a.action === 'runner' ? String(a.kwargs.instance_id) : a.kwargs.match;
      const args = Object.entries(a.kwargs).map(([k, v]) => ({ [k]: v }));
      out[`ec2_autoscale_${a.action === 'runner' ? 'launch' : 'terminate'}_${id}`] = {
        [`${a.action}.${a.fun}`]: [{ args }],
      };
    }
  }
  return out;
}

export const autosignStubPath = (settings: VerifySettings, instanceId: string) =>
  `${settings.pkiDir.replace(/\/+$/, '')}/minions_autosign/${instanceId}`;

/** The reaction to a verified Auto Scaling notification. */
export function notificationReaction(event: AutoScalingEvent, settings: VerifySettings): Action[] {
  const group = settings.groups.get(event.group)!;
  const id = event.instanceId!; // set for launch and terminate
  switch (event.outcome) {
    case 'launch':
      if (group.bootstrap === 'preauth')
        return [{ action: 'write_autosign_stub', path: autosignStubPath(settings, id) }];
      return [{ action: 'runner', fun: 'cloud.create', kwargs: cloudCreateKwargs(group.provider, id, group.settings) }];
    case 'terminate':
      return [
        { action: 'remove_autosign_stub', path: autosignStubPath(settings, id) },
        { action: 'wheel', fun: 'key.delete', kwargs: { match: id } },
      ];
    case 'launch_error':
    case 'terminate_error':
      return [
        {
          action: 'alert',
          level: 'WARNING',
          email: settings.emailAlerts,
          message: `${event.event} in group ${event.group}, instance ${event.instanceId ?? '-'}${event.description ? `: ${event.description}` : ''}`,
        },
      ];
    default:
      return [
        {
          action: 'log',
          level: 'INFO',
          message: `test notification from group ${event.group}: notifications reach the reactor`,
        },
      ];
  }
}

export function subscriptionReaction(
  outcome: Extract<Outcome, 'subscription_confirmation' | 'unsubscribe_confirmation'>,
  subscribeUrl: string,
  topicArn: string,
  settings: VerifySettings,
): Action[] {
  if (outcome === 'unsubscribe_confirmation') {
    return [
      {
        action: 'alert',
        level: 'WARNING',
        email: settings.emailAlerts,
        message: `the subscription to ${topicArn} was removed; its SubscribeURL is never visited (that would subscribe again)`,
      },
    ];
  }
  return settings.subscriptionConfirmation === 'auto'
    ? [{ action: 'confirm_subscription', url: subscribeUrl }]
    : [{ action: 'email_subscribe_url', url: subscribeUrl }];
}

/** The confirmation token is long and confirms the subscription: people see its start only (--json has it all). */
const shortToken = (url: string) => url.replace(/([?&]Token=)([^&]{8})[^&]*/, '$1$2...');

const inline = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/** One line per action, for people. */
export function describeAction(a: Action): string {
  switch (a.action) {
    case 'runner':
    case 'wheel':
      return `${a.action}.${a.fun} ${Object.entries(a.kwargs)
        .map(([k, v]) => `${k}=${inline(v)}`)
        .join(' ')}`;
    case 'write_autosign_stub':
      return `write autosign stub ${a.path} (mode 0600; the master accepts that minion's key once, within salt.autosign_timeout)`;
    case 'remove_autosign_stub':
      return `remove autosign stub ${a.path} if one is left`;
    case 'confirm_subscription':
      return `confirm the subscription (GET ${shortToken(a.url)})`;
    case 'email_subscribe_url':
      return `email the confirmation link to alerts.email.to (${shortToken(a.url)})`;
    case 'alert':
      return `log ${a.level}${a.email ? ' and send an alert email' : ''}: ${a.message}`;
    case 'log':
      return `log ${a.level}: ${a.message}`;
    case 'mark_handled':
      return `remember MessageId ${a.messageId} as handled (a repeat delivery is then ignored)`;
  }
}
