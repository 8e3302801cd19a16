// How a value a user gave is shown back in a message: kind and a short, escaped excerpt, never more. A config
// file can hold anything (binary garbage, terminal escape sequences, a megabyte on one line), and a message
// must neither replay it into the terminal nor print a secret, whatever its type.

/** Characters that must not reach a terminal as they are: C0/C1 controls, DEL, line and bidi overrides. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ufffd\ud800-\udfff]/g;

/** `text` as a double-quoted excerpt of at most `max` characters, every unsafe character escaped. */
export function excerpt(text: string, max = 40): string {
  return `"${safeText(text, max).replace(/"/g, '\\"')}"`;
}

/** A message-safe text: unsafe characters escaped, long text cut (for library messages that quote input). */
export function safeText(text: string, max = 200): string {
  const chars = [...text];
  const cut = chars.length > max ? `${chars.slice(0, max - 3).join('')}...` : text;
  return cut.replace(UNSAFE, (c) => {
    const named: Record<string, string> = { '\n': '\\n', '\t': '\\t', '\r': '\\r' };
    return named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

const isMapping = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * What `value` is, for "X is …" messages: "the string "abc"", "the number 3", "a list". With `secret`, only the
 * kind: a password typed as a number must not show up in a terminal or a CI log either.
 */
export function describeValue(value: unknown, options: { secret?: boolean; noun?: string } = {}): string {
  if (value === null || value === undefined) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (isMapping(value)) return 'a mapping';
  const noun = options.noun ?? 'string';
  if (options.secret) return typeof value === 'string' ? `a ${noun}` : `a ${typeof value}`;
  if (typeof value === 'string') return `the ${noun} ${excerpt(value, 60)}`;
  return `the ${typeof value} ${String(value)}`;
}

/** The schema's word on a number where text is meant (YAML reads 3007.10 as 3007.1, 0012 as 12). */
export function quoteItMessage(value: number, secret = false): string {
  const shown = secret ? 'a number' : `the number ${value}`;
  const example = secret ? '"…"' : `"${value}"`;
  return `is ${shown}; quote it (${example}) as it is meant, or YAML may change it (3007.10 would read as 3007.1, 0012 as 12)`;
}

/**
 * The yaml library's ReferenceError from toJS, in words about `file`: an alias bomb, or an alias (`*name`) with
 * no anchor before it, often a value meant to start with `*` (a password). The name is not repeated: it may be
 * exactly such a value.
 */
export function aliasProblem(err: ReferenceError, file: string, maxAliasCount: number): string {
  if (/unresolved alias/i.test(err.message))
    return `${file}: a YAML alias (*name) refers to no anchor (&name) before it; a value that starts with * must be quoted.`;
  return `${file}: its YAML aliases (*name) expand to too much data (more than ${maxAliasCount} alias uses); write the values out instead of nesting aliases.`;
}
