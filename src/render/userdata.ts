// Pure helpers for the groups whose instances run render's user data (preauth and attested): their user-data
// file names and the master setting preauth relies on.
import { createHash } from 'node:crypto';
import type { Config } from '../config/types.js';

/** The Salt project's bootstrap script (salt-bootstrap), fetched over HTTPS by the instance. */
export const BOOTSTRAP_URL = 'https://github.com/saltstack/salt-bootstrap/releases/latest/download/bootstrap-salt.sh';

export function preauthGroups(config: Config): string[] {
  return Object.keys(config.groups).filter((name) => config.groups[name].bootstrap === 'preauth');
}

/** The groups that get a userdata/<group>.sh: preauth and attested ones. */
export function userDataGroups(config: Config): string[] {
  return Object.keys(config.groups).filter((name) => config.groups[name].bootstrap !== 'salt-cloud');
}

/** The attested user data's first retry delay (seconds); it doubles up to 60. */
export const ATTEST_FIRST_DELAY_SECONDS = 5;

/**
 * group name → file name under userdata/. Group names may hold '/', spaces or '..', so the name is reduced
 * to a safe alphabet; a short hash of the real name keeps two reduced names from colliding.
 */
export function userDataFileNames(config: Config): [string, string][] {
  return userDataGroups(config).map((group) => {
    const safe = group.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
    const name = safe === group ? safe : `${safe}-${createHash('sha256').update(group).digest('hex').slice(0, 8)}`;
    return [group, `${name}.sh`];
  });
}

/** Salt's autosign_timeout (minutes) when any group uses preauth; nothing otherwise. */
export function autosignSettings(config: Config): Record<string, number> | null {
  return preauthGroups(config).length > 0 ? { autosign_timeout: config.salt.autosign_timeout } : null;
}

/** EC2 refuses user data above 16 KB (before base64): a launch template holding more cannot be saved. */
export const EC2_USER_DATA_LIMIT = 16 * 1024;

/** The user-data files over EC2's limit, with their size in bytes. */
export function oversizedUserData(files: { path: string; role: string; content: string }[]) {
  return files
    .filter((f) => f.role.startsWith('user data'))
    .map((f) => ({ ...f, bytes: Buffer.byteLength(f.content, 'utf8') }))
    .filter((f) => f.bytes > EC2_USER_DATA_LIMIT);
}
