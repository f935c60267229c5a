import { CreditsError } from '../../core/errors.js';
import { SHELLS, isShell } from '../completion/shells.js';
import type { LegacyCommandSpec } from '../../app/spec.js';

export const completionCommands: LegacyCommandSpec[] = [
  {
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
    async run(input) {
      const shell = input.args[0] ?? '';
      if (!isShell(shell)) {
        throw new CreditsError('INVALID_VALUE', `SHELL "${shell}" is not one of ${SHELLS.join(', ')}`, { hint: 'like `credits completion bash`' });
      }
      // Loaded on demand: the generator reads the registry, which imports this file.
      const { completionScript } = await import('../completion/index.js');
      return { view: 'completionScript', data: { shell, script: completionScript(shell) } };
    },
  },
];
