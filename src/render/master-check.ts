// Pure: what in the admin's own /etc/salt/master the drop-in overrides or defeats. Salt applies
// master.d/*.conf over the main file key by key at the top level (salt/config: `overrides.update(
// include_config(default_include, …))`), so every key the drop-in sets replaces the main file's value
// silently, and a changed default_include may not read master.d at all.
import { parse } from 'yaml';

/** Why a key the drop-in sets replaces the main file's, and what to do instead. */
function advice(key: string): string {
  if (key === 'reactor')
    return 'Move your own reactor entries into another master.d/*.conf file, where lists are merged.';
  if (key === 'rest_cherrypy' || key === 'ec2.autoscale')
    return 'Remove it there; salt-autoscale.yaml (salt_api.*) is where these settings live now.';
  if (key === 'autosign_timeout') return 'Remove it there and set salt.autosign_timeout in salt-autoscale.yaml.';
  if (key.startsWith('smtp.'))
    return 'Remove it there and set alerts.email in salt-autoscale.yaml (other Salt features that send mail use it too).';
  return 'Remove it there, or from salt-autoscale.yaml.';
}

/**
 * Warnings about `masterText` (the main master file at `masterPath`) for a drop-in that sets `dropInKeys`:
 * one per key both set, and one when default_include no longer reads master.d/.
 */
export function masterFileWarnings(masterText: string, masterPath: string, dropInKeys: string[]): string[] {
  let data: unknown;
  try {
    data = parse(masterText, { version: '1.1', maxAliasCount: 100 });
  } catch {
    return [`${masterPath} is not valid YAML; Salt will fail to read it too`];
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) return [];
  const opts = data as Record<string, unknown>;
  const warnings = dropInKeys
    .filter((k) => k in opts)
    .map(
      (k) =>
        `${masterPath} sets \`${k}:\`; master.d/ec2-autoscale.conf replaces it (Salt does not merge a drop-in into the main file). ${advice(k)}`,
    );
  const include = opts.default_include;
  if (include !== undefined && !(typeof include === 'string' && include.startsWith('master.d/'))) {
    warnings.push(
      `${masterPath} changes default_include to ${JSON.stringify(include)}; make sure it still reads master.d/*.conf, or Salt ignores the drop-in.`,
    );
  }
  return warnings;
}

/**
 * Warnings about the admin's other master.d/*.conf files. Salt merges those in name order (dictupdate with
 * merge_lists: mappings merged key by key, lists joined, a later scalar wins): `reactor` lists join, which is
 * the way to add one's own reactors, but any other key the drop-in sets, set in another file too, either
 * changes the drop-in's settings or is changed by them.
 */
export function neighbourWarnings(
  files: { path: string; text: string }[],
  ownPath: string,
  dropInKeys: string[],
): string[] {
  const ownName = ownPath.split('/').pop() ?? ownPath;
  const warnings: string[] = [];
  for (const file of files) {
    let data: unknown;
    try {
      data = parse(file.text, { version: '1.1', maxAliasCount: 100 });
    } catch {
      warnings.push(`${file.path} is not valid YAML; Salt will fail to read it too`);
      continue;
    }
    if (!data || typeof data !== 'object' || Array.isArray(data)) continue;
    const name = file.path.split('/').pop() ?? file.path;
    for (const key of dropInKeys.filter((k) => k !== 'reactor' && k in (data as object))) {
      const later = name > ownName;
      warnings.push(
        `${file.path} also sets \`${key}:\`; Salt merges master.d files in name order (mappings key by key, the later file winning), so ${later ? `it overrides the drop-in's ${key}` : `the drop-in's ${key} is merged over it`}. Remove it there and set it in salt-autoscale.yaml.`,
      );
    }
  }
  return warnings;
}
