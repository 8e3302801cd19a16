// The admission ledger's journal as docs/reactor.md documents it (reactor/salt_autoscale_gate/instance_journal.py
// writes it): <cache_dir>/instances/journal.log, a `#journal <generation>` header, then one line per change,
// `<instance id> <JSON length> <JSON>`, the latest line of an id wins. Tests and benches plant entries and read
// them back through this one format.
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type LedgerEntry = Record<string, unknown> & { instance_id: string };

export const journalPath = (cacheDir: string) => join(cacheDir, 'instances', 'journal.log');

/** Appends entries as the reactor would have written them (the ledger's own line format). */
export function plantLedger(cacheDir: string, ...entries: LedgerEntry[]) {
  const lines = entries.map((e) => {
    const body = Buffer.from(JSON.stringify(e));
    return `${e.instance_id} ${body.length} ${body}\n`;
  });
  const header = existsSync(journalPath(cacheDir)) ? '' : `#journal ${randomBytes(16).toString('hex')}\n`;
  appendFileSync(journalPath(cacheDir), header + lines.join(''), { mode: 0o600 });
}

/** The live entries, instance id -> record (lines that fail their length check left out). */
export function readLedger(cacheDir: string): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  if (!existsSync(journalPath(cacheDir))) return out;
  for (const line of readFileSync(journalPath(cacheDir)).toString('utf8').split('\n')) {
    const [id, size] = line.split(' ', 2);
    if (!id?.startsWith('i-') || size === undefined) continue;
    const body = line.slice(id.length + size.length + 2);
    if (Buffer.byteLength(body) === Number(size)) out.set(id, JSON.parse(body) as Record<string, unknown>);
  }
  return out;
}
