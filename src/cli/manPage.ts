import { ENVIRONMENT } from '../config.js';
import { EXIT, EXIT_CODE_BY_ERROR_CODE } from '../core/errors.js';
import { COMMANDS } from './commands.js';
import { programTree } from './completion/index.js';
import { flagsOf, type CompletionNode, type CompletionTree, type FlagInfo } from './completion/tree.js';
import { COMMAND_GROUPS, groupOf } from './program.js';

export const MAN_PAGE_FILE = 'man/credits.1';

/**
 * Text as roff reads it: a backslash is an escape, a line starting with . or ' a request, a
 * plain - may become a hyphen that a reader cannot paste into a shell, and characters beyond
 * ASCII (€, …) are named, as troff without preconv reads bytes.
 */
function roff(text: string): string {
  return text
    .replace(/\\/g, '\\e')
    .replace(/-/g, '\\-')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^[.']/, '\\&$&')
    .replace(/[^\x00-\x7f]/gu, (char) => `\\[u${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`);
}

function bold(text: string): string {
  return `\\fB${roff(text)}\\fR`;
}

function flagLine(flag: FlagInfo): string {
  const names = flag.names.map(bold).join(', ');
  return flag.valueName === undefined ? names : `${names} \\fI${roff(flag.valueName)}\\fR`;
}

function flagItems(flags: FlagInfo[]): string[] {
  return flags.flatMap((flag) => {
    const choices = flag.values.choices ? ` One of: ${flag.values.choices.join(', ')}.` : '';
    const defaults = flag.defaultValue === undefined ? '' : ` Default: ${flag.defaultValue}.`;
    return ['.TP', flagLine(flag), roff(`${flag.description}.${choices}${defaults}`.replace(/\.\./g, '.'))];
  });
}

function synopsis(node: CompletionNode): string {
  const words = [bold(`credits ${node.path}`)];
  for (const argument of node.arguments) words.push(argument.required ? `\\fI${roff(argument.name)}\\fR` : `[\\fI${roff(argument.name)}\\fR]`);
  if (node.flags.length > 0) words.push('[\\fIflags\\fR]');
  return words.join(' ');
}

function commandSection(node: CompletionNode, examples: string[]): string[] {
  const lines = ['.SS', synopsis(node), roff(node.summary)];
  for (const argument of node.arguments) lines.push('.TP', `\\fI${roff(argument.name)}\\fR`, roff(argument.description));
  lines.push(...flagItems(node.flags));
  if (examples.length > 0) lines.push('.PP', 'Examples:', '.RS', '.nf', ...examples.map(roff), '.fi', '.RE');
  return lines;
}

const EXIT_MEANINGS: Record<number, string> = {
  [EXIT.ok]: 'success',
  [EXIT.internal]: 'internal error (a bug)',
  [EXIT.usage]: 'usage: a bad flag or value; nothing was written',
  [EXIT.refused]: 'refused by a ledger rule (credits, limits, a budget check below its threshold)',
  [EXIT.notFound]: 'not found',
  [EXIT.conflict]: 'conflict (idempotency key, duplicate)',
  [EXIT.storage]: 'storage, server or delivery unavailable',
  [EXIT.integrity]: 'integrity check failed',
  [EXIT.auth]: 'not authorised (HTTP API and remote mode)',
};

function exitStatus(): string[] {
  const lines: string[] = [];
  for (const [code, meaning] of Object.entries(EXIT_MEANINGS)) {
    const errors = Object.entries(EXIT_CODE_BY_ERROR_CODE)
      .filter(([, exit]) => exit === Number(code))
      .map(([name]) => name);
    lines.push('.TP', bold(code), roff(errors.length === 0 ? meaning : `${meaning}: ${errors.join(', ')}`));
  }
  return lines;
}

/** man/credits.1: the same registry as --help and docs/commands.md, as a roff man page. */
export function manPage(tree: CompletionTree = programTree()): string {
  const examplesOf = new Map(COMMANDS.map((spec) => [spec.name, spec.examples]));
  const root = tree.nodes.find((node) => node.path === '')!;
  const topLevel = root.subcommands.map((sub) => sub.name);
  const headings = [...COMMAND_GROUPS.map((group) => group.heading), 'Other commands'];
  const lines = [
    '.\\" Generated from the command registry (src/app/registry.ts) by `npm run generate`; do not edit.',
    '.TH CREDITS 1 "" "credits" "User Commands"',
    '.SH NAME',
    'credits \\- administer a prepaid AI\\-usage credits ledger',
    '.SH SYNOPSIS',
    `${bold('credits')} [\\fIglobal flags\\fR] \\fIcommand\\fR [\\fIarguments\\fR] [\\fIflags\\fR]`,
    '.SH DESCRIPTION',
    roff(root.summary),
    'Every command also takes the global flags; \\fBcredits\\fR \\fIcommand\\fR \\fB\\-\\-help\\fR prints its flags and examples.',
    '.SH GLOBAL FLAGS',
    ...flagItems(flagsOf(tree, root)),
  ];
  for (const heading of headings) {
    const members = topLevel.filter((name) => groupOf(name) === heading);
    const nodes = tree.nodes.filter((node) => node.isCommand && members.includes(node.path.split(' ')[0]!));
    if (nodes.length === 0) continue;
    lines.push(`.SH ${roff(heading.toUpperCase())}`);
    for (const node of nodes) lines.push(...commandSection(node, examplesOf.get(node.path) ?? []));
  }
  lines.push('.SH ENVIRONMENT');
  for (const [name, meaning] of Object.entries(ENVIRONMENT)) lines.push('.TP', bold(name), roff(meaning));
  lines.push(
    '.SH FILES',
    '.TP',
    bold('$XDG_DATA_HOME/credits/ledger.db'),
    roff('the default ledger (~/.local/share/credits/ledger.db)'),
    '.TP',
    bold('$XDG_CONFIG_HOME/credits/config.json'),
    roff('the server and API token stored by credits login (mode 0600; refused when others can read it)'),
    '.TP',
    bold('$XDG_CONFIG_HOME/credits/signing-key'),
    roff('the Ed25519 key that signs checkpoints'),
    '.SH EXIT STATUS',
    ...exitStatus(),
    '.SH SEE ALSO',
    roff('The README and docs/commands.md of the package; deploy/ holds systemd units for credits serve and its jobs.'),
  );
  return `${lines.join('\n')}\n`;
}
