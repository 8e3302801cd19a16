// Reads an --answers file (YAML or JSON) as text. Every answer init asks for is text (a version, a password,
// a port as typed), so a number in the file is taken exactly as written: `salt_version: 3006.10` stays
// "3006.10" (not the number 3006.1), `password: 0012345` stays "0012345", and a 20- or 30-digit secret keeps
// every digit (no rounding, no 1.23e+29). Booleans (`tls: false`) stay booleans.
import { LineCounter, parseDocument, visit } from 'yaml';
import { aliasProblem, safeText } from '../config/describe.js';
import { UserError } from '../errors.js';

const MAX_ALIAS_COUNT = 100;

/** The answers data of `text` (from the file `path`), or a UserError naming path:line:col. */
export function parseAnswersText(text: string, path: string): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const { line, col } = lineCounter.linePos(e.pos[0]);
    throw new UserError(`${path}:${line}:${col}: invalid YAML/JSON: ${safeText(e.message.split('\n')[0])}`);
  }
  visit(doc, {
    Scalar(_key, node) {
      // `source` is the scalar as written (keys included); a number's text is the answer.
      if (typeof node.value === 'number' && typeof node.source === 'string') node.value = node.source;
    },
  });
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    if (!(err instanceof ReferenceError)) throw err;
    throw new UserError(aliasProblem(err, path, MAX_ALIAS_COUNT));
  }
}
