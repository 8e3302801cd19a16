// Reads salt-autoscale.yaml: YAML syntax errors and schema problems both come back as one ConfigError whose
// lines say file:line:col, the key path, what is wrong and what is expected.
import { readFile } from 'node:fs/promises';
import { type Document, isMap, isNode, isPair, isScalar, LineCounter, parseDocument } from 'yaml';
import { ConfigError } from '../errors.js';
import { fsProblem } from '../fs/errors.js';
import { aliasProblem, excerpt, safeText } from './describe.js';
import { type Path, type Problem, validateConfig } from './schema.js';
import type { Config } from './types.js';

export const DEFAULT_CONFIG_FILE = 'salt-autoscale.yaml';

export interface LoadedConfig {
  file: string;
  config: Config;
  /** The parsed document, kept so that edits (provision writing topic_arn back) keep comments. */
  document: Document.Parsed;
}

export function formatPath(path: Path): string {
  if (path.length === 0) return '(top level)';
  return path
    .map((p, i) =>
      typeof p === 'number' ? `[${p}]` : /^[A-Za-z0-9_-]+$/.test(p) ? (i ? '.' : '') + p : `[${excerpt(p, 60)}]`,
    )
    .join('');
}

/**
 * The offset in the source that `path` names: its value, or its key for a key problem. A key that is missing
 * points at its parent's key (`salt:` for a missing salt.master_address); the top level points at the start.
 */
function locate(doc: Document.Parsed, path: Path, atKey: boolean): number {
  if (path.length === 0) return 0;
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  const key = path[path.length - 1];
  if (isMap(parent)) {
    const pair = parent.items.find((it) => isPair(it) && isScalar(it.key) && it.key.value === key);
    if (pair && isPair(pair)) {
      const target = atKey || !isNode(pair.value) ? pair.key : pair.value;
      if (isNode(target) && target.range) return target.range[0];
    }
  } else {
    const node = doc.getIn(path, true);
    if (isNode(node) && node.range) return node.range[0];
  }
  return locate(doc, path.slice(0, -1), true);
}

/** More alias uses than this is a "billion laughs" document, not a config: refused before it is expanded. */
const MAX_ALIAS_COUNT = 100;

export function parseConfigText(text: string, file: string): LoadedConfig {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const where = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  if (document.errors.length > 0) {
    const lines = document.errors
      .slice(0, 5)
      .map((e) => `${where(e.pos[0])}: invalid YAML: ${safeText(e.message.split('\n')[0])}`);
    throw new ConfigError(
      `${lines.join('\n')}\nFix the YAML syntax (indentation, quotes, colons) and run the command again.`,
    );
  }
  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // The yaml library's guard against alias bombs: a problem of the file, not a bug.
    if (!(err instanceof ReferenceError)) throw err;
    throw new ConfigError(aliasProblem(err, file, MAX_ALIAS_COUNT));
  }
  if (data === undefined || data === null) {
    throw new ConfigError(
      `${file}: the file is empty; run \`salt-autoscale init\` to write one, or copy examples/salt-autoscale.yaml`,
    );
  }
  const { config, problems } = validateConfig(data);
  if (!config) {
    const lines = problems.map(
      (p: Problem) => `${where(locate(document, p.path, !!p.atKey))}: ${formatPath(p.path)} ${p.message}`,
    );
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    throw new ConfigError(`${file}: ${count} in the configuration:\n${lines.map((l) => `  ${l}`).join('\n')}`);
  }
  return { file, config, document };
}

/** The text of a YAML file (`what`: "a config", "an answers file"), or a ConfigError saying why it is none. */
export function yamlText(bytes: Uint8Array, file: string, what = 'the salt-autoscale.yaml config'): string {
  // A config is YAML text: binary data is refused without echoing any of it into the terminal.
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    text = '';
  }
  if ((text === '' && bytes.length > 0) || text.includes('\u0000')) {
    throw new ConfigError(
      `${file}: this is not a YAML text file (it holds binary data or is not UTF-8); expected ${what}.`,
    );
  }
  return text.replace(/^\ufeff/, '');
}

export async function loadConfig(file: string): Promise<LoadedConfig> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new ConfigError(
        `${file}: no such file. Run \`salt-autoscale init\` to create it, or pass --config FILE (the example: examples/salt-autoscale.yaml).`,
      );
    }
    throw new ConfigError(`${file}: cannot read it: ${fsProblem(err, file)}`);
  }
  return parseConfigText(yamlText(bytes, file), file);
}
