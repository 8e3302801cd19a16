// Who the master runs as, and which folders its reactor writes to. Salt 3006+ packages run salt-master (and
// salt-api) as the `salt` user: the packaged /etc/salt/master says `user: salt`. Salt reads `user` like any
// option: the main file, then master.d/*.conf in sorted order over it, top-level key by key
// (salt/config: master_config → include_config). The master chowns its own folders (pki_dir and
// minions_autosign, cachedir; salt/cli/daemons.py → salt/utils/verify.py verify_env) to that user when it
// starts as root, but not a cache_dir or pki_dir the config names elsewhere, nor files render writes 0600.
import { execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { Config } from '../config/types.js';
import { type Owner, type RenderedFile, withOwner } from './files.js';
import { preauthGroups } from './userdata.js';

/** Salt's defaults for the options the reactor's folders derive from (salt/config DEFAULT_MASTER_OPTS). */
const DEFAULT_CACHEDIR = '/var/cache/salt/master';
const DEFAULT_PKI_DIR = '/etc/salt/pki/master';

export interface MasterOptions {
  user?: string;
  cachedir?: string;
  pki_dir?: string;
}

/** The options as Salt merges them: the main file, then each master.d file (sorted) over it, key by key. */
export function mergeMasterOptions(texts: string[]): MasterOptions {
  const merged: Record<string, unknown> = {};
  for (const text of texts) {
    try {
      const data = parse(text, { version: '1.1', maxAliasCount: 100 });
      if (data && typeof data === 'object' && !Array.isArray(data)) Object.assign(merged, data);
    } catch {
      // A file Salt cannot read either: master-check.ts says so for the main file.
    }
  }
  const text = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
  return { user: text(merged.user), cachedir: text(merged.cachedir), pki_dir: text(merged.pki_dir) };
}

export interface MasterFile {
  path: string;
  text: string;
}

/** The master's own config: `<configDir>/master`, and `master.d/*.conf` in Salt's (sorted) order. */
export interface MasterFiles {
  main?: MasterFile;
  /** Every master.d/*.conf except the drop-in render is about to write. */
  dropIns: MasterFile[];
}

export async function readMasterFiles(configDir: string, ownDropIn: string): Promise<MasterFiles> {
  const read = async (path: string) => {
    const text = await readFile(path, 'utf8').catch(() => undefined);
    return text === undefined ? undefined : { path, text };
  };
  const names = (await readdir(join(configDir, 'master.d')).catch(() => [] as string[]))
    .filter((n) => n.endsWith('.conf') && n !== ownDropIn)
    .sort();
  const dropIns = await Promise.all(names.map((n) => read(join(configDir, 'master.d', n))));
  return { main: await read(join(configDir, 'master')), dropIns: dropIns.filter((f) => f !== undefined) };
}

/** The options of those files as Salt merges them. */
export const masterOptions = (files: MasterFiles): MasterOptions =>
  mergeMasterOptions([files.main?.text ?? '', ...files.dropIns.map((f) => f.text)]);

/** uid and gid of a user as the system resolves it (NSS: /etc/passwd, LDAP, …), or undefined when unknown. */
export function lookupUser(user: string): Owner | undefined {
  try {
    const id = (flag: string) =>
      Number(execFileSync('id', [flag, '--', user], { encoding: 'utf8', stdio: 'pipe' }).trim());
    const uid = id('-u');
    const gid = id('-g');
    return Number.isInteger(uid) && Number.isInteger(gid) ? { user, uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

/** The folders the reactor writes to: its cache, and minions_autosign/ when a group uses preauth. */
export function reactorDirs(config: Config, master: MasterOptions): { path: string; role: string }[] {
  const dirs = [
    {
      path: config.reactor.cache_dir ?? join(master.cachedir ?? DEFAULT_CACHEDIR, 'ec2-autoscale'),
      role: "the reactor's cache",
    },
  ];
  if (preauthGroups(config).length > 0)
    dirs.push({
      path: join(config.salt.pki_dir ?? master.pki_dir ?? DEFAULT_PKI_DIR, 'minions_autosign'),
      role: 'preauth autosign stubs',
    });
  return dirs;
}

/**
 * What installing into the Salt config dir `configDir` changes, for a master running as `master.user` (whose
 * uid/gid the system resolved to `owner`): the secret files and the reactor's folders go to that user. Pure.
 */
export function installPlan(
  config: Config,
  files: RenderedFile[],
  master: MasterOptions,
  owner: Owner | undefined,
): { files: RenderedFile[]; dirs: { path: string; role: string; mode: number; owner: Owner }[]; warnings: string[] } {
  if (!master.user || master.user === 'root') return { files, dirs: [], warnings: [] };
  if (!owner)
    return {
      files,
      dirs: [],
      warnings: [
        `the master runs as user ${master.user} (\`user:\` in ${config.salt.config_dir}/master or master.d), which this machine does not know; secret files stay root's and salt-master may not read them.`,
      ],
    };
  if (owner.uid === 0) return { files, dirs: [], warnings: [] };
  return {
    files: withOwner(files, owner),
    dirs: reactorDirs(config, master).map((d) => ({ ...d, mode: 0o700, owner })),
    warnings: [],
  };
}
