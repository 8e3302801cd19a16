// provision's topic_arn write-back, as the file system sees it: a config that is a symlink stays one.
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeTopicArn } from '../src/config/edit.js';
import { EXAMPLE } from './helpers/run-cli.js';
import { tempDir } from './helpers/tmp.js';

const ARN = 'arn:aws:sns:us-east-1:123456789012:other-topic';

describe('writing sns.topic_arn back', () => {
  it('writes through a symlink to its target, atomically, and keeps the link, the mode and the comments', async () => {
    const dir = tempDir();
    // The real file lives elsewhere (a dotfiles or config-management checkout), linked into the working folder.
    mkdirSync(join(dir, 'repo'));
    const real = join(dir, 'repo', 'salt-autoscale.yaml');
    writeFileSync(real, readFileSync(EXAMPLE, 'utf8'));
    chmodSync(real, 0o600);
    const link = join(dir, 'salt-autoscale.yaml');
    symlinkSync('repo/salt-autoscale.yaml', link);

    expect(await writeTopicArn(link, ARN)).toBe(true);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe('repo/salt-autoscale.yaml');
    const text = readFileSync(real, 'utf8');
    expect(text).toContain(`topic_arn: ${ARN}`);
    expect(text).toContain('# Written by `salt-autoscale provision`');
    expect(statSync(real).mode & 0o777).toBe(0o600);
    // No temp file left in either folder.
    expect(readdirSync(dir).sort()).toEqual(['repo', 'salt-autoscale.yaml']);
    expect(readdirSync(join(dir, 'repo'))).toEqual(['salt-autoscale.yaml']);
  });

  it('a plain file is replaced in place as before', async () => {
    const dir = tempDir();
    const file = join(dir, 'salt-autoscale.yaml');
    writeFileSync(file, readFileSync(EXAMPLE, 'utf8'));
    expect(await writeTopicArn(file, ARN)).toBe(true);
    expect(lstatSync(file).isFile()).toBe(true);
    expect(readFileSync(file, 'utf8')).toContain(`topic_arn: ${ARN}`);
    expect(await writeTopicArn(file, ARN)).toBe(false);
  });
});
