import { Command, Option } from 'commander';
import type { GlobalFlags } from '../config.js';
import { GROUP_SUMMARIES } from './registry.js';
import { MUTATING_OPTIONS, type CommandInput, type CommandSpec, type OptionSpec } from './spec.js';

export type Selection = { spec: CommandSpec; input: CommandInput; globals: GlobalFlags };

function describe(option: OptionSpec): string {
  return option.defaultValue === undefined ? option.description : `${option.description} (default: ${option.defaultValue})`;
}

function addOption(command: Command, spec: OptionSpec): void {
  const option = new Option(spec.flags, describe(spec));
  if (spec.choices) option.choices(spec.choices);
  command.addOption(option);
}

/**
 * The commander tree, built from the specs. Actions only record which command was chosen with
 * what; main.ts runs it, so parsing, running and exiting stay in one visible sequence.
 */
export type ProgramOutput = { writeOut(text: string): void; writeErr(text: string): void };

export function buildProgram(specs: readonly CommandSpec[], version: string, output: ProgramOutput, onSelect: (selection: Selection) => void): Command {
  const program = new Command('credits')
    .description('Administer a prepaid AI-usage credits ledger (1 credit = €0.01).')
    .version(version, '-V, --version')
    .option('--db <path|url>', 'ledger file or libsql://, http(s)://, ws(s):// URL (env CREDITS_DB)')
    .option('--json', 'print one JSON document on stdout; errors as JSON on stderr')
    .option('-y, --yes', 'never prompt; answer yes to confirmations')
    .option('--actor <name>', 'who is acting, for the audit log (env CREDITS_ACTOR; default: OS user)')
    .option('-q, --quiet', 'print nothing on success')
    .option('--no-color', 'no colour (also NO_COLOR)')
    .showSuggestionAfterError(true)
    // Set before subcommands are added: they copy these settings when created. main.ts prints errors.
    .configureOutput({ writeOut: output.writeOut, writeErr: output.writeErr, outputError: () => undefined })
    .exitOverride();

  const groups = new Map<string, Command>();
  for (const spec of specs) {
    const path = spec.name.split(' ');
    let parent = program;
    for (const [depth, part] of path.entries()) {
      const key = path.slice(0, depth + 1).join(' ');
      let command = groups.get(key);
      if (!command) {
        command = parent.command(part).exitOverride();
        command.description(GROUP_SUMMARIES[key] ?? '');
        groups.set(key, command);
        const group = command;
        if (depth < path.length - 1) command.action(() => group.help());
      }
      parent = command;
    }
    const command = parent;
    command.description(spec.summary);
    for (const argument of spec.arguments ?? []) {
      command.argument(argument.required ? `<${argument.name}>` : `[${argument.name}]`, argument.description);
    }
    for (const option of spec.options ?? []) addOption(command, option);
    if (spec.mutating) for (const option of MUTATING_OPTIONS) addOption(command, option);
    command.addHelpText('after', `\nExamples:\n${spec.examples.map((example) => `  $ ${example}`).join('\n')}\n`);
    command.action((...params: unknown[]) => {
      const self = params[params.length - 1] as Command;
      const args = (self.processedArgs as unknown[]).map((value) => (typeof value === 'string' ? value : undefined)) as string[];
      onSelect({ spec, input: { args, options: self.opts() }, globals: self.optsWithGlobals() as GlobalFlags });
    });
  }
  return program;
}
