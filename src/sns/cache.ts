// Read-only access to the reactor's on-disk cache (layout from the SNS contract):
//   <cache_dir>/certs/<sha256 hex of the URL>.pem     certificates by URL
//   <cache_dir>/handled/<sha256 hex of MessageId>     one file per handled message
// verify never writes there: it may run as another user, and a check must not change what the reactor does.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

export const certCachePath = (cacheDir: string, url: string) => join(cacheDir, 'certs', `${sha256Hex(url)}.pem`);
export const handledPath = (cacheDir: string, messageId: string) => join(cacheDir, 'handled', sha256Hex(messageId));

/** The cached certificate PEM for `url`, or undefined when absent or unreadable (a bad file is not fatal). */
export function readCachedCertificate(cacheDir: string, url: string): string | undefined {
  try {
    const text = readFileSync(certCachePath(cacheDir, url), 'utf8');
    return text.includes('-----BEGIN CERTIFICATE-----') ? text : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the reactor handled `messageId` (and when: the marker's mtime), or undefined when it has not. */
export function handledRecord(cacheDir: string, messageId: string): { at?: Date } | undefined {
  const path = handledPath(cacheDir, messageId);
  if (!existsSync(path)) return undefined; // the reactor's test is existence, whatever the content
  try {
    return { at: statSync(path).mtime };
  } catch {
    return {};
  }
}
