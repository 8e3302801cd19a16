// The one door to interactive prompts. Commands talk to a `Prompter` that the I/O layer (src/io.ts) hands
// them: on a terminal it is backed by inquirer (src/terminal-prompter.ts, imported only when a question is
// really asked, so `--help`, `render` and friends never load it), and in tests by `scriptedPrompter`, which
// plays back answers and runs the same validators a user would hit.

/** A validator returns the problem to show ("is not …", "must …"), or undefined when the answer is right. */
export type Validate<T> = (value: T) => string | undefined;

export interface Choice<T extends string> {
  value: T;
  /** The label shown; defaults to the value. */
  name?: string;
  description?: string;
  /** What is shown once chosen; defaults to the value. */
  short?: string;
  /** Checkboxes only: ticked at first. */
  checked?: boolean;
}

interface Named {
  /** A stable id for the question (e.g. "aws.region"): scripts answer by it, and it names the answer in logs. */
  name: string;
  message: string;
}

export interface TextQuestion extends Named {
  default?: string;
  validate?: Validate<string>;
}
export interface SecretQuestion extends Named {
  validate?: Validate<string>;
}
export interface ConfirmQuestion extends Named {
  default: boolean;
}
export interface ChooseQuestion<T extends string> extends Named {
  choices: Choice<T>[];
  default?: T;
}
export interface ChooseManyQuestion<T extends string> extends Named {
  choices: Choice<T>[];
  validate?: Validate<T[]>;
}

export interface Prompter {
  /** A line of text, trimmed; an empty answer takes the default. */
  text(q: TextQuestion): Promise<string>;
  /** A secret: never echoed (masked), never part of any log. */
  secret(q: SecretQuestion): Promise<string>;
  confirm(q: ConfirmQuestion): Promise<boolean>;
  choose<T extends string>(q: ChooseQuestion<T>): Promise<T>;
  chooseMany<T extends string>(q: ChooseManyQuestion<T>): Promise<T[]>;
  /** An informational line between questions. */
  note(text: string): void;
}

/** The user pressed Ctrl-C: the same error name inquirer uses, which src/cli.ts maps to exit 130. */
export class PromptInterrupted extends Error {
  constructor() {
    super('interrupted at a prompt');
    this.name = 'ExitPromptError';
  }
}

// ---- scripted answers, for tests and for anything that needs to drive an interview without a terminal ----

/** Answer with the question's default (a text default, a confirm default, a choose default, the ticked boxes). */
export const DEFAULT = Symbol('default answer');
/** Behave as if the user pressed Ctrl-C at this question. */
export const INTERRUPT = Symbol('Ctrl-C');

export type ScriptedAnswer = string | boolean | string[] | typeof DEFAULT | typeof INTERRUPT;

/** Several tries at one question: the next is typed when the validator rejected the previous one. */
export interface Attempts {
  attempts: ScriptedAnswer[];
}
export const attempts = (...answers: ScriptedAnswer[]): Attempts => ({ attempts: answers });

export interface ScriptedPrompter extends Prompter {
  /** The question names in the order they were asked (a re-ask after a rejected answer appears again). */
  readonly asked: string[];
  /** Each rejected answer and the validator's message, in order. Secrets appear as "***". */
  readonly rejected: { name: string; value: unknown; problem: string }[];
  readonly notes: string[];
  /** The question objects as asked, by name (to check defaults and choices). */
  readonly questions: Map<string, Named & Record<string, unknown>>;
}

/**
 * Plays back `script`, keyed by question name. A question the script does not name takes its default when
 * `unscripted: 'default'`, and otherwise fails the test loudly, as does a question asked more often than
 * answers were given.
 */
export function scriptedPrompter(
  script: Record<string, ScriptedAnswer | Attempts>,
  options: { unscripted?: 'default' | 'fail' } = {},
): ScriptedPrompter {
  const queues = new Map<string, ScriptedAnswer[]>(
    Object.entries(script).map(([name, a]) => [name, typeof a === 'object' && 'attempts' in a ? [...a.attempts] : [a]]),
  );
  const asked: string[] = [];
  const rejected: ScriptedPrompter['rejected'] = [];
  const notes: string[] = [];
  const questions = new Map<string, Named & Record<string, unknown>>();

  async function answer<T>(
    q: Named & Record<string, unknown>,
    fallback: () => T,
    validate?: (v: T) => string | undefined,
    secret = false,
  ): Promise<T> {
    for (;;) {
      asked.push(q.name);
      questions.set(q.name, q);
      const queue = queues.get(q.name);
      let raw: ScriptedAnswer;
      if (queue && queue.length > 0) raw = queue.shift() as ScriptedAnswer;
      else if (queue === undefined && options.unscripted === 'default') raw = DEFAULT;
      else throw new Error(`scripted prompter: no (more) answers for question "${q.name}" (${q.message})`);
      if (raw === INTERRUPT) throw new PromptInterrupted();
      const value = raw === DEFAULT ? fallback() : ((typeof raw === 'string' ? raw.trim() : raw) as T);
      const problem = validate?.(value);
      if (problem === undefined) return value;
      rejected.push({ name: q.name, value: secret ? '***' : value, problem });
    }
  }
  const noDefault = (q: Named) => () => {
    throw new Error(`scripted prompter: question "${q.name}" has no default to accept`);
  };
  return {
    asked,
    rejected,
    notes,
    questions,
    text: (q) => answer<string>({ ...q }, q.default !== undefined ? () => q.default! : noDefault(q), q.validate),
    secret: (q) => answer<string>({ ...q }, noDefault(q), q.validate, true),
    confirm: (q) => answer<boolean>({ ...q }, () => q.default),
    choose: (q) =>
      answer({ ...q }, q.default !== undefined ? () => q.default! : () => q.choices[0].value, (v) =>
        q.choices.some((c) => c.value === v)
          ? undefined
          : `is not one of the choices ${q.choices.map((c) => c.value).join(', ')}`,
      ),
    chooseMany: <T extends string>(q: ChooseManyQuestion<T>) =>
      answer<T[]>(
        { ...q },
        () => q.choices.filter((c) => c.checked).map((c) => c.value),
        (v) => {
          const unknown = v.find((x) => !q.choices.some((c) => c.value === x));
          return unknown !== undefined ? `offers no choice ${unknown}` : q.validate?.(v);
        },
      ),
    note: (text) => {
      notes.push(text);
    },
  };
}
