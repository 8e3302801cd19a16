// Entry point of the bin: run the CLI and leave with the exit code it decided.
import { runCli } from './cli.js';

process.exitCode = await runCli(process.argv);
