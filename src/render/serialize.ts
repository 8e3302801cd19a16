// Serializers the templates use to emit values. Values from the config are data, never code: they reach
// YAML only through the yaml library and shell only single-quoted, so quotes, ':', '#', newlines, '{{' or
// ''' come out exactly as they went in.
import { stringify } from 'yaml';

/**
 * YAML as Salt reads it: Salt parses its config with PyYAML, a YAML 1.1 parser, so strings such as "yes",
 * "on" or "0777" must be quoted the 1.1 way or Salt would read a boolean or an octal number.
 */
export function toSaltYaml(value: unknown): string {
  return stringify(value, { version: '1.1', lineWidth: 0, minContentWidth: 0, aliasDuplicateObjects: false }).trimEnd();
}

/** A POSIX shell word that the shell reads back as exactly `value`. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Text safe inside a one-line `#` comment (a newline would end the comment and start code). */
export function commentText(value: string): string {
  return value.replace(/[\r\n\u2028\u2029]+/g, ' ');
}
