// Answers given before the interview: an --answers file (YAML or JSON) and answer flags, both parsed here into
// PresetAnswers with the same validators the interview uses. Every problem is collected, so a script author
// sees them all at once, each naming the key (or the flag) it is about.
import { describeValue, quoteItMessage } from '../config/describe.js';
import type { BootstrapMode, CredentialsMode } from '../config/types.js';
import type { Validate } from '../prompts.js';
import type { EmailAnswers, GroupAnswers, PresetAnswers } from './answers.js';
import * as check from './validate.js';

const MODES: readonly BootstrapMode[] = ['attested', 'preauth', 'salt-cloud'];
const CREDENTIALS: readonly CredentialsMode[] = ['instance-role', 'keys'];

const TEXT_KEYS: Record<string, Validate<string>> = {
  profile: check.required,
  region: check.region,
  salt_version: check.saltVersion,
  ssh_username: check.sshUsername,
  public_url: check.publicUrl,
  api_host: check.bindHost,
  ssl_crt: check.absolutePath,
  ssl_key: check.absolutePath,
  master_address: check.masterAddress,
  provider_name: check.providerName,
  access_key_id: check.accessKeyId,
  secret_access_key: check.secret,
  keyname: check.required,
  private_key: check.absolutePath,
  topic_name: check.topicName,
};
const EMAIL_TEXT_KEYS: Record<string, Validate<string>> = {
  smtp_host: check.smtpHost,
  from: check.emailAddress,
  username: check.required,
  password: check.required,
  password_file: check.absolutePath,
};
const OTHER_KEYS = ['groups', 'bootstrap', 'credentials', 'api_port', 'security_groups', 'email'];
const OTHER_EMAIL_KEYS = ['smtp_port', 'tls', 'to'];

export interface PresetResult {
  preset: PresetAnswers;
  problems: string[];
}

const isMapping = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Parses answers data. `label(key)` names a key for messages: "answers.yaml: email.from" or "--email-from".
 * Secrets are never echoed in a message.
 */
export function parsePreset(raw: unknown, label: (key: string) => string): PresetResult {
  const problems: string[] = [];
  const preset: PresetAnswers = {};
  if (raw === undefined || raw === null) return { preset, problems };
  if (!isMapping(raw)) return { preset, problems: [`${label('')} must be a mapping of answers (key: value)`] };
  // "KEY is …" for a wrong kind of value; "KEY: sentence" for a validator's verdict.
  const bad = (key: string, problem: string) => problems.push(`${label(key)} ${problem}`);
  const rejected = (key: string, sentence: string) => problems.push(`${label(key)}: ${sentence}`);
  const secretKeys = new Set(['secret_access_key', 'email.password']);

  const text = (key: string, value: unknown, validate: Validate<string>): string | undefined => {
    const secret = secretKeys.has(key);
    // The answers file is read as text (./answers-file.ts); a number only comes from a caller's own data, and
    // is taken only when its digits are exactly what was meant.
    if (typeof value === 'number' && Number.isSafeInteger(value)) value = String(value);
    if (typeof value === 'number') {
      bad(key, quoteItMessage(value, secret));
      return undefined;
    }
    if (typeof value !== 'string') {
      bad(key, `is ${describeValue(value, { secret, noun: 'text' })}; expected text`);
      return undefined;
    }
    const problem = validate(value.trim());
    if (problem) {
      // A validator quotes the value; for a secret, say only what is wrong.
      rejected(key, secret ? 'the value is not valid (it must be one word, no blanks).' : problem);
      return undefined;
    }
    return value.trim();
  };
  const portOf = (key: string, value: unknown): number | undefined => {
    const s = text(key, value, check.port);
    return s === undefined ? undefined : Number(s);
  };
  const listOf = (key: string, value: unknown, each: Validate<string>): string[] | undefined => {
    const items = typeof value === 'string' ? check.splitList(value) : value;
    if (!Array.isArray(items) || items.length === 0) {
      bad(key, `is ${describe(value)}; expected a list (or one comma-separated string)`);
      return undefined;
    }
    const out = items.map((item, i) => text(`${key}[${i}]`, item, each));
    return out.every((x) => x !== undefined) ? (out as string[]) : undefined;
  };
  const oneOf = <T extends string>(key: string, value: unknown, allowed: readonly T[]): T | undefined => {
    if (typeof value === 'string' && (allowed as readonly string[]).includes(value.trim())) return value.trim() as T;
    bad(key, `is ${describe(value)}; expected ${allowed.join(' or ')}`);
    return undefined;
  };

  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined || value === null) continue;
    if (key in TEXT_KEYS) {
      const v = text(key, value, TEXT_KEYS[key]);
      if (v !== undefined) (preset as Record<string, unknown>)[key] = v;
    } else if (key === 'bootstrap') {
      preset.bootstrap = oneOf(key, value, MODES);
    } else if (key === 'credentials') {
      preset.credentials = oneOf(key, value, CREDENTIALS);
    } else if (key === 'api_port') {
      preset.api_port = portOf(key, value);
    } else if (key === 'security_groups') {
      preset.security_groups = listOf(key, value, check.required);
    } else if (key === 'groups') {
      preset.groups = parseGroups(value, (k, p) => bad(`groups${k}`, p), text, oneOf);
    } else if (key === 'email') {
      if (!isMapping(value)) {
        bad(key, `is ${describe(value)}; expected a mapping with smtp_host, from, to, …`);
        continue;
      }
      const email: Partial<EmailAnswers> = {};
      for (const [ek, ev] of Object.entries(value)) {
        if (ev === undefined || ev === null) continue;
        const path = `email.${ek}`;
        if (ek in EMAIL_TEXT_KEYS) (email as Record<string, unknown>)[ek] = text(path, ev, EMAIL_TEXT_KEYS[ek]);
        else if (ek === 'smtp_port') email.smtp_port = portOf(path, ev);
        else if (ek === 'to') email.to = listOf(path, ev, check.emailAddress);
        else if (ek === 'tls') {
          if (typeof ev === 'boolean') email.tls = ev;
          else bad(path, `is ${describe(ev)}; expected true or false`);
        } else
          bad(
            path,
            `is not a known answer; expected one of ${[...Object.keys(EMAIL_TEXT_KEYS), ...OTHER_EMAIL_KEYS].join(', ')}`,
          );
      }
      preset.email = email;
    } else {
      bad(
        key,
        `is not a known answer; expected one of ${[...Object.keys(TEXT_KEYS), ...OTHER_KEYS].sort().join(', ')}`,
      );
    }
  }
  return { preset, problems };
}

type TextFn = (key: string, value: unknown, validate: Validate<string>) => string | undefined;
type OneOfFn = <T extends string>(key: string, value: unknown, allowed: readonly T[]) => T | undefined;

/**
 * Groups come as a list of "name" / "name:mode" strings (the --group form), or as a mapping of name to
 * { bootstrap, salt_version, ssh_username }. Names cannot hold ":", so "name:mode" is unambiguous.
 */
function parseGroups(
  value: unknown,
  bad: (key: string, problem: string) => void,
  text: TextFn,
  oneOf: OneOfFn,
): PresetAnswers['groups'] {
  const groups: (Partial<GroupAnswers> & { name: string })[] = [];
  const add = (group: Partial<GroupAnswers> & { name: string }, where: string) => {
    if (groups.some((g) => g.name === group.name)) bad(where, `names the group ${JSON.stringify(group.name)} twice`);
    else groups.push(group);
  };
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      const where = `[${i}]`;
      if (typeof item !== 'string') {
        bad(where, `is ${describe(item)}; expected a group name, or name:mode`);
        return;
      }
      const colon = item.lastIndexOf(':');
      const name = text(`groups${where}`, colon >= 0 ? item.slice(0, colon) : item, check.groupName);
      const bootstrap = colon >= 0 ? oneOf(`groups${where}`, item.slice(colon + 1), MODES) : undefined;
      if (name === undefined || (colon >= 0 && bootstrap === undefined)) return;
      add({ name, ...(bootstrap ? { bootstrap } : {}) }, where);
    });
  } else if (isMapping(value)) {
    for (const [name, settings] of Object.entries(value)) {
      const where = `.${name}`;
      if (text(`groups${where}`, name, check.groupName) === undefined) continue;
      const group: Partial<GroupAnswers> & { name: string } = { name };
      if (typeof settings === 'string') {
        group.bootstrap = oneOf(`groups${where}`, settings, MODES);
      } else if (isMapping(settings)) {
        for (const [k, v] of Object.entries(settings)) {
          if (k === 'bootstrap') group.bootstrap = oneOf(`groups${where}.bootstrap`, v, MODES);
          else if (k === 'salt_version') group.salt_version = text(`groups${where}.salt_version`, v, check.saltVersion);
          else if (k === 'ssh_username') group.ssh_username = text(`groups${where}.ssh_username`, v, check.sshUsername);
          else bad(`${where}.${k}`, 'is not a known group answer; expected bootstrap, salt_version or ssh_username');
        }
      } else if (settings !== null && settings !== undefined) {
        bad(where, `is ${describe(settings)}; expected a mapping with bootstrap, salt_version, ssh_username`);
        continue;
      }
      add(group, where);
    }
  } else {
    bad('', `is ${describe(value)}; expected a list of group names (or name:mode), or a mapping of names to settings`);
    return undefined;
  }
  return groups;
}

const describe = (v: unknown) => describeValue(v, { noun: 'text' });

/** Flags win over the answers file; the two group lists are not merged (flags replace), nor are email fields. */
export function mergePresets(fromFile: PresetAnswers, fromFlags: PresetAnswers): PresetAnswers {
  const merged: PresetAnswers = { ...fromFile, ...dropUndefined(fromFlags) };
  if (fromFile.email || fromFlags.email) merged.email = { ...fromFile.email, ...dropUndefined(fromFlags.email ?? {}) };
  return merged;
}

const dropUndefined = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
