// Every rendered file ends with a line carrying the sha256 of what render wrote above it. A file whose line
// still matches is render's own earlier output, safe to replace when the config changed; a file that does not
// match was edited by hand (or is not ours), and render replaces it only with --force.
import { createHash } from 'node:crypto';

const SEAL = /\n# salt-autoscale rendered this file; sha256 of the lines above: ([0-9a-f]{64})\n$/;

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** The content with its seal line appended (the content ends with a newline). */
export function seal(content: string): string {
  const body = content.endsWith('\n') ? content : `${content}\n`;
  return `${body}# salt-autoscale rendered this file; sha256 of the lines above: ${digest(body)}\n`;
}

/** Whether `text` is exactly what render wrote: its seal matches the lines above it. */
export function isPristine(text: string): boolean {
  const m = SEAL.exec(text);
  return m !== null && digest(text.slice(0, m.index + 1)) === m[1];
}

/** The content without its seal line, for diffs: the seal is not content to review. */
export function withoutSeal(text: string): string {
  return text.replace(/# salt-autoscale rendered this file; sha256 of the lines above: [0-9a-f]{64}\n$/, '');
}
