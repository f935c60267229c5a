import { CreditsError } from '../core/errors.js';

/**
 * The questions asked on a terminal. Only Context calls these, after it has checked that someone
 * can answer (a TTY, no CI, no --yes, no --json). Inquirer is imported on the first question:
 * most runs never ask one and should not pay for loading it.
 */

import type { Choice, Interaction } from '../app/context.js';

export type { Choice } from '../app/context.js';

type Inquirer = typeof import('@inquirer/prompts');
let inquirer: Promise<Inquirer> | undefined;

async function ask<T>(question: (prompts: Inquirer) => Promise<T>): Promise<T> {
  inquirer ??= import('@inquirer/prompts');
  const prompts = await inquirer;
  try {
    return await question(prompts);
  } catch (error) {
    // Ctrl-C or a closed terminal in the middle of a question: nothing was written yet, say so
    // instead of showing inquirer's stack trace.
    if (error instanceof Error && (error.name === 'ExitPromptError' || error.name === 'AbortPromptError')) {
      throw new CreditsError('CONFIRMATION_DECLINED', 'nothing was done: the question was cancelled', {
        hint: 'give the values as flags to skip the questions',
      });
    }
    throw error;
  }
}

/** Runs a parser as an inquirer validator: its CreditsError message is shown under the answer. */
function asValidator(check: ((text: string) => unknown) | undefined): (text: string) => true | string {
  return (text) => {
    if (!check) return true;
    try {
      check(text);
      return true;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  };
}

export function askSelect(message: string, choices: Choice[], defaultValue?: string): Promise<string> {
  return ask((prompts) => prompts.select<string>({ message, choices, default: defaultValue, pageSize: Math.min(12, Math.max(7, choices.length)) }));
}

export function askText(
  message: string,
  options: { defaultValue?: string | undefined; validate?: ((text: string) => unknown) | undefined } = {},
): Promise<string> {
  return ask((prompts) =>
    prompts.input({ message, default: options.defaultValue === '' ? undefined : options.defaultValue, validate: asValidator(options.validate) }),
  ).then((text) => text.trim());
}

export function askYesNo(message: string, defaultValue: boolean): Promise<boolean> {
  return ask((prompts) => prompts.confirm({ message, default: defaultValue }));
}

/** Typed without echo: nothing of it shows on the screen or stays in the scrollback. */
export function askSecret(message: string): Promise<string> {
  return ask((prompts) => prompts.password({ message })).then((text) => text.trim());
}

/** The terminal's way of asking, for commands run from the CLI. */
export const terminalInteraction: Interaction = { select: askSelect, text: askText, yesNo: askYesNo, secret: askSecret };
