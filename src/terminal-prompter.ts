// The terminal prompter: inquirer is loaded here, lazily, and nowhere else. src/cli.ts imports this module
// only when a command asks its first question.
import type { ChooseManyQuestion, Prompter, Validate } from './prompts.js';

const asInquirerValidate = <T>(validate?: Validate<T>) =>
  validate ? (value: T) => validate(value) ?? true : undefined;

export async function createTerminalPrompter(output: NodeJS.WritableStream = process.stdout): Promise<Prompter> {
  const { default: inquirer } = await import('inquirer');
  // One question per call: each answer is validated and used before the next question is built.
  const ask = async <T>(question: Record<string, unknown>): Promise<T> => {
    const answers = (await inquirer.prompt([{ ...question, name: 'answer' } as never])) as { answer: T };
    return answers.answer;
  };
  return {
    async text(q) {
      const validate = q.validate;
      const value = await ask<string>({
        type: 'input',
        message: q.message,
        default: q.default,
        validate: (v: string) => (validate ? (validate(v.trim()) ?? true) : true),
      });
      return value.trim();
    },
    secret: (q) =>
      ask<string>({
        type: 'password',
        message: q.message,
        mask: '*',
        toggleMask: false,
        validate: asInquirerValidate(q.validate),
      }),
    confirm: (q) => ask<boolean>({ type: 'confirm', message: q.message, default: q.default }),
    // After the answer, show the short value ("preauth"), not the long label.
    choose: (q) =>
      ask({
        type: 'select',
        message: q.message,
        default: q.default,
        choices: q.choices.map((c) => ({ ...c, short: c.short ?? (c.value || c.name) })),
      }),
    chooseMany: <T extends string>(q: ChooseManyQuestion<T>) => {
      const validate = q.validate;
      return ask<T[]>({
        type: 'checkbox',
        message: q.message,
        choices: q.choices,
        // inquirer hands the checkbox validator the selected choice objects, not their values.
        validate: (selected: readonly { value: T }[]) =>
          validate ? (validate(selected.map((c) => c.value)) ?? true) : true,
      });
    },
    note(text) {
      output.write(`${text}\n`);
    },
  };
}
