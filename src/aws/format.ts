// How plans and progress look: an aligned table and a live counter on a terminal, one plain line per item
// otherwise (logs, CI), and a JSON shape for scripts.
import { DEFAULT_CONFIG_FILE } from '../config/load.js';
import type { View } from '../io.js';
import { countChanges, formatRows, SYMBOL } from '../plan.js';
import type { Plan, PlanItem } from './plan.js';

export function formatPlan(plan: Plan, tty: boolean): string {
  return formatRows(
    plan.items.map((i) => ({ change: i.change, subject: [i.resource, i.name], detail: i.detail })),
    tty,
  );
}

/** A plan as shown before it is applied (or instead, for a dry run): heading, rows, counts. */
export const planView: View<{ heading: string; plan: Plan }> = {
  text: ({ heading, plan }, { tty }) => `${heading}:\n${formatPlan(plan, tty)}${summarize(plan)}.\n`,
  json: ({ plan }) => planJson(plan),
};

export function summarize(plan: Plan): string {
  const c = countChanges(plan.items);
  const parts = [`${c.create} to create`, `${c.update} to update`, `${c.delete} to delete`, `${c.unchanged} unchanged`];
  if (c.blocked) parts.push(`${c.blocked} blocked`);
  return parts.join(', ');
}

export function attentionNotes(plan: Plan): string[] {
  return [...new Set(plan.items.filter((i) => i.attention).map((i) => i.attention!))];
}

/** An item in one short line: `+ notifications web-asg`. */
export const itemLabel = (i: PlanItem) => `${SYMBOL[i.change]} ${i.resource} ${i.name}`;

export interface Progress {
  start(item: PlanItem): void;
  done(item: PlanItem): void;
  finish(): void;
}

/**
 * On a terminal: one line rewritten in place on stderr. Otherwise: one line per finished change on stdout.
 * Quiet (for --json): nothing.
 */
export function progressReporter(
  total: number,
  mode: 'tty' | 'lines' | 'quiet',
  out: NodeJS.WritableStream = process.stdout,
  err: NodeJS.WritableStream = process.stderr,
): Progress {
  const tty = mode === 'tty';
  let finished = 0;
  const inFlight = new Set<string>();
  const draw = () => {
    const current = [...inFlight].slice(0, 2).join(', ');
    err.write(`\r\x1b[2K[${finished}/${total}] ${current}`);
  };
  return {
    start(item) {
      inFlight.add(itemLabel(item));
      if (tty) draw();
    },
    done(item) {
      finished++;
      inFlight.delete(itemLabel(item));
      if (tty) draw();
      else if (mode === 'lines') out.write(`done ${itemLabel(item)}\n`);
    },
    finish() {
      if (tty) err.write('\r\x1b[2K');
    },
  };
}

/** Plan items as JSON: the action's API call name instead of its arguments. */
export function planJson(plan: Plan) {
  return plan.items.map((i) => ({
    change: i.change,
    resource: i.resource,
    name: i.name,
    state: i.state,
    detail: i.detail,
    ...(i.action ? { call: i.action.type } : {}),
    ...(i.attention ? { attention: i.attention } : {}),
  }));
}

/**
 * Hints name salt-autoscale commands to run next; with a config file other than the default they must name it
 * too, or the command, run as printed, would read ./salt-autoscale.yaml.
 */
export function withConfigFlag(hint: string, configFile: string): string {
  if (configFile === DEFAULT_CONFIG_FILE) return hint;
  const flag = /^[\w./-]+$/.test(configFile) ? configFile : `'${configFile.replace(/'/g, `'\\''`)}'`;
  return hint.replace(
    /salt-autoscale (render|provision|status|teardown|verify)\b/g,
    `salt-autoscale $1 --config ${flag}`,
  );
}
