// Validators for single answers, shared by the interview (re-ask on a problem) and by --yes / --answers
// (report every problem at once). Where the config schema has a rule, it is reused, so an answer that passes
// here cannot fail when the written file is loaded. Each returns a sentence for the user, or undefined.
import { excerpt } from '../config/describe.js';
import {
  type Check,
  checkAbsolutePath,
  checkAccessKeyId,
  checkBindAddress,
  checkEmailAddress,
  checkGroupName,
  checkHost,
  checkNoBlanks,
  checkProviderName,
  checkPublicUrl,
  checkRegion,
  checkSaltVersion,
  checkTopicName,
  checkUserName,
} from '../config/schema.js';
import type { Validate } from '../prompts.js';

const quote = (v: string) => excerpt(v, 60);

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

export const bindHost = fromSchema(checkBindAddress);
export const smtpHost = fromSchema(checkHost);
export const masterAddress = fromSchema(checkHost);
export const sshUsername = fromSchema(checkUserName);
export const emailAddress = fromSchema(checkEmailAddress);
// Never repeats the value: it is a secret.
export const secret: Validate<string> = (v) =>
  v === ''
    ? 'An answer is required.'
    : checkNoBlanks(v)
      ? 'A secret access key is one word, with no blanks.'
      : undefined;
// An access key id is not a secret, but a mistyped one is often the secret key: do not repeat it either.
export const accessKeyId: Validate<string> = (v) =>
  v === ''
    ? 'An answer is required.'
    : checkAccessKeyId(v)
      ? 'That is not an AWS access key id (16-128 letters and digits, e.g. AKIA…).'
      : undefined;

export const port: Validate<string> = (v) =>
  /^\d{1,5}$/.test(v) && Number(v) >= 1 && Number(v) <= 65535
    ? undefined
    : `${quote(v)} is not a TCP port (a number from 1 to 65535).`;

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
