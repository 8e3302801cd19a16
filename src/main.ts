// Entry point of the bin: run the CLI and leave with the exit code it decided.
import { runCli } from './cli.js';

// `salt-autoscale iam-policy | head` closes the pipe early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

process.exitCode = await runCli(process.argv);
