import { COMMAND_GROUPS, groupOf } from './program.js';
import { COMMANDS } from './commands.js';
import { flagsOf, type CompletionNode, type CompletionTree, type FlagInfo } from './completion/tree.js';
import { programTree } from './completion/index.js';

export const REFERENCE_FILE = 'docs/commands.md';

/** Markdown table cells: a pipe would end the cell, a newline the row. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();
}

function anchor(path: string): string {
  return `credits-${path.replace(/ /g, '-')}`;
}

function valuesText(flag: FlagInfo): string {
  if (flag.values.choices) return flag.values.choices.map((choice) => `\`${choice}\``).join(', ');
  if (flag.values.dynamic) return `${flag.values.dynamic} in the ledger`;
  if (flag.values.paths) return flag.values.paths === 'directories' ? 'a folder' : 'a file';
  return '';
}

function flagTable(flags: FlagInfo[]): string[] {
  const lines = ['| flag | description | default | values |', '|---|---|---|---|'];
  for (const flag of flags) {
    const name = flag.names.join(', ') + (flag.valueName === undefined ? '' : ` <${flag.valueName}>`);
    lines.push(
      `| \`${cell(name)}\` | ${cell(flag.description)} | ${flag.defaultValue === undefined ? '' : `\`${cell(flag.defaultValue)}\``} | ${cell(valuesText(flag))} |`,
    );
  }
  return lines;
}

function synopsis(node: CompletionNode): string {
  const words = ['credits', ...(node.path === '' ? [] : [node.path])];
  if (!node.isCommand) words.push('COMMAND');
  for (const argument of node.arguments) words.push(argument.required ? `<${argument.name}>` : `[${argument.name}]`);
  if (node.flags.length > 0 || node.isCommand) words.push('[flags]');
  return words.join(' ');
}

function section(node: CompletionNode, examples: string[]): string[] {
  const lines = [`### \`credits ${node.path}\``, '', `<a id="${anchor(node.path)}"></a>`, '', node.summary, '', '```', synopsis(node), '```', ''];
  if (node.subcommands.length > 0) {
    lines.push('Subcommands:', '');
    for (const sub of node.subcommands) lines.push(`- [\`credits ${node.path} ${sub.name}\`](#${anchor(`${node.path} ${sub.name}`)}): ${sub.summary}`);
    lines.push('');
  }
  if (node.arguments.length > 0) {
    lines.push('Arguments:', '', '| argument | description | required | values |', '|---|---|---|---|');
    for (const argument of node.arguments) {
      const values = argument.values.choices
        ? argument.values.choices.map((choice) => `\`${choice}\``).join(', ')
        : argument.values.dynamic
          ? `${argument.values.dynamic} in the ledger`
          : argument.values.paths
            ? 'a file'
            : '';
      lines.push(`| \`${argument.name}\` | ${cell(argument.description)} | ${argument.required ? 'yes' : 'no'} | ${cell(values)} |`);
    }
    lines.push('');
  }
  if (node.flags.length > 0) lines.push('Flags (and the [global flags](#global-flags)):', '', ...flagTable(node.flags), '');
  else if (node.isCommand) lines.push('Flags: only the [global flags](#global-flags).', '');
  if (examples.length > 0) lines.push('Examples:', '', '```sh', ...examples, '```', '');
  return lines;
}

/** docs/commands.md: every command with its purpose, arguments, flags (defaults, choices) and examples. */
export function referenceMarkdown(tree: CompletionTree = programTree()): string {
  const examplesOf = new Map(COMMANDS.map((spec) => [spec.name, spec.examples]));
  const byPath = new Map(tree.nodes.map((node) => [node.path, node]));
  const root = byPath.get('')!;
  const topLevel = root.subcommands.map((sub) => sub.name);
  const headings = [...COMMAND_GROUPS.map((group) => group.heading), 'Other commands'];
  const lines = [
    '# credits command reference',
    '',
    '<!-- Generated from the command registry (src/app/registry.ts) by `npm run generate`; do not edit. -->',
    '',
    root.summary,
    '',
    'Every command also takes the [global flags](#global-flags). `credits COMMAND --help` prints the same on the terminal.',
    '',
    '## Global flags',
    '',
    ...flagTable(flagsOf(tree, root)),
    '',
  ];
  const membersOf = (heading: string): string[] => topLevel.filter((name) => groupOf(name) === heading);
  lines.push('## Contents', '');
  for (const heading of headings) {
    const commands = tree.nodes.filter((node) => node.isCommand && membersOf(heading).includes(node.path.split(' ')[0]!));
    if (commands.length > 0) lines.push(`- ${heading}: ${commands.map((node) => `[${node.path}](#${anchor(node.path)})`).join(', ')}`);
  }
  lines.push('');
  for (const heading of headings) {
    const members = membersOf(heading);
    if (members.length === 0) continue;
    lines.push(`## ${heading}`, '');
    for (const name of members) {
      const paths = tree.nodes.filter((node) => node.path === name || node.path.startsWith(`${name} `));
      for (const node of paths) lines.push(...section(node, examplesOf.get(node.path) ?? []));
    }
  }
  return `${lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}
