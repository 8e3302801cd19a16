// Writes sns.topic_arn back into salt-autoscale.yaml after provision. The Document API finds where the value
// is (or where it belongs); the edit itself replaces just those characters, so every comment, blank line and
// the user's own formatting stay exactly as they were. The file is replaced atomically (temp file + rename).
import { readFile } from 'node:fs/promises';
import { isMap, isPair, isScalar, type Pair, parseDocument, stringify } from 'yaml';
import { modeOf, writeFileAtomic } from '../fs/atomic-write.js';

/** The YAML text of one scalar value, quoted only when YAML needs it. */
function scalarText(value: string): string {
  return stringify(value).trimEnd();
}

function findPair(map: unknown, key: string): Pair | undefined {
  if (!isMap(map)) return undefined;
  return map.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key) as Pair | undefined;
}

/** Returns `text` with sns.topic_arn set to `arn`, changing nothing else; undefined when no surgical edit fits. */
export function withTopicArnText(text: string, arn: string): string | undefined {
  const doc = parseDocument(text);
  if (doc.errors.length) return undefined;
  const sns = doc.get('sns', true);
  if (!isMap(sns) || sns.flow) return undefined;
  const value = scalarText(arn);
  const existing = findPair(sns, 'topic_arn');
  if (existing) {
    const node = existing.value;
    if (!isScalar(node) || !node.range) return undefined;
    const [start, end] = node.range;
    // An empty value (`topic_arn:   # comment`) starts where the comment does: keep a space before it.
    const spacer = text[end] === '#' ? ' ' : '';
    const lead = start === end && text[start - 1] === ':' ? ' ' : '';
    return text.slice(0, start) + lead + value + spacer + text.slice(end);
  }
  const anchor = findPair(sns, 'topic_name');
  if (!anchor || !isScalar(anchor.key) || !anchor.key.range || !isScalar(anchor.value) || !anchor.value.range)
    return undefined;
  const keyStart = anchor.key.range[0];
  const indent = keyStart - (text.lastIndexOf('\n', keyStart - 1) + 1);
  const lineEnd = text.indexOf('\n', anchor.value.range[1]);
  const line = `\n${' '.repeat(indent)}topic_arn: ${value}`;
  return lineEnd === -1 ? text + line : text.slice(0, lineEnd) + line + text.slice(lineEnd);
}

/** The same edit through the Document API's own printer: used only when the surgical edit does not apply. */
function withTopicArnReprinted(text: string, arn: string): string {
  const doc = parseDocument(text);
  doc.setIn(['sns', 'topic_arn'], arn);
  return doc.toString();
}

/** Sets sns.topic_arn in the config file. Returns true when the file changed. */
export async function writeTopicArn(file: string, arn: string): Promise<boolean> {
  const text = await readFile(file, 'utf8');
  let next = withTopicArnText(text, arn);
  if (next === undefined || parseDocument(next).getIn(['sns', 'topic_arn']) !== arn)
    next = withTopicArnReprinted(text, arn);
  if (next === text) return false;
  await writeFileAtomic(file, next, { mode: await modeOf(file), overwrite: true });
  return true;
}
