// Secrets never reach the terminal: diffs and messages pass through here first.

const SECRET_KEYS = /^(\s*(?:key|smtp\.password|password):\s*)(?!use-instance-role-credentials\s*$)(\S.*)$/;
export const MASK = '********';

/**
 * Masks the value of every line that sets a secret key (whatever the old value on disk was), and any other
 * occurrence of a known secret value.
 */
export function maskSecrets(text: string, secrets: string[]): string {
  let out = text
    .split('\n')
    .map((line) => line.replace(SECRET_KEYS, (_m, head: string) => head + MASK))
    .join('\n');
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join(MASK);
  }
  return out;
}

/** Whether a secret line (by key, as maskSecrets finds them) differs between two versions of a file. */
export function secretLinesDiffer(before: string, after: string): boolean {
  const secretLines = (text: string) =>
    text
      .split('\n')
      .filter((line) => SECRET_KEYS.test(line))
      .join('\n');
  return secretLines(before) !== secretLines(after);
}
