// The one plan vocabulary, shared by render's files and the AWS side's resources: what will change for each
// item, its symbol, the counts, and the one table formatter. A plan is data: each item carries its change and
// a machine-readable state; the prose (`detail`) is for people and is never parsed.

export type Change = 'create' | 'update' | 'delete' | 'unchanged' | 'blocked';

export const SYMBOL: Record<Change, string> = { create: '+', update: '~', delete: '-', unchanged: '=', blocked: '!' };

/** One row of a plan as shown: the change, what it is about (one or more columns), and a free-text detail. */
export interface Row {
  change: Change;
  subject: string[];
  detail: string;
}

/**
 * On a terminal (or when `aligned`), an indented table with aligned columns; otherwise one plain line per
 * item (`+ topic salt-autoscale: create, …`), for logs and CI.
 */
export function formatRows(rows: Row[], aligned: boolean): string {
  if (!aligned) return rows.map((r) => `${SYMBOL[r.change]} ${r.subject.join(' ')}: ${r.detail}\n`).join('');
  const columns = Math.max(0, ...rows.map((r) => r.subject.length));
  const widths = Array.from({ length: columns }, (_, c) => Math.max(...rows.map((r) => (r.subject[c] ?? '').length)));
  return rows
    .map((r) => `  ${SYMBOL[r.change]} ${r.subject.map((s, c) => s.padEnd(widths[c])).join('  ')}  ${r.detail}`)
    .map((line) => `${line.trimEnd()}\n`)
    .join('');
}

export function countChanges(items: readonly { change: Change }[]): Record<Change, number> {
  const counts: Record<Change, number> = { create: 0, update: 0, delete: 0, unchanged: 0, blocked: 0 };
  for (const item of items) counts[item.change]++;
  return counts;
}
