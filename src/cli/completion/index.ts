import { GLOBAL_OPTIONS } from '../program.js';
import { COMMANDS, GROUP_SUMMARIES } from '../commands.js';
import type { OptionSpec } from '../../app/spec.js';
import { bashScript } from './bash.js';
import { fishScript } from './fish.js';
import { completionTree, flagInfo, type CompletionTree } from './tree.js';
import { zshScript } from './zsh.js';

import { SHELLS, type Shell } from './shells.js';

export { SHELLS, type Shell };

/**
 * main.ts adds --server to the program after buildProgram (unless GLOBAL_OPTIONS has it); the
 * completion scripts and the reference list it with the other global flags.
 */
const SERVER_OPTION: OptionSpec = {
  flags: '--server <url>',
  description: 'run every command through a `credits serve` API (env CREDITS_SERVER; token in CREDITS_TOKEN; else `credits login`)',
};

export function programGlobalOptions(): OptionSpec[] {
  return GLOBAL_OPTIONS.some((option) => flagInfo(option).long === '--server') ? [...GLOBAL_OPTIONS] : [...GLOBAL_OPTIONS, SERVER_OPTION];
}

/** The tree of the real program: every registered command and the global flags. */
export function programTree(): CompletionTree {
  return completionTree(COMMANDS, programGlobalOptions(), GROUP_SUMMARIES);
}

export function completionScript(shell: Shell, tree: CompletionTree = programTree()): string {
  if (shell === 'bash') return bashScript(tree);
  if (shell === 'zsh') return zshScript(tree);
  return fishScript(tree);
}

/** Where each shell's script lives in the repository (and the npm package). */
export const COMPLETION_FILES: Record<Shell, string> = {
  bash: 'completions/credits.bash',
  zsh: 'completions/_credits',
  fish: 'completions/credits.fish',
};
