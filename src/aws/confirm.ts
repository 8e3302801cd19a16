// A yes/no question on the terminal. Callers decide what to do without a terminal (never ask then).
import { createInterface } from 'node:readline/promises';

export const isInteractive = () => Boolean(process.stdin.isTTY && process.stdout.isTTY);

export async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
