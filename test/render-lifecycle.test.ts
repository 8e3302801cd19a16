// The lifecycle part of the master drop-in (docs/rendered-files.md is the contract with the reactor): the region,
// each group's hooks, and the Salt events mapped to the reactor only when a group has a launch hook. Read back as
// Salt reads it (PyYAML safe_load).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../src/config/load.js';
import { pyYamlLoad } from './helpers/python.js';
import { masterDropInYaml } from './helpers/reactor-opts.js';
import { EXAMPLE } from './helpers/run-cli.js';

const example = readFileSync(EXAMPLE, 'utf8');
const dropIn = (text: string) => {
  const yaml = masterDropInYaml(parseConfigText(text, 'salt-autoscale.yaml').config);
  return pyYamlLoad([yaml])[0] as Record<string, any>;
};

describe('the drop-in with lifecycle hooks', () => {
  it("carries the region and each group's hooks as the reactor reads them; groups without hooks have no lifecycle key", () => {
    const master = dropIn(example);
    const settings = master['ec2.autoscale'];
    expect(settings.region).toBe('us-east-1');
    expect(settings.groups['web-asg'].lifecycle).toEqual({
      launch: { hook_name: 'salt-autoscale-launch', ready: 'highstate', on_failure: 'ABANDON', heartbeat_timeout: 900 },
      terminate: {
        hook_name: 'salt-autoscale-terminate',
        heartbeat_timeout: 600,
        drain: { state: 'drain', timeout: 300 },
      },
    });
    expect(settings.groups['web-asg'].bootstrap).toBe('salt-cloud');
    expect('lifecycle' in settings.groups['worker-asg']).toBe(false);
  });

  it('maps salt/auth, minion start and job returns to the same reactor file only when a group has a launch hook', () => {
    const sls = '/srv/reactor/ec2-autoscale.sls';
    expect(dropIn(example).reactor).toEqual([
      { 'salt/netapi/hook/ec2/autoscale': [sls] },
      { 'salt/auth': [sls] },
      { 'salt/minion/*/start': [sls] },
      { 'salt/job/*/ret/*': [sls] },
    ]);
    const withoutHooks = example.replace(/ {4}# Lifecycle hooks:[\s\S]*?timeout_seconds: 300\n/, '');
    expect(withoutHooks).not.toContain('lifecycle:');
    expect(dropIn(withoutHooks).reactor).toEqual([{ 'salt/netapi/hook/ec2/autoscale': [sls] }]);
    // A terminate hook alone needs no Salt events: the notification itself starts the drain.
    const terminateOnly = withoutHooks.replace(
      '    bootstrap: preauth\n',
      '    bootstrap: preauth\n    lifecycle: {terminate: {drain: {function: service.stop}}}\n',
    );
    const master = dropIn(terminateOnly);
    expect(master.reactor).toEqual([{ 'salt/netapi/hook/ec2/autoscale': [sls] }]);
    expect(master['ec2.autoscale'].groups['worker-asg'].lifecycle).toEqual({
      terminate: {
        hook_name: 'salt-autoscale-terminate',
        heartbeat_timeout: 600,
        drain: { function: 'service.stop', timeout: 300 },
      },
    });
  });
});
