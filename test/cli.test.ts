// The CLI as a whole: help, exit codes, lazy loading (start-up cost), and the packed npm tarball.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { INTERRUPT, scriptedPrompter } from '../src/prompts.js';
import { awsEnv, useFakeAws } from './aws-helpers.js';
import { startFakeAws } from './fakes/aws.js';
import { BIN, EXAMPLE, ROOT, runCli, runInProcess, runTracingImports } from './helpers/run-cli.js';
import { tempDir } from './helpers/tmp.js';
import { KEY, Terminal } from './init-helpers.js';

async function importsOf(args: string[]): Promise<string[]> {
  const res = await runTracingImports(args);
  expect(res.code, res.stderr).toBe(0);
  return res.imports;
}

describe('salt-autoscale CLI', () => {
  it('--help lists every command and exits 0', async () => {
    const res = await runCli(['--help']);
    expect(res.code).toBe(0);
    for (const cmd of ['init', 'render', 'provision', 'status', 'teardown', 'verify', 'iam-policy']) {
      expect(res.stdout).toMatch(new RegExp(`^\\s+${cmd}\\b`, 'm'));
    }
  });

  it("an unknown command or option is a usage error (exit 2) with the CLI's own prefix", async () => {
    const res = await runInProcess(['rendr']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^salt-autoscale: unknown command 'rendr'/);
    const opt = await runInProcess(['render', '--bogus']);
    expect(opt.code).toBe(2);
    expect(opt.stderr).toMatch(/^salt-autoscale: unknown option '--bogus'/);
    const missing = await runInProcess(['verify']);
    expect(missing.stderr).toMatch(/^salt-autoscale: missing required argument 'message'/);
  });

  it('output piped into a reader that stops early (| head) ends quietly with exit 0', async () => {
    const res = spawnSync(
      'sh',
      ['-c', `"${process.execPath}" "${BIN}" iam-policy --config "${EXAMPLE}" | head -n 1; exit "\${PIPESTATUS:-0}"`],
      { encoding: 'utf8' },
    );
    expect(res.stdout).toBe('# For whoever runs salt-autoscale provision / status / teardown (a user or CI role):\n');
    expect(res.stderr).toBe('');
  });

  it('--help and render load neither the AWS SDK nor inquirer', async () => {
    const out = join(tempDir(), 'out');
    for (const args of [['--help'], ['render', '-c', EXAMPLE, '-o', out]]) {
      const loaded = await importsOf(args);
      expect(loaded.some((u) => u.endsWith('/dist/main.js'))).toBe(true);
      expect(loaded.filter((u) => /@aws-sdk|@smithy|inquirer/.test(u))).toEqual([]);
    }
  });
});

describe('the npm package', () => {
  it('packs, installs into an empty folder, and `npx salt-autoscale render` works there', async () => {
    const dir = tempDir();
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], {
        cwd: ROOT,
        encoding: 'utf8',
      }),
    );
    const files: string[] = packed[0].files.map((f: { path: string }) => f.path);
    expect(files).toContain('templates/master.d/ec2-autoscale.conf.hbs');
    expect(files).toContain('dist/main.js');
    expect(files).toContain('examples/salt-autoscale.yaml');
    expect(files).toContain('reactor/salt_autoscale_gate/gate.py');
    expect(files.some((f) => f.startsWith('src/') || f.startsWith('test/') || f.startsWith('reactor/tests/'))).toBe(
      false,
    );
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'CHANGELOG.md', 'README.md']));
    expect(
      files.filter((f) => f.endsWith('.map')),
      'no source maps',
    ).toEqual([]);
    // Every doc the README names ships beside it, so its references hold in the installed package too.
    const named = [...readFileSync(join(ROOT, 'README.md'), 'utf8').matchAll(/\bdocs\/[\w-]+\.md/g)].map((m) => m[0]);
    expect(named.length).toBeGreaterThan(3);
    expect(named.filter((d) => !files.includes(d))).toEqual([]);

    const app = join(dir, 'app');
    mkdirSync(app);
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, packed[0].filename)], {
      cwd: app,
      stdio: 'ignore',
    });
    const out = execFileSync(
      'npx',
      ['--no-install', 'salt-autoscale', 'render', '--config', EXAMPLE, '--out', 'rendered'],
      {
        cwd: app,
        encoding: 'utf8',
      },
    );
    expect(out).toMatch(/(\d+) files: \1 created/);
    // Only Handlebars' runtime runs, bundled: the library, its compiler and uglify-js are not installed.
    const installed = readdirSync(join(app, 'node_modules'));
    expect(installed.filter((m) => m === 'handlebars' || m === 'uglify-js')).toEqual([]);
    expect(readdirSync(join(app, 'rendered')).sort()).toEqual(['cloud.providers.d', 'master.d', 'reactor', 'userdata']);
    expect(existsSync(join(app, 'rendered/reactor/ec2-autoscale.sls'))).toBe(true);
    expect(existsSync(join(app, 'rendered/reactor/salt_autoscale_gate/MANIFEST'))).toBe(true);
  }, 120_000);
});

describe('the [y/N] confirmation of provision and teardown', () => {
  const t = useFakeAws({}, { topicArn: null });
  const env = () => awsEnv(t.fake.url, t.ws.dir);
  const answering = (confirm: typeof INTERRUPT | boolean, ...args: string[]) =>
    runInProcess([...args, '--config', t.ws.configFile], {
      env: env(),
      wholeEnv: true,
      prompter: scriptedPrompter({ confirm }),
    });

  it('goes through the one prompter: Ctrl-C exits 130 with one line and changes nothing', async () => {
    for (const command of ['provision', 'teardown']) {
      if (command === 'teardown') expect((await answering(true, 'provision')).code).toBe(0);
      const before = t.fake.mutatingCalls().length;
      const r = await answering(INTERRUPT, command);
      expect(r.code, r.stderr).toBe(130);
      expect(r.stderr).toBe('salt-autoscale: interrupted; nothing was written\n');
      expect(t.fake.mutatingCalls().length).toBe(before);
    }
  });

  it('answered no: nothing changes, exit 1', async () => {
    const r = await answering(false, 'provision');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/5 to create.*\.\nNothing was changed\.\n$/s);
    expect(t.fake.mutatingCalls()).toEqual([]);
  });

  it('on a real terminal (pseudo-terminal), Ctrl-C at the question exits 130 without a stack trace', async () => {
    const term = new Terminal(t.ws.dir, ['provision', '--config', t.ws.configFile], { ...env(), NO_COLOR: '1' });
    await term.answer(/Apply 5 change\(s\)\?/, KEY.ctrlC);
    expect(await term.exitCode()).toBe(130);
    expect(term.text).toContain('salt-autoscale: interrupted; nothing was written');
    expect(term.text).not.toMatch(/This is a bug|at .*\.js:\d+/);
    expect(t.fake.mutatingCalls()).toEqual([]);
  });
});

describe('SIGINT or SIGTERM during apply', () => {
  const t = useFakeAws({}, { topicArn: null });
  const env = () => awsEnv(t.fake.url, t.ws.dir);

  it('stops starting calls, says what was done and what was not, and running again converges', async () => {
    const signals = new EventEmitter();
    const r = await runInProcess(['provision', '--yes', '--config', t.ws.configFile], {
      env: env(),
      wholeEnv: true,
      signals,
      // Ctrl-C the moment the topic exists, before the groups' notifications start.
      onStdout: (text) => {
        if (text.startsWith('done + topic')) signals.emit('SIGINT');
      },
    });
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toBe(
      [
        'salt-autoscale: interrupted (SIGINT): 1 of 5 change(s) were made, 4 were not.',
        '  done:     + topic salt-autoscale',
        '  not done: + topic salt-autoscale',
        '  not done: + queue salt-autoscale-dlq',
        '  not done: + notifications web-asg',
        '  not done: + notifications worker-asg',
        `Run \`salt-autoscale provision --config ${t.ws.configFile}\` again: it reads what exists and makes only the changes still missing.`,
        '',
      ].join('\n'),
    );
    expect(t.fake.mutatingCalls().map((c) => c.action)).toEqual(['CreateTopic']);
    expect(signals.listenerCount('SIGINT') + signals.listenerCount('SIGTERM')).toBe(0);

    const again = await runInProcess(['provision', '--yes', '--config', t.ws.configFile], {
      env: env(),
      wholeEnv: true,
    });
    expect(again.code, again.stderr).toBe(0);
    // The topic exists now; its policy is still the default one: an update.
    expect(again.stdout).toContain('3 to create, 1 to update, 0 to delete, 1 unchanged, 1 blocked.');
    expect(again.stdout).toContain('Applied 4 change(s).');
  });

  it('a real SIGTERM to the process ends it with 143 and the same report', async () => {
    await t.fake.close();
    t.fake = await startFakeAws({ groups: ['web-asg', 'worker-asg'], latencyMs: 400 });
    const child = spawn(process.execPath, [BIN, 'provision', '--yes', '--config', t.ws.configFile], {
      env: { ...env(), NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => {
      stdout += d;
      if (!sent && stdout.includes('done + topic')) sent = child.kill('SIGTERM');
    });
    const code = await new Promise((done) => child.on('close', done));
    expect(code, stderr).toBe(143);
    expect(stderr).toMatch(/^salt-autoscale: interrupted \(SIGTERM\): \d of 5 change\(s\) were made/);
    expect(stderr).toContain('  done:     + topic salt-autoscale\n');
    expect(stderr).toContain('again: it reads what exists and makes only the changes still missing.');
    expect(stderr).not.toMatch(/This is a bug|at .*\.js:\d+/);
  });
});

/** Every key of every object in `value`, recursively. */
function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [k, ...keysOf(v)]);
  return [];
}

describe('--json, the contract for scripts', () => {
  const t = useFakeAws();
  const json = async (...args: string[]) => {
    const r = await runInProcess([...args, '--json', '--config', t.ws.configFile], {
      env: awsEnv(t.fake.url, t.ws.dir),
      wholeEnv: true,
    });
    expect(r.stderr).toBe('');
    return { code: r.code, doc: JSON.parse(r.stdout) };
  };

  it('is one snake_case document per command, and plans carry states, not prose to parse', async () => {
    const dry = await json('provision', '--dry-run');
    expect(dry.code, 'changes pending').toBe(1);
    expect(dry.doc.plan.map((i: { resource: string; state: string }) => `${i.resource}:${i.state}`)).toEqual([
      'topic:missing',
      'topic:missing',
      'queue:missing',
      'subscription:missing',
      'notifications:missing',
      'notifications:missing',
    ]);
    const applied = await json('provision');
    expect(applied.doc).toMatchObject({ outcome: 'applied', applied: 6, subscription: 'pending' });
    const status = await json('status');
    expect(status.code).toBe(1);
    expect(status.doc.drift.map((i: { state: string }) => i.state)).toEqual([]);
    expect(status.doc.subscription.state).toBe('pending');
    const teardown = await json('teardown', '--dry-run');
    expect(teardown.code, 'something to remove').toBe(1);
    const verify = await runInProcess(['verify', '--json', '--no-cache', '-c', EXAMPLE, '-'], {
      input: JSON.stringify({ Type: 'Notification', MessageId: 'm-1' }),
    });
    expect(verify.code).toBe(1);
    const verdict = { doc: JSON.parse(verify.stdout) };
    expect(verdict.doc).toMatchObject({ verdict: 'rejected', reason: 'bad_envelope', message_id: 'm-1' });
    for (const { doc } of [dry, applied, status, teardown, verdict])
      expect(keysOf(doc).filter((k) => !/^[a-z][a-z0-9_]*$/.test(k))).toEqual([]);
  });

  it('a dry run with nothing to do exits 0, as terraform plan -detailed-exitcode does', async () => {
    await json('provision');
    const { code, doc } = await json('provision', '--dry-run');
    expect(doc.plan.filter((i: { change: string }) => i.change !== 'unchanged')).toEqual([]);
    expect(code).toBe(0);
  });
});
