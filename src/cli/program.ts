import { Command, CommanderError, Option } from 'commander';
import type { GlobalFlags } from '../config.js';
import { GROUP_SUMMARIES } from './commands.js';
import { closest } from '../core/suggest.js';
import { MUTATING_OPTIONS, type CommandInput, type CommandSpec, type OptionSpec } from '../app/spec.js';

export type Selection = { spec: CommandSpec; input: CommandInput; globals: GlobalFlags };

/** Options every command takes; completions and the reference docs read them from here too. */
export const GLOBAL_OPTIONS: OptionSpec[] = [
  { flags: '--db <path|url>', description: 'ledger file or libsql://, http(s)://, ws(s):// URL (env CREDITS_DB; default: ~/.local/share/credits/ledger.db)' },
  { flags: '--json', description: 'print one JSON document on stdout; errors as JSON on stderr' },
  { flags: '-y, --yes', description: 'never prompt; answer yes to confirmations' },
  { flags: '--actor <name>', description: 'who is acting, for the audit log (env CREDITS_ACTOR; default: OS user)' },
  { flags: '-q, --quiet', description: 'print nothing on success' },
  { flags: '--no-color', description: 'no colour (also NO_COLOR)' },
  { flags: '--no-pager', description: 'never page long output on a terminal (default pager: $PAGER, else less -FRX)' },
];

/**
 * The headings `credits --help` sorts top-level commands under. A command missing here is
 * listed under "Other commands:", so a new command is never hidden.
 */
export const COMMAND_GROUPS: { heading: string; commands: string[] }[] = [
  { heading: 'Set up', commands: ['init', 'org', 'dept', 'user'] },
  { heading: 'Buy and move credits', commands: ['packages', 'buy', 'purchases', 'transfer', 'recharge'] },
  { heading: 'Balances and the books', commands: ['balance', 'history', 'verify', 'checkpoint', 'audit'] },
  { heading: 'Usage, rates and limits', commands: ['usage', 'rates', 'limits', 'check'] },
  { heading: 'Reports and insight', commands: ['report', 'forecast', 'anomalies', 'dashboard', 'watch', 'statement', 'invoice'] },
  { heading: 'Notifications', commands: ['notify'] },
  { heading: 'Shell', commands: ['completion'] },
];

export function groupOf(topLevel: string): string {
  return COMMAND_GROUPS.find((group) => group.commands.includes(topLevel))?.heading ?? 'Other commands';
}

function describe(option: OptionSpec): string {
  return option.defaultValue === undefined ? option.description : `${option.description} (default: ${option.defaultValue})`;
}

function addOption(command: Command, spec: OptionSpec): void {
  const option = new Option(spec.flags, describe(spec));
  if (spec.choices && !spec.openChoices) option.choices(spec.choices);
  // Each occurrence adds its value: commander otherwise keeps the last one only.
  if (spec.repeatable) option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
  command.addOption(option);
}

/**
 * Unknown subcommand: suggests among the group's own subcommands first, then (at the top)
 * any command whose last word is close, so `credits settle` suggests `purchases settle`.
 */
function unknownCommand(parentPath: string, word: string, children: string[], allPaths: string[]): never {
  const near = closest(word, children);
  let suggestion = near === undefined ? undefined : [parentPath, near].filter(Boolean).join(' ');
  if (suggestion === undefined && parentPath === '') {
    const byLastWord = allPaths.filter((path) => path.includes(' '));
    const lastWords = byLastWord.map((path) => path.split(' ').at(-1)!);
    const match = closest(word, lastWords);
    if (match !== undefined) suggestion = byLastWord[lastWords.indexOf(match)];
  }
  const full = [parentPath, word].filter(Boolean).join(' ');
  throw new CommanderError(2, 'commander.unknownCommand', `error: unknown command '${full}'${suggestion ? `\n(Did you mean ${suggestion}?)` : ''}`);
}

/**
 * The commander tree, built from the specs. Actions only record which command was chosen with
 * what; main.ts runs it, so parsing, running and exiting stay in one visible sequence.
 */
export type ProgramOutput = { writeOut(text: string): void; writeErr(text: string): void };

/**
 * A command's own flags. A group that has a flag of the same name (`invoice --output` and
 * `invoice cancel --output`) takes it while commander parses the line; it is the subcommand's.
 */
function ownOptions(command: Command): CommandInput['options'] {
  const own = command.opts();
  const declared = new Set(command.options.map((option) => option.attributeName()));
  const taken: CommandInput['options'] = {};
  for (let parent = command.parent; parent; parent = parent.parent) {
    for (const [key, value] of Object.entries(parent.opts())) {
      if (declared.has(key) && own[key] === undefined && !(key in taken)) taken[key] = value as CommandInput['options'][string];
    }
  }
  return { ...taken, ...own };
}

export function buildProgram(specs: readonly CommandSpec[], version: string, output: ProgramOutput, onSelect: (selection: Selection) => void): Command {
  const program = new Command('credits')
    .description('Administer a prepaid AI-usage credits ledger (1 credit = €0.01).')
    .version(version, '-V, --version')
    .showSuggestionAfterError(true)
    // Every subcommand's --help lists the global flags too ("all flags", in one place).
    .configureHelp({ showGlobalOptions: true })
    // Set before subcommands are added: they copy these settings when created. main.ts prints errors.
    .configureOutput({ writeOut: output.writeOut, writeErr: output.writeErr, outputError: () => undefined })
    .exitOverride();
  for (const option of GLOBAL_OPTIONS) addOption(program, option);
  program.addHelpText(
    'after',
    [
      '',
      'Run `credits COMMAND --help` for its flags and examples; `credits completion bash|zsh|fish` for tab completion.',
      '',
      'Examples:',
      '  $ credits init --demo && credits balance',
      '  $ credits transfer 2500 --from org --to Engineering',
      '  $ credits report --by user --month 2026-10',
      '',
    ].join('\n'),
  );

  const allPaths = specs.map((spec) => spec.name);
  // Each path's direct subcommand names, built once: asked for every spec while the tree is built.
  const children = new Map<string, Set<string>>();
  for (const full of allPaths) {
    const parts = full.split(' ');
    for (let depth = 0; depth < parts.length; depth += 1) {
      const parent = parts.slice(0, depth).join(' ');
      const names = children.get(parent) ?? new Set<string>();
      names.add(parts[depth]!);
      children.set(parent, names);
    }
  }
  const childrenOf = (path: string): string[] => [...(children.get(path) ?? [])];
  program.on('command:*', (operands: string[]) => unknownCommand('', operands[0] ?? '', childrenOf(''), allPaths));

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
        if (depth === 0) command.helpGroup(`${groupOf(part)}:`);
        groups.set(key, command);
        const group = command;
        if (depth < path.length - 1) {
          // A group: `credits dept` lists its subcommands; `credits dept ad` suggests `dept add`.
          command.allowExcessArguments(true);
          command.action(() => {
            const word = group.args[0];
            if (word !== undefined) unknownCommand(key, word, childrenOf(key), allPaths);
            group.help();
          });
        }
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
    const declared = spec.arguments?.length ?? 0;
    const hasChildren = childrenOf(spec.name).length > 0;
    // A command that is also a group (purchases, limits, rates): a stray word is a mistyped subcommand.
    if (hasChildren) command.allowExcessArguments(true);
    command.action((...params: unknown[]) => {
      const self = params[params.length - 1] as Command;
      if (hasChildren && self.args.length > declared) unknownCommand(spec.name, self.args[declared]!, childrenOf(spec.name), allPaths);
      const args = (self.processedArgs as unknown[]).map((value) => (typeof value === 'string' ? value : undefined)) as string[];
      onSelect({ spec, input: { args, options: ownOptions(self) }, globals: self.optsWithGlobals() as GlobalFlags });
    });
  }
  return program;
}
