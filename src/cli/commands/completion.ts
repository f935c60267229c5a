import { CreditsError } from '../../core/errors.js';
import { SHELLS, isShell, type Shell } from '../completion/shells.js';
import { defineCommand, type CommandSpec } from '../../app/spec.js';

export type CompletionRequest = { shell: Shell };

function shellArgument(shell: string): Shell {
  if (!isShell(shell)) {
    throw new CreditsError('INVALID_VALUE', `SHELL "${shell}" is not one of ${SHELLS.join(', ')}`, { hint: 'like `credits completion bash`' });
  }
  return shell;
}

export const completionCommands: CommandSpec[] = [
  defineCommand({
    name: 'completion',
    summary: 'print the tab-completion script for bash, zsh or fish (commands, flags, values, and names from the ledger)',
    ledger: 'none',
    arguments: [{ name: 'shell', description: 'bash, zsh or fish', required: true, choices: SHELLS }],
    examples: [
      'credits completion bash > ~/.local/share/bash-completion/completions/credits',
      'credits completion zsh > ~/.zfunc/_credits',
      'credits completion fish > ~/.config/fish/completions/credits.fish',
      'source <(credits completion bash)',
    ],
    request: (input): CompletionRequest => ({ shell: shellArgument(input.args[0] ?? '') }),
    async run({ shell }) {
      // Loaded on demand: the generator reads the registry, which imports this file.
      const { completionScript } = await import('../completion/index.js');
      return { view: 'completionScript', data: { shell, script: completionScript(shell) } };
    },
  }),
];
