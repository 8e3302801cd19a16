// Turns init's answers into the text of salt-autoscale.yaml: the data goes through the yaml library (so any
// value comes out quoted right), then comments are hung on the nodes, explaining each setting and showing the
// optional ones that were left out.
import { Document, isMap, isPair, isScalar, type Node, type Pair, type YAMLMap } from 'yaml';
import { answersToConfig, holdsSecret, type InitAnswers, usesSaltCloud } from './answers.js';

type Path = string[];

/** Where a comment goes: above the key, at the end of a scalar value's line, or inside a mapping's block. */
interface Remark {
  path: Path;
  above?: string;
  after?: string;
  /** For a mapping: a comment at the end of its block (a commented-out optional setting). */
  inside?: string;
}

function pairAt(doc: Document, path: Path): Pair<Node, Node> | undefined {
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  if (!isMap(parent)) return undefined;
  const key = path[path.length - 1];
  return (parent as YAMLMap<Node, Node>).items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key);
}

// Comments are written with a leading blank so that "#" is followed by one space, as people write them.
const asComment = (text: string) =>
  text
    .split('\n')
    .map((l) => (l ? ` ${l}` : ''))
    .join('\n');

function remarksFor(a: InitAnswers): Remark[] {
  const saltCloud = usesSaltCloud(a.groups);
  const r: Remark[] = [
    { path: ['version'], after: 'the format of this file' },
    {
      path: ['aws'],
      above:
        "The AWS account side: where the Auto Scaling groups live. Credentials come from the AWS SDK's default\nchain (environment, profile, SSO, instance role); --profile and --region override these.",
    },
    { path: ['aws', 'region'], after: 'the region of the groups and the SNS topic' },
    {
      path: ['sns'],
      above:
        'The SNS topic the groups notify. `salt-autoscale provision` creates it and writes its ARN back here as\ntopic_arn; the reactor accepts notifications from that topic (and extra_topic_arns) only.',
    },
    { path: ['sns', 'extra_topic_arns'], after: 'further topics the reactor trusts (managed elsewhere)' },
    {
      path: ['salt_api'],
      above: `salt-api (rest_cherrypy) receives the notifications. SNS posts to <public_url><webhook_url>/ec2/autoscale,\nhere ${a.public_url.replace(/\/+$/, '')}/hook/ec2/autoscale, so that URL must be reachable from the internet over TLS.`,
    },
    { path: ['salt_api', 'host'], after: 'the address salt-api binds (0.0.0.0: every interface)' },
    { path: ['salt_api', 'port'], after: 'the port salt-api listens on' },
    { path: ['salt_api', 'ssl_crt'], after: 'TLS certificate (with chain) that SNS will verify' },
    { path: ['salt_api', 'ssl_key'], after: 'its private key' },
    { path: ['salt_api', 'webhook_url'], after: "rest_cherrypy's webhook_url" },
    { path: ['salt'], above: 'The Salt master.' },
    { path: ['salt', 'config_dir'], after: '`render --out /etc/salt` installs for real' },
    { path: ['salt', 'reactor_dir'], after: 'where the master config says ec2-autoscale.sls lives' },
    { path: ['salt', 'master_address'], after: 'what new minions connect to' },
    {
      path: ['salt', 'autosign_timeout'],
      above:
        "pki_dir: /etc/salt/pki/master   # default: the master's own pki_dir (preauth stubs go to minions_autosign/)",
      after: 'minutes a preauth instance has to present its key',
    },
    {
      path: ['cloud_provider'],
      above: saltCloud
        ? 'The salt-cloud EC2 provider that `render` writes to cloud.providers.d/ec2.conf, used by salt-cloud groups.'
        : 'The salt-cloud EC2 provider (cloud.providers.d/ec2.conf). Only salt-cloud groups use it; with preauth groups\nonly, it needs no more than this. For a salt-cloud group, add keyname, private_key and securitygroup.',
    },
    {
      path: ['cloud_provider', 'credentials'],
      after:
        a.credentials === 'keys'
          ? 'id and key below; the rendered provider file is written 0600'
          : "the master's IAM role; `keys` needs id and key (the file is then written 0600)",
    },
    { path: ['cloud_provider', 'key'], after: 'a secret: keep this file private (mode 0600)' },
    { path: ['cloud_provider', 'keyname'], after: "the EC2 key pair the groups' instances are launched with" },
    { path: ['cloud_provider', 'private_key'], after: "that key pair's private key, on the master" },
    { path: ['cloud_provider', 'location'], after: 'EC2 region for salt-cloud' },
    { path: ['cloud_provider', 'extra'], after: 'further salt-cloud EC2 provider options, passed through verbatim' },
    {
      path: ['groups'],
      above:
        'The Auto Scaling groups, and how each bootstraps its new instances:\n' +
        '  attested   any Salt version (3008 too): like preauth, but the instance also proves its own key with its\n' +
        '             AWS-signed identity document, and the master accepts exactly that key, once.\n' +
        '  preauth    any Salt version (3008 too): the instance installs its own minion from the user data that\n' +
        '             `render` writes (userdata/<group>.sh, for the launch template); the master accepts its key\n' +
        '             once, because a verified launch notification named it.\n' +
        '  salt-cloud Salt 3006/3007: salt-cloud logs in over SSH (ssh_username) and bootstraps the instance.',
    },
    {
      path: ['alerts'],
      above:
        "Alerts on launch/terminate errors, unsubscribe confirmations and reactor errors: always in the master's\nlog; by email too when alerts.email is set (a rejected request is logged only).",
    },
    { path: ['alerts', 'min_interval_seconds'], after: 'at most one alert email per this many seconds' },
    { path: ['reactor'], above: 'Limits the reactor applies to every notification.' },
    { path: ['reactor', 'max_age_seconds'], after: 'reject notifications older than this' },
    {
      path: ['reactor', 'clock_skew_seconds'],
      after: 'and newer than now + this',
    },
    {
      path: ['reactor', 'subscription_confirmation'],
      above: 'cache_dir: /var/cache/salt/master/ec2-autoscale   # default: <master cachedir>/ec2-autoscale',
      after: 'auto: the reactor confirms a verified subscription; email: mail the link',
    },
    { path: ['reactor', 'cert_fetch_timeout_seconds'], after: "seconds to fetch SNS's signing certificate" },
  ];
  if (!a.profile)
    r.push({
      path: ['aws'],
      inside: "profile: production   # a profile in ~/.aws/config (default: the SDK's default chain)",
    });
  else r.push({ path: ['aws', 'profile'], after: 'a profile in ~/.aws/config or ~/.aws/credentials' });
  for (const g of a.groups) {
    const base = ['groups', g.name];
    if (g.bootstrap !== 'salt-cloud') {
      r.push({ path: [...base, 'salt_version'], after: "installed on the instance; not newer than the master's" });
    } else {
      r.push({ path: [...base, 'ssh_username'], after: "the AMI's SSH user" });
    }
    r.push({
      path: [...base, 'minion'],
      after: 'minion settings, e.g. {grains: {role: web}, startup_states: highstate}',
    });
  }
  if (a.email) {
    r.push(
      { path: ['alerts', 'email', 'tls'], after: 'STARTTLS' },
      { path: ['alerts', 'email', 'password'], after: 'a secret: keep this file private (mode 0600)' },
      { path: ['alerts', 'email', 'password_file'], after: 'read on the master when an email is sent' },
    );
  } else {
    r.push({
      path: ['alerts', 'min_interval_seconds'],
      above:
        'email:\n  smtp_host: smtp.example.com\n  smtp_port: 587\n  tls: true\n  from: salt-master@example.com\n' +
        '  to: [ops@example.com]\n  username: salt-master@example.com\n  password_file: /etc/salt/smtp-password',
    });
  }
  return r;
}

function header(a: InitAnswers): string {
  const lines = [
    'salt-autoscale.yaml, written by `salt-autoscale init`. Edit freely: every command validates it on load.',
    'The Salt side: salt-autoscale render --out /etc/salt     The AWS side: salt-autoscale provision',
  ];
  if (holdsSecret(a))
    lines.push('This file holds a secret, so it was written with mode 0600: keep it that way, out of version control.');
  return lines.join('\n');
}

/** The complete, commented salt-autoscale.yaml for these answers. */
export function configYaml(a: InitAnswers): string {
  const doc = new Document(answersToConfig(a));
  doc.commentBefore = asComment(header(a));
  const top = doc.contents as YAMLMap<Node, Node>;
  for (const [i, pair] of top.items.entries()) if (i > 0 && isScalar(pair.key)) pair.key.spaceBefore = true;
  const add = (existing: string | null | undefined, text: string) =>
    existing ? `${existing}\n${asComment(text)}` : asComment(text);
  for (const remark of remarksFor(a)) {
    const pair = pairAt(doc, remark.path);
    if (!pair || !isScalar(pair.key)) continue;
    // A comment after a block value would land on a line of its own below it; keep it by the key instead.
    const valueIsScalar = isScalar(pair.value);
    const above = [remark.above, valueIsScalar ? undefined : remark.after].filter(Boolean).join('\n');
    if (above) pair.key.commentBefore = add(pair.key.commentBefore, above);
    if (remark.after && valueIsScalar) pair.value!.comment = add(pair.value!.comment, remark.after);
    if (remark.inside && isMap(pair.value)) pair.value.comment = add(pair.value.comment, remark.inside);
  }
  return doc.toString({ lineWidth: 0 });
}
