// Builds the commander program. Commands are loaded lazily (only the one that runs is imported), so `--help`
// and `render` never load the AWS SDK or inquirer. This is the only place that builds the I/O layer
// (src/io.ts), shows a command's outcome and maps errors to exit codes.
import { Command, CommanderError, Option } from 'commander';
import { EXIT, UserError } from './errors.js';
import { addAnswerOptions } from './init/flags.js';
import { createIo, type Io, type Outcome, type Streams } from './io.js';
import { VERSION } from './version.js';

/** A command module: `run(io, ...positionals, options)` returns the outcome for src/cli.ts to show. */
type Loader = () => Promise<{ run: (io: Io, ...args: any[]) => Promise<Outcome> }>;

/** What the chosen command decided; read by runCli once parsing is over. */
interface RunState {
  exitCode: number;
}

const configOption = () =>
  new Option('-c, --config <file>', 'the salt-autoscale config file').default('salt-autoscale.yaml');

function buildProgram(streams: Streams, state: RunState): Command {
  const lazy =
    (load: Loader) =>
    async (...args: unknown[]) => {
      // commander passes (...positionals, options, command); the command object is of no use to the core.
      const positionals = args.slice(0, -2);
      const options = args[args.length - 2] as { json?: boolean };
      const io = createIo(streams, { json: options.json });
      const mod = await load();
      const done = await mod.run(io, ...positionals, options);
      io.emit(done);
      state.exitCode = done.exitCode;
    };

  const program = new Command('salt-autoscale')
    .description('Wire EC2 Auto Scaling groups to a Salt master: render the Salt side, provision the AWS side.')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    // Set before the subcommands are added: they inherit it. Commander's own errors get the CLI's prefix.
    .configureOutput({
      writeOut: (text) => streams.stdout.write(text),
      writeErr: (text) => streams.stderr.write(text),
      outputError: (text, write) => write(text.replace(/^error: /, 'salt-autoscale: ')),
    })
    .exitOverride();

  const init = program
    .command('init')
    .description('ask questions and write salt-autoscale.yaml')
    .addOption(configOption())
    .option('-y, --yes', 'do not ask: take answers from flags and --answers')
    .option('--answers <file>', 'a YAML or JSON file of answers (for scripts)')
    .option('-f, --force', 'overwrite an existing config file')
    .option('--endpoint-url <url>', 'list the Auto Scaling groups at this URL (as the AWS CLI does)');
  addAnswerOptions(init).action(lazy(() => import('./commands/init.js')));

  program
    .command('render')
    .description(
      'render the master.d drop-in, the salt-cloud provider, the reactor and preauth user data from the config',
    )
    .addOption(configOption())
    .option(
      '-o, --out <dir>',
      'where to write (the Salt config dir, e.g. /etc/salt, installs for real)',
      'salt-autoscale-out',
    )
    .option(
      '--reactor-out <dir>',
      'where to write ec2-autoscale.sls (default: salt.reactor_dir when --out is salt.config_dir, else <out>/reactor)',
    )
    .option('-n, --dry-run', 'show what would change, write nothing')
    .option('--diff', 'show a unified diff of every change (secrets masked); a preview: writes nothing')
    .option('-f, --force', 'replace files edited by hand since render wrote them')
    .option('--prune', "remove render's own files the config no longer produces (userdata/<removed group>.sh)")
    .option('--master <name>', "which master's drop-in to render (masters: in the config); default: the only one")
    .action(lazy(() => import('./commands/render.js')));

  program
    .command('verify')
    .description(
      "judge an SNS message with the reactor's own gate: accepted (and the reaction), rejected (and why), every check",
    )
    .argument('<message>', 'a file holding the SNS message JSON, or - for standard input')
    .addOption(configOption())
    .option('--json', 'print the verdict as JSON')
    .option(
      '--cache-dir <dir>',
      "the reactor's cache to read, never write (default: reactor.cache_dir, else /var/cache/salt/master/ec2-autoscale)",
    )
    .option('--no-cache', "ignore the reactor's cache: fetch the certificate, do not look for handled MessageIds")
    .option('--python <path>', "the Python that runs the reactor's gate (default python3; e.g. Salt's onedir python3)")
    .option('--at <time>', "judge as of this ISO-8601 time (e.g. a captured message's arrival), not now")
    .action(lazy(() => import('./commands/verify.js')));

  const awsOptions = (cmd: Command) =>
    cmd
      .addOption(configOption())
      .option('--profile <name>', 'AWS profile (default: the config, then the SDK default chain)')
      .option('--region <region>', 'AWS region (default: the config)')
      .option('--endpoint-url <url>', 'send every AWS call to this URL (as the AWS CLI does)')
      .option(
        '--aws-timeout <seconds>',
        'time limit per AWS call attempt (default: SALT_AUTOSCALE_AWS_TIMEOUT, else 10)',
      )
      .option('--json', 'print the result as JSON');

  awsOptions(program.command('provision'))
    .description("create or update the SNS topic, its HTTPS subscription and the groups' notifications")
    .option('-n, --dry-run', 'print the plan, change nothing; exit 1 when there are changes to make, 0 when none')
    .option('-y, --yes', 'do not ask before applying')
    .option('--resend-confirmation', 'ask SNS to send the subscription confirmation again')
    .action(lazy(() => import('./commands/provision.js')));

  awsOptions(program.command('status'))
    .description('compare what exists in AWS with the config; exit 0 only when all is in step and confirmed')
    .action(lazy(() => import('./commands/status.js')));

  awsOptions(program.command('teardown'))
    .description('remove the notifications, the subscription and (if salt-autoscale created it) the topic')
    .option('-n, --dry-run', 'print the plan, change nothing; exit 1 when there are changes to make, 0 when none')
    .option('-y, --yes', 'do not ask before deleting')
    .option('--keep-topic', 'keep the SNS topic')
    .action(lazy(() => import('./commands/teardown.js')));

  awsOptions(program.command('reconcile'))
    .description(
      'on the master: delete the keys of instances that are gone, write the stubs of lost launches, handle the dead-letter queue',
    )
    .option('-n, --dry-run', 'print the plan, change nothing')
    .option('-y, --yes', 'do not ask before applying (a schedule runs it so)')
    .option('--clear-denied', 'delete the denied keys of managed instances (left behind by a reused id)')
    .option('--python <path>', "the Python that runs the reactor's gate package (default python3)")
    .action(lazy(() => import('./commands/reconcile.js')));

  program
    .command('iam-policy')
    .description('print the least-privilege IAM policies for this tool and for the Salt master')
    .addOption(configOption())
    .option('--only <which>', 'print only one policy as plain JSON: tool, master or reconcile')
    .action(lazy(() => import('./commands/iam-policy.js')));

  return program;
}

/** The process's own streams; the prompter (and so inquirer) is loaded only when a question is asked. */
function processStreams(): Streams {
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    prompter: () => import('./terminal-prompter.js').then((m) => m.createTerminalPrompter(process.stdout)),
  };
}

/** Runs the CLI on `streams` (the process's by default); returns the exit code. Every error ends here. */
export async function runCli(argv: string[], streams: Streams = processStreams()): Promise<number> {
  const state: RunState = { exitCode: EXIT.ok };
  const program = buildProgram(streams, state);
  try {
    await program.parseAsync(argv);
    return state.exitCode;
  } catch (err) {
    return exitCodeFor(err, streams.stderr);
  }
}

function exitCodeFor(err: unknown, stderr: NodeJS.WritableStream): number {
  if (err instanceof CommanderError) {
    // --help and --version end with a CommanderError whose exitCode is 0; usage errors are already printed.
    return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (err instanceof UserError) {
    stderr.write(`salt-autoscale: ${err.message}\n`);
    return err.exitCode;
  }
  if (isPromptInterrupt(err)) {
    stderr.write('salt-autoscale: interrupted; nothing was written\n');
    return EXIT.interrupted;
  }
  const e = err as Error;
  stderr.write(`salt-autoscale: unexpected error: ${e?.stack ?? String(err)}\nThis is a bug; please report it.\n`);
  return EXIT.internal;
}

/** Ctrl-C at a question: inquirer's error names (and PromptInterrupted, which copies them). */
function isPromptInterrupt(err: unknown): boolean {
  return err instanceof Error && (err.name === 'ExitPromptError' || err.name === 'AbortPromptError');
}
