#!/usr/bin/env node
// A local AWS sandbox: the project's fake SNS, Auto Scaling, SQS, EC2 and IAM (test/fakes/aws.ts, spec
// test/fakes/README.md) on 127.0.0.1, so provision/status/teardown can be tried without an AWS account. Run from
// a clone with `npm run fake-aws [-- --port N] [-- GROUP ...]`; Ctrl-C stops it (the state lives in memory only).
const args = process.argv.slice(2);
let port = 4566;
const groups = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--port') port = Number(args[++i]);
  else if (args[i] === '--help' || args[i] === '-h') {
    process.stdout.write(
      'usage: npm run fake-aws [-- [--port N] [GROUP ...]]   (default: port 4566, web-asg worker-asg)\n',
    );
    process.exit(0);
  } else groups.push(args[i]);
}
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`fake-aws: --port must be a port number, not ${JSON.stringify(String(port))}\n`);
  process.exit(2);
}
const { startFakeAws } = await import('../test/fakes/aws.ts');
let fake;
try {
  fake = await startFakeAws({ groups: groups.length ? groups : ['web-asg', 'worker-asg'], port });
} catch (err) {
  process.stderr.write(
    `fake-aws: cannot listen on 127.0.0.1:${port} (${err.code ?? err}); try --port 0 for a free one\n`,
  );
  process.exit(1);
}
const url = fake.url;
process.stdout.write(
  [
    `Fake AWS (SNS, Auto Scaling, SQS, EC2, IAM) on ${url}, account ${fake.state.accountId}, region ${fake.state.region}`,
    `Auto Scaling groups: ${[...fake.state.groups.keys()].join(', ')}`,
    '',
    'In another shell (any dummy credentials; the fake does not check signatures):',
    '  export AWS_ACCESS_KEY_ID=fake AWS_SECRET_ACCESS_KEY=fake',
    `  salt-autoscale provision --endpoint-url ${url} --config examples/salt-autoscale.yaml --dry-run`,
    `  salt-autoscale status    --endpoint-url ${url} --config examples/salt-autoscale.yaml`,
    '',
    'The reactor is not running here: confirm the subscription as it would, then status says "In step":',
    `  curl -X POST ${url}/__fake/confirm`,
    `State and calls as JSON: curl ${url}/__fake/state`,
    'Ctrl-C stops it; nothing is kept.',
    '',
  ].join('\n'),
);
const stop = () => fake.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
