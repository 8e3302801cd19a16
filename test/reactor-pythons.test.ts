// The reactor runs on the master's Python: 3.10+ (Salt 3006's onedir ships 3.10) with or without `cryptography`
// (and old `cryptography` releases without the *_utc date accessors). This runs the shared vectors on the oldest
// supported Python found here (pyenv 3.10.x, no cryptography: the openssl path) and on the system python3 (Debian's older `cryptography`); REACTOR_TEST_PYTHONS=path:path overrides.
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type ReactorFixture, setupReactorFixture, verdictOf } from './helpers/reactor-fixture.js';

function interpreters(): string[] {
  if (process.env.REACTOR_TEST_PYTHONS) return process.env.REACTOR_TEST_PYTHONS.split(':').filter(Boolean);
  const found = ['/usr/bin/python3'];
  const pyenv = join(homedir(), '.pyenv', 'versions');
  try {
    for (const v of readdirSync(pyenv)) if (/^3\.10\./.test(v)) found.push(join(pyenv, v, 'bin', 'python3'));
  } catch {
    /* no pyenv */
  }
  return found.filter((p) => existsSync(p));
}

const pythons = interpreters();
let fx: ReactorFixture;
beforeAll(async () => {
  if (pythons.length) fx = await setupReactorFixture();
});
afterAll(async () => {
  await fx?.close();
});

describe.skipIf(pythons.length === 0)('other Python interpreters', () => {
  test.each(pythons)('%s comes to every expected verdict', async (python) => {
    const m = await fx.master();
    const { results, backend } = await fx.deliver(
      m,
      fx.set.vectors.map((v) => ({ body: v.body })),
      {},
      python,
    );
    const got = results.map((r) => verdictOf(r));
    expect(got).toEqual(fx.set.vectors.map((v) => v.expect));
    // The reactor took the path this interpreter allows: cryptography when importable, else openssl.
    const { spawnSync } = await import('node:child_process');
    const has = spawnSync(python, ['-c', 'import cryptography.x509'], { stdio: 'ignore' }).status === 0;
    expect(backend).toBe(has ? 'cryptography' : 'openssl');
  });
});
