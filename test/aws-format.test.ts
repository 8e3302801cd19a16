// How plans look, and that only the AWS commands load the AWS SDK.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatPlan, progressReporter, summarize } from '../src/aws/format.js';
import type { Plan } from '../src/aws/plan.js';
import { ROOT } from './aws-helpers.js';
import { runTracingImports } from './helpers/run-cli.js';

const plan: Plan = {
  region: 'us-east-1',
  items: [
    { change: 'create', resource: 'topic', name: 'salt-autoscale', state: 'missing', detail: 'create' },
    { change: 'update', resource: 'notifications', name: 'web-asg', state: 'differs', detail: 'add terminate_error' },
    {
      change: 'unchanged',
      resource: 'subscription',
      name: 'https://h/hook/ec2/autoscale',
      state: 'confirmed',
      detail: 'confirmed',
    },
    {
      change: 'blocked',
      resource: 'notifications',
      name: 'gone-asg',
      state: 'no_such_group',
      detail: 'no Auto Scaling group named gone-asg in us-east-1',
    },
  ],
};

class Sink {
  text = '';
  write(chunk: string) {
    this.text += chunk;
    return true;
  }
}

describe('plan output', () => {
  it('is an aligned table on a terminal and one plain line per item otherwise', () => {
    expect(formatPlan(plan, true)).toBe(
      '  + topic          salt-autoscale                create\n' +
        '  ~ notifications  web-asg                       add terminate_error\n' +
        '  = subscription   https://h/hook/ec2/autoscale  confirmed\n' +
        '  ! notifications  gone-asg                      no Auto Scaling group named gone-asg in us-east-1\n',
    );
    expect(formatPlan(plan, false).split('\n')[1]).toBe('~ notifications web-asg: add terminate_error');
    expect(summarize(plan)).toBe('1 to create, 1 to update, 0 to delete, 1 unchanged, 1 blocked');
  });

  it('reports progress in place on a terminal, as lines otherwise, and not at all for --json', () => {
    for (const mode of ['tty', 'lines', 'quiet'] as const) {
      const out = new Sink();
      const err = new Sink();
      const p = progressReporter(
        2,
        mode,
        out as unknown as NodeJS.WritableStream,
        err as unknown as NodeJS.WritableStream,
      );
      p.start(plan.items[0]);
      p.done(plan.items[0]);
      p.start(plan.items[1]);
      p.done(plan.items[1]);
      p.finish();
      if (mode === 'tty') {
        expect(out.text).toBe('');
        expect(err.text).toContain('[1/2] ');
        expect(err.text.endsWith('\r\x1b[2K')).toBe(true);
      } else if (mode === 'lines') {
        expect(out.text).toBe('done + topic salt-autoscale\ndone ~ notifications web-asg\n');
        expect(err.text).toBe('');
      } else {
        expect(out.text + err.text).toBe('');
      }
    }
  });
});

describe('start-up', () => {
  it('loads the AWS SDK only for the AWS commands', async () => {
    const env = { AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y', AWS_EC2_METADATA_DISABLED: 'true' };
    const sdkLoaded = async (args: string[]) =>
      (await runTracingImports(args, { env })).imports.some((u) => u.includes('/@aws-sdk/'));
    const example = join(ROOT, 'examples/salt-autoscale.yaml');
    expect(await sdkLoaded(['--help'])).toBe(false);
    expect(await sdkLoaded(['iam-policy', '--config', example])).toBe(false);
    expect(await sdkLoaded(['status', '--config', example, '--endpoint-url', 'http://127.0.0.1:9'])).toBe(true);
  });
});
