// The rendered entry loads the gate package once per master process and again when render writes a new
// MANIFEST: a re-render needs no restart, and a package whose files do not match MANIFEST (render still
// writing, or a hand edit) never loads. One python3 runs each scenario, as one reactor process would.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type ReactorFixture, renderReactor, setupReactorFixture, verdictOf } from './helpers/reactor-fixture.js';
import { runHarness } from './helpers/reactor-harness.js';

let fx: ReactorFixture;
beforeAll(async () => {
  fx = await setupReactorFixture();
});
afterAll(async () => {
  await fx?.close();
});

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const launch = (n: number) =>
  fx.set.notification({ group: 'worker-asg', instanceId: `i-${(0xabc000 + n).toString(16).padStart(17, '0')}` });

/** A copy of the reactor and its package, and salt_glue.py edited to log `marker` on every event. */
async function reactorCopy(name: string) {
  const sls = await renderReactor(join(fx.dir, name));
  const pkg = join(sls, '..', 'salt_autoscale_gate');
  const glue = readFileSync(join(pkg, 'salt_glue.py'), 'utf8');
  const manifest = readFileSync(join(pkg, 'MANIFEST'), 'utf8');
  const edited = (marker: string) =>
    glue.replace(/def run\(opts, data, tag=None\):\n( {4}"""[\s\S]*?"""\n)/, `$&    log.info("${marker}")\n`);
  const manifestFor = (text: string) => manifest.replace(sha256(glue), sha256(text));
  return { sls, pkg, glue: join(pkg, 'salt_glue.py'), manifest: join(pkg, 'MANIFEST'), edited, manifestFor };
}
const said = (logs: { message: string }[], text: string) => logs.some((l) => l.message === text);

describe('loading the gate package', () => {
  test('a re-render (new files, then a new MANIFEST) is picked up by the running master, without a restart', async () => {
    const r = await reactorCopy('reload');
    const m = await fx.master();
    const v2 = r.edited('version two');
    const v3 = r.edited('version three');
    const { results } = await runHarness(
      {
        reactor: r.sls,
        opts: m.opts,
        deliveries: [
          { body: launch(1) },
          { body: launch(2), write: { [r.glue]: v2, [r.manifest]: r.manifestFor(v2) } },
          // render writes the modules first: until MANIFEST changes, the loaded package keeps running
          { body: launch(3), write: { [r.glue]: v3 } },
        ],
      },
      fx.server.env,
    );
    expect(results.map((x) => verdictOf(x))).toEqual([1, 2, 3].map(() => ({ verdict: 'accepted', outcome: 'launch' })));
    expect(said(results[0].logs, 'version two')).toBe(false);
    expect(said(results[1].logs, 'version two')).toBe(true);
    expect(said(results[2].logs, 'version three')).toBe(false);
    expect(said(results[2].logs, 'version two')).toBe(true);
  });

  test('the entry boots once per package load and per entry: later events run the package directly', async () => {
    const r = await reactorCopy('boots');
    const m = await fx.master();
    const entry = readFileSync(r.sls, 'utf8');
    const key = entry.match(/"(salt_autoscale_entry_[0-9a-f]{16})"/)![1];
    // BOOT, edited to say when it runs: the rendered one, and a re-rendered entry (another digest, so another key)
    const booting = (text: string, marker: string) =>
      text.replace('    gate.boot.entry(BOOT, globals())\n', `$&    logging.getLogger("t").info("${marker}")\n`);
    const v1 = booting(entry, 'booted v1');
    const v2 = booting(entry, 'booted v2').replaceAll(key, `${key.slice(0, -4)}beef`);
    expect(v1).not.toBe(entry);
    const v3 = r.edited('version three');
    const { results } = await runHarness(
      {
        reactor: r.sls,
        opts: m.opts,
        deliveries: [
          { body: launch(1), write: { [r.sls]: v1 } },
          { body: launch(2) },
          { body: launch(3), write: { [r.sls]: v2 } },
          { body: launch(4) },
          { body: launch(5), write: { [r.sls]: v1 } }, // the package still carries v1's mark
          { body: launch(6), write: { [r.glue]: v3, [r.manifest]: r.manifestFor(v3) } }, // reloaded by the package
          { body: launch(7) }, // a new package: v1 boots again
        ],
      },
      fx.server.env,
    );
    expect(results.map((x) => [x.error, verdictOf(x)])).toEqual(
      [1, 2, 3, 4, 5, 6, 7].map(() => [null, { verdict: 'accepted', outcome: 'launch' }]),
    );
    const boots = results.map((x) => x.logs.filter((l) => l.message.startsWith('booted')).map((l) => l.message));
    expect(boots).toEqual([['booted v1'], [], ['booted v2'], [], [], [], ['booted v1']]);
    expect(said(results[6].logs, 'version three')).toBe(true);
  });

  test('a package that does not match its MANIFEST never loads: one ERROR line, no reaction', async () => {
    const r = await reactorCopy('mismatch');
    const m = await fx.master();
    const hand = r.edited('edited by hand');
    const original = readFileSync(r.manifest, 'utf8');
    const { results } = await runHarness(
      {
        reactor: r.sls,
        opts: m.opts,
        deliveries: [
          { body: launch(4) },
          // a MANIFEST written while a module does not match it (a hand edit, or render not done)
          { body: launch(5), write: { [r.glue]: hand, [r.manifest]: `${original}\n` } },
          // once MANIFEST names what is there, it loads
          { body: launch(6), write: { [r.manifest]: r.manifestFor(hand) } },
        ],
      },
      fx.server.env,
    );
    expect(verdictOf(results[0])).toEqual({ verdict: 'accepted', outcome: 'launch' });
    expect(results[1].error).toBeNull();
    expect(results[1].reaction).toEqual({});
    expect(results[1].logs.map((l) => [l.level, l.message])).toEqual([
      ['ERROR', expect.stringMatching(/cannot load the gate package .*salt_glue\.py does not match MANIFEST/)],
    ]);
    expect(verdictOf(results[2])).toEqual({ verdict: 'accepted', outcome: 'launch' });
    expect(said(results[2].logs, 'edited by hand')).toBe(true);
    // A master that starts with such a package: the same ERROR, no reaction.
    const fresh = await runHarness(
      { reactor: r.sls, opts: m.opts, deliveries: [{ body: launch(7), write: { [r.manifest]: original } }] },
      fx.server.env,
    );
    expect(fresh.results[0].reaction).toEqual({});
    expect(fresh.results[0].logs.map((l) => l.level)).toEqual(['ERROR']);
  });
  test('a module that raises while importing is one ERROR line, and the fixed package loads on the next MANIFEST', async () => {
    const r = await reactorCopy('raises');
    const m = await fx.master();
    const broken = `raise RuntimeError("broken at import")\n${readFileSync(r.glue, 'utf8')}`;
    const fixed = r.edited('fixed');
    const { results } = await runHarness(
      {
        reactor: r.sls,
        opts: m.opts,
        deliveries: [
          { body: launch(8), write: { [r.glue]: broken, [r.manifest]: r.manifestFor(broken) } },
          { body: launch(9) },
          { body: launch(10), write: { [r.glue]: fixed, [r.manifest]: r.manifestFor(fixed) } },
        ],
      },
      fx.server.env,
    );
    for (const x of results.slice(0, 2)) {
      expect(x.error).toBeNull();
      expect(x.reaction).toEqual({});
      expect(x.logs.map((l) => [l.level, l.message])).toEqual([
        ['ERROR', expect.stringMatching(/cannot load the gate package .*broken at import/)],
      ]);
    }
    // Before the fix, a half-loaded package stayed in sys.modules: every later event failed until a restart.
    expect(verdictOf(results[2])).toEqual({ verdict: 'accepted', outcome: 'launch' });
    expect(said(results[2].logs, 'fixed')).toBe(true);
  });
});
