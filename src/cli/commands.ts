import { APP_COMMANDS, classified } from '../app/registry.js';
import type { CommandSpec } from '../app/spec.js';
import { completionCommands } from './commands/completion.js';

/** What the command line offers: the application's commands and the CLI's own (completion). */
export const COMMANDS: readonly CommandSpec[] = [...APP_COMMANDS, ...completionCommands.map(classified)];

export { GROUP_SUMMARIES } from '../app/registry.js';
