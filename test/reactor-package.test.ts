// The gate package's own tests (reactor/tests, pytest) and its lint (pyflakes), run by `npm test`: with Debian's
// pytest-3 (/usr/bin/python3, its cryptography), with python3 when it has pytest (its cryptography), and with a
// Python 3.10 without cryptography (the openssl path; Salt 3006's onedir is 3.10) when one is installed.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, symlinkSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, test } from 'vitest';

const run = promisify(execFile);
const REACTOR = fileURLToPath(new URL('../reactor/', import.meta.url));
const DEBIAN_SITE = '/usr/lib/python3/dist-packages';

async function which(cmd: string): Promise<string | undefined> {
  try {
    return (await run('sh', ['-c', `command -v ${cmd}`])).stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Runs a tool; a missing one fails with one line naming the Debian package that provides it. */
async function tool(cmd: string, args: string[], debianPackage: string, env: NodeJS.ProcessEnv = {}) {
  const path = await which(cmd);
  if (!path)
    throw new Error(`${cmd} not found: install the Debian package ${debianPackage} (apt-get install ${debianPackage})`);
  try {
    return await run(path, args, { cwd: REACTOR, env: { ...process.env, ...env }, maxBuffer: 16 << 20 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? e.message}`);
  }
}

const PYTEST = ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'tests'];
// test_identity.py judges its documents on the other Pythons itself (one subprocess each): run it once.
const PYTEST_OTHERS = [...PYTEST, '--ignore=tests/test_identity.py'];
/** Debian's pytest (pure Python) and what it imports, and nothing else from dist-packages (not its cryptography). */
const PYTEST_ONLY = [
  '_pytest',
  'pytest',
  'pluggy',
  'iniconfig',
  'packaging',
  'exceptiongroup',
  'tomli',
  'py',
  'py.py',
  'attr',
  'attrs',
];
function pytestOnlySite(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pytest-only-'));
  for (const name of PYTEST_ONLY)
    if (existsSync(join(DEBIAN_SITE, name))) symlinkSync(join(DEBIAN_SITE, name), join(dir, name));
  return dir;
}
const passed = (out: string) => Number(/(\d+) passed/.exec(out)?.[1] ?? 0);

describe.concurrent('the gate package (reactor/salt_autoscale_gate)', () => {
  test('pyflakes finds nothing', async () => {
    const { stdout } = await tool('pyflakes3', ['.'], 'pyflakes3');
    expect(stdout).toBe('');
  });

  test("pytest-3 passes (Debian's Python and cryptography)", async () => {
    const { stdout } = await tool('pytest-3', PYTEST_OTHERS.slice(2), 'python3-pytest');
    expect(passed(stdout)).toBeGreaterThan(25);
  });

  // 180 s: every test file, test_identity's and test_attest's RSA key generation included, on a busy machine.
  test('pytest passes on python3 (its own cryptography), every test file', { timeout: 180_000 }, async () => {
    const has = await run('python3', ['-c', 'import pytest, cryptography']).then(
      () => true,
      () => false,
    );
    // Without its own pytest, Debian's (pure Python) is borrowed; its cryptography stays out (openssl path).
    const env = has ? {} : { PYTHONPATH: pytestOnlySite() };
    const { stdout } = await tool('python3', PYTEST, 'python3-pytest', env);
    expect(passed(stdout)).toBeGreaterThan(25);
  });

  const py310 = join(homedir(), '.pyenv', 'versions', '3.10.13', 'bin', 'python3');
  test.skipIf(!existsSync(py310))('pytest passes on Python 3.10 without cryptography (the openssl path)', async () => {
    // Debian's pytest is pure Python; on 3.10 it also needs python3-exceptiongroup and python3-tomli.
    const { stdout } = await tool(py310, PYTEST_OTHERS, 'python3-pytest python3-exceptiongroup python3-tomli', {
      PYTHONPATH: pytestOnlySite(),
    });
    expect(passed(stdout)).toBeGreaterThan(25);
  });
});
