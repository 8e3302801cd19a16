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
