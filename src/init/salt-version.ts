// When init runs on the Salt master itself, the master's version is the best default for what preauth
// instances install: a minion must not be newer than its master. Elsewhere there is nothing to ask.
import { execFile } from 'node:child_process';

/** "salt-master 3007.1 (Chlorine)" -> "3007.1"; undefined for anything else. */
export function parseSaltVersion(output: string): string | undefined {
  return /^salt-\S+\s+(\d{4}(?:\.\d+)?)\b/m.exec(output)?.[1];
}

/** The version of the salt-master on PATH, or undefined when there is none (or it does not answer quickly). */
export function detectMasterSaltVersion(): Promise<string | undefined> {
  return new Promise((done) => {
    execFile('salt-master', ['--version'], { timeout: 5_000 }, (err, stdout) =>
      done(err ? undefined : parseSaltVersion(stdout)),
    );
  });
}
