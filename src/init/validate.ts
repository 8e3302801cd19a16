// Validators for single answers, shared by the interview (re-ask on a problem) and by --yes / --answers
// (report every problem at once). Where the config schema has a rule, it is reused, so an answer that passes
// here cannot fail when the written file is loaded. Each returns a sentence for the user, or undefined.
import {
  type Check,
  checkAbsolutePath,
  checkGroupName,
  checkProviderName,
  checkPublicUrl,
  checkRegion,
  checkSaltVersion,
  checkTopicName,
} from '../config/schema.js';
import type { Validate } from '../prompts.js';

const quote = (v: string) => JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);

/** Turns a schema rule ("is not …") into a sentence about the answer. */
const fromSchema =
  (check: Check): Validate<string> =>
  (v) => {
    if (v === '') return 'An answer is required.';
    const problem = check(v);
    return problem ? `${quote(v)} ${problem}.` : undefined;
  };

export const required: Validate<string> = (v) => (v.trim() === '' ? 'An answer is required.' : undefined);

export const region = fromSchema(checkRegion);
export const groupName = fromSchema(checkGroupName);
export const saltVersion = fromSchema(checkSaltVersion);
export const providerName = fromSchema(checkProviderName);
export const topicName = fromSchema(checkTopicName);
export const absolutePath = fromSchema(checkAbsolutePath);

/** SNS must post over TLS: init accepts https only (the file's allow_http escape hatch is for experts). */
export const publicUrl: Validate<string> = (v) => {
  const problem = fromSchema(checkPublicUrl)(v);
  if (problem) return problem;
  if (!v.startsWith('https:'))
    return `${quote(v)} must use https:// (SNS would otherwise post notifications in clear text).`;
  return undefined;
};

const noBlanks =
  (what: string): Validate<string> =>
  (v) => {
    if (v === '') return 'An answer is required.';
    return /\s/.test(v) ? `${quote(v)} is not ${what} (it contains blanks).` : undefined;
  };

export const bindHost = noBlanks('an address to bind (e.g. 0.0.0.0 or 10.0.0.5)');
export const smtpHost = noBlanks('a host name');
// Never repeats the value: it is a secret.
export const secret: Validate<string> = (v) =>
  v === '' ? 'An answer is required.' : /\s/.test(v) ? 'A secret access key is one word, with no blanks.' : undefined;

export const masterAddress: Validate<string> = (v) => {
  const problem = noBlanks('a host name or IP address')(v);
  if (problem) return problem;
  if (v.includes('://') || v.includes('/'))
    return `${quote(v)} must be a bare host name or IP address, without https:// or a path.`;
  return undefined;
};

export const port: Validate<string> = (v) =>
  /^\d{1,5}$/.test(v) && Number(v) >= 1 && Number(v) <= 65535
    ? undefined
    : `${quote(v)} is not a TCP port (a number from 1 to 65535).`;

// POSIX-ish user names, which is what cloud images use (ec2-user, ubuntu, admin, centos).
export const sshUsername: Validate<string> = (v) =>
  /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/.test(v)
    ? undefined
    : v === ''
      ? 'An answer is required.'
      : `${quote(v)} is not a user name such as ec2-user or ubuntu.`;

// IAM access key ids are 16-128 word characters (AKIA…, ASIA…).
export const accessKeyId: Validate<string> = (v) =>
  /^\w{16,128}$/.test(v)
    ? undefined
    : v === ''
      ? 'An answer is required.'
      : 'That is not an AWS access key id (16-128 letters and digits, e.g. AKIA…).';

export const emailAddress: Validate<string> = (v) =>
  /^[^\s@<>,;]+@[^\s@<>,;]+\.[^\s@<>,;]+$/.test(v)
    ? undefined
    : v === ''
      ? 'An answer is required.'
      : `${quote(v)} is not an email address.`;

/** Splits "a, b ,c" into ["a","b","c"]; commas separate, blanks around them do not count. */
export const splitList = (v: string): string[] =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** A comma-separated list where each item must pass `each`; `optional` allows an empty list. */
export const list =
  (each: Validate<string>, optional = false): Validate<string> =>
  (v) => {
    const items = splitList(v);
    if (items.length === 0) return optional ? undefined : 'An answer is required.';
    for (const item of items) {
      const problem = each(item);
      if (problem) return problem;
    }
    return undefined;
  };

export const optionalAbsolutePath: Validate<string> = (v) => (v === '' ? undefined : absolutePath(v));
