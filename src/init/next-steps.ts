// What init prints once the file is written: what it holds, in a few lines, and the commands to run next.
// Secrets are never part of it.
import { DEFAULT_CONFIG_FILE } from '../config/load.js';
import type { InitAnswers } from './answers.js';

export function nextSteps(a: InitAnswers, written: { file: string; endpoint: string; secret: boolean }): string {
  const configFlag = written.file === DEFAULT_CONFIG_FILE ? '' : ` --config ${shellQuote(written.file)}`;
  const groups = a.groups.map((g) =>
    g.bootstrap !== 'salt-cloud'
      ? `${g.name} (${g.bootstrap}, Salt ${g.salt_version})`
      : `${g.name} (salt-cloud, SSH as ${g.ssh_username})`,
  );
  const preauth = a.groups.filter((g) => g.bootstrap !== 'salt-cloud').map((g) => g.name);
  const lines = [
    '',
    `Wrote ${written.file}${written.secret ? ' (mode 0600: it holds a secret)' : ''}.`,
    `  region:  ${a.region}${a.profile ? ` (profile ${a.profile})` : ''}`,
    `  groups:  ${groups.join(', ')}`,
    `  webhook: ${written.endpoint}`,
    `  email alerts: ${a.email ? `to ${a.email.to.join(', ')}` : "off (alerts go to the master's log)"}`,
    '',
    'Next steps:',
    "  1. Create the SNS topic and the groups' notifications; provision writes the topic's ARN into the config,",
    '     and the reactor trusts that topic only:',
    `       salt-autoscale provision${configFlag}`,
    '  2. Render the Salt side (master.d drop-in, salt-cloud provider, reactor' +
      (preauth.length ? ', user data' : '') +
      '); on the master:',
    `       salt-autoscale render${configFlag} --out /etc/salt`,
  ];
  let n = 3;
  if (preauth.length > 0) {
    lines.push(
      `  ${n++}. Put /etc/salt/userdata/<group>.sh into the launch template user data of ${preauth.join(', ')}.`,
    );
  }
  lines.push(
    `  ${n++}. Restart salt-master and (re)start salt-api, so both read master.d/ec2-autoscale.conf:`,
    '       systemctl restart salt-master salt-api',
    `  ${n++}. Subscribe the webhook (SNS sends its confirmation request at once, and the reactor confirms it):`,
    `       salt-autoscale provision${configFlag}`,
    `  ${n++}. Check that everything is wired and the subscription confirmed:`,
    `       salt-autoscale status${configFlag}`,
    `The IAM permissions these need: salt-autoscale iam-policy${configFlag}`,
    '',
  );
  return lines.join('\n');
}

const shellQuote = (s: string) => (/^[\w./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
