// verify as a user runs it, for the verify tests: in-process through src/cli.ts and the I/O layer (no node
// start-up per run; the gate's python3 is still spawned for real), or the built bin (`runBuiltBin`).
// In-process runs swap process.env while they run: await each before starting the next.
import { type CliResult, runCli, runInProcess } from './helpers/run-cli.js';

export type BinResult = CliResult;

export function runBin(args: string[], env: Record<string, string> = {}, input = ''): Promise<BinResult> {
  return runInProcess(args, { env, input, cwd: process.cwd() });
}

export function runBuiltBin(args: string[], env: Record<string, string> = {}, input = ''): Promise<BinResult> {
  return runCli(args, { env, input, cwd: process.cwd() });
}

/** Runs one after the other (in-process runs must not overlap). */
export async function inTurn<T>(jobs: (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = [];
  for (const job of jobs) out.push(await job());
  return out;
}
