// The built CLI run as a user would, for the verify tests (the shared runner in helpers/run-cli.ts).
import { type CliResult, runCli } from './helpers/run-cli.js';

export type BinResult = CliResult;

export function runBin(args: string[], env: Record<string, string> = {}, input = ''): Promise<BinResult> {
  return runCli(args, { env, input, cwd: process.cwd() });
}
