// Pure: what in the admin's own /etc/salt/master would defeat the drop-in. Salt applies master.d/*.conf over
// the main file key by key at the top level (salt/config include_config + dict.update), so a `reactor:` or
// `rest_cherrypy:` there is replaced, and a changed default_include may not read master.d at all.
import { parse } from 'yaml';

const REPLACED = ['reactor', 'rest_cherrypy', 'ec2.autoscale'];

export function masterFileWarnings(masterText: string, masterPath: string): string[] {
  let data: unknown;
  try {
    data = parse(masterText, { version: '1.1' });
  } catch {
    return [`${masterPath} is not valid YAML; Salt will fail to read it too`];
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) return [];
  const opts = data as Record<string, unknown>;
  const warnings = REPLACED.filter((k) => k in opts).map(
    (k) =>
      `${masterPath} sets \`${k}:\`; master.d/ec2-autoscale.conf replaces it (Salt does not merge a drop-in into the main file). Move your own entries into another master.d/*.conf file, where lists are merged.`,
  );
  const include = opts.default_include;
  if (include !== undefined && !(typeof include === 'string' && include.startsWith('master.d/'))) {
    warnings.push(
      `${masterPath} changes default_include to ${JSON.stringify(include)}; make sure it still reads master.d/*.conf, or Salt ignores the drop-in.`,
    );
  }
  return warnings;
}
