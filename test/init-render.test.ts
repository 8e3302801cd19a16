// From nothing to rendered files without editing YAML: init --yes writes the config, render renders it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gateFiles } from '../src/render/gate-files.js';
import { pyYamlLoad } from './helpers/python.js';
import { runInProcess } from './helpers/run-cli.js';
import { tempDir } from './helpers/tmp.js';

/** The gate package's modules and MANIFEST, rendered beside the reactor. */
const GATE_FILES = gateFiles('/reactor').length;

describe('init then render', () => {
  it('a config written by init --yes renders as is, for a mix of attested (the default) and salt-cloud groups', async () => {
    const dir = tempDir();
    const env = {
      HOME: dir,
      AWS_CONFIG_FILE: join(dir, 'none'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'),
      PATH: '/usr/bin:/bin',
    };
    const init = await runInProcess(
      [
        'init',
        '--yes',
        '--region',
        'eu-west-1',
        '--group',
        'web-asg:salt-cloud',
        '--group',
        'worker-asg',
        '--ssh-username',
        'ubuntu',
        '--keyname',
        'salt',
        '--private-key',
        '/etc/salt/pki/cloud/salt.pem',
        '--public-url',
        'https://salt.example.com:8443',
      ],
      { cwd: dir, env },
    );
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);

    const render = await runInProcess(['render', '--out', 'staged'], { cwd: dir, env });
    expect(render.code).toBe(0);
    expect(render.stdout).toContain(`${4 + GATE_FILES} files: ${4 + GATE_FILES} created`);
    // init leaves sns.topic_arn for provision to fill in; until then render says the reactor trusts no topic.
    expect(render.stderr).toContain('sns.topic_arn is not set');
    const [master] = pyYamlLoad([readFileSync(join(dir, 'staged/master.d/ec2-autoscale.conf'), 'utf8')]) as any[];
    expect(master.rest_cherrypy.port).toBe(8443);
    expect(master['ec2.autoscale'].groups).toEqual({
      'web-asg': expect.objectContaining({
        bootstrap: 'salt-cloud',
        settings: expect.objectContaining({ ssh_username: 'ubuntu' }),
      }),
      'worker-asg': { bootstrap: 'attested' }, // init's default
    });
    expect(master.reactor.map((m: object) => Object.keys(m)[0])).toEqual([
      'salt/netapi/hook/ec2/autoscale',
      'salt/netapi/hook/ec2/autoscale/attest',
    ]);
    expect(readFileSync(join(dir, 'staged/userdata/worker-asg.sh'), 'utf8')).toContain('(bootstrap: attested)');
    expect(existsSync(join(dir, 'staged/userdata/worker-asg.sh'))).toBe(true);
  });
});
