// Serializers the templates use to emit values. Values from the config are data, never code: they reach
// YAML only through `toSaltYaml` and shell only single-quoted, so quotes, ':', '#', newlines, '{{' or '''
// come out exactly as they went in.

/**
 * YAML that Salt reads back exactly. Salt parses its config with PyYAML, a YAML 1.1 parser: "yes", "on",
 * "0777" or "=" would not stay strings, U+2028 and U+0085 are line breaks to it, and it refuses control
 * characters in the stream. General-purpose emitters get some of these wrong, so this one is deliberately
 * simple: block collections, and every string either plain from a conservative alphabet or double-quoted
 * with everything outside printable ASCII/Unicode escaped.
 */
export function toSaltYaml(value: unknown): string {
  return emit(value, 0).replace(/^\n/, '');
}

const PLAIN = /^[A-Za-z_/][A-Za-z0-9_./@+-]*$/;
// YAML 1.1 resolves these plain words to booleans or null (any case).
const RESERVED = /^(y|n|yes|no|on|off|true|false|null)$/i;
// Characters PyYAML accepts unescaped: tab, printable ASCII, and printable Unicode that is not a line break.
// Bidi overrides (U+202A-202E, U+2066-2069) are printable to YAML but reorder what a reader sees: escaped too.
const NEEDS_ESCAPE = /[^\t\x20-\x7e\u00a0-\u2027\u202f-\u2065\u206a-\ud7ff\ue000-\ufefe\uff00-\ufffd\ud800-\udfff]/g;

export function yamlString(s: string): string {
  if (PLAIN.test(s) && !RESERVED.test(s)) return s;
  return JSON.stringify(s).replace(NEEDS_ESCAPE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function scalar(value: unknown): string | undefined {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`cannot write ${value} to YAML`);
    return String(value);
  }
  if (typeof value === 'string') return yamlString(value);
  if (Array.isArray(value) && value.length === 0) return '[]';
  if (typeof value === 'object' && Object.keys(value as object).length === 0) return '{}';
  return undefined;
}

function emit(value: unknown, indent: number): string {
  const simple = scalar(value);
  if (simple !== undefined) return ` ${simple}`;
  const pad = ' '.repeat(indent);
  if (Array.isArray(value)) {
    // A list item that is a mapping starts on the dash's line: "- key: value".
    return value
      .map((item) => {
        const body = emit(item, indent + 2);
        return `\n${pad}-${body.startsWith('\n') ? ' ' + body.slice(indent + 3) : body}`;
      })
      .join('');
  }
  return Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `\n${pad}${yamlString(k)}:${emit(v, indent + 2)}`)
    .join('');
}

/** A POSIX shell word that the shell reads back as exactly `value`. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * Text safe inside a one-line `#` comment (a newline would end the comment and start code), and on a terminal
 * when `--diff` prints it: other control characters are written as \uXXXX.
 */
export function commentText(value: string): string {
  return value
    .replace(/[\r\n\u0085\u2028\u2029]+/g, ' ')
    .replace(
      /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
}
