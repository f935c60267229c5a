import type { ArgumentSpec, CommandSpec, OptionSpec } from '../../app/spec.js';
import { MUTATING_OPTIONS } from '../../app/spec.js';

/**
 * The command tree as the completion scripts and the reference see it: every command path
 * (commands and the groups above them), its subcommands, flags and positional arguments.
 * Built from the same specs as the commander program, so completion cannot offer a flag the
 * program refuses.
 */
export type DynamicKind = NonNullable<OptionSpec['dynamic']>;

/** Where the shell finds candidates for a value. */
export type ValueSource = { choices?: readonly string[]; dynamic?: DynamicKind; paths?: 'files' | 'directories' };

export type FlagInfo = {
  /** '-y', '--yes' */
  names: string[];
  long: string;
  /** 'account' for '--from <account>'; undefined for a switch. */
  valueName: string | undefined;
  description: string;
  defaultValue: string | undefined;
  values: ValueSource;
};

export type ArgumentInfo = { name: string; description: string; required: boolean; values: ValueSource };

export type CompletionNode = {
  /** '' for `credits` itself, else the space-separated path. */
  path: string;
  summary: string;
  /** A runnable command (has a spec), not only a group of subcommands. */
  isCommand: boolean;
  subcommands: { name: string; summary: string }[];
  flags: FlagInfo[];
  arguments: ArgumentInfo[];
};

export type CompletionTree = { nodes: CompletionNode[]; globalFlags: FlagInfo[] };

/** Value names that mean "a path on this machine". */
function pathKind(valueName: string | undefined): ValueSource['paths'] {
  if (valueName === undefined) return undefined;
  if (/\bdir\b|folder/i.test(valueName)) return 'directories';
  if (/\b(file|path)\b/i.test(valueName)) return 'files';
  return undefined;
}

export function flagInfo(option: OptionSpec): FlagInfo {
  // Names come before the value placeholder: '--month <YYYY-MM>' is one flag, not '-MM' too.
  const names = option.flags.split(/[<[]/)[0]!.match(/--?[A-Za-z0-9][A-Za-z0-9-]*/g) ?? [];
  const long = names.find((name) => name.startsWith('--')) ?? names[0] ?? option.flags;
  const valueName = /[<[]([^>\]]+)[>\]]/.exec(option.flags)?.[1];
  const values: ValueSource = {};
  if (option.choices) values.choices = option.choices;
  if (option.dynamic) values.dynamic = option.dynamic;
  const paths = option.choices || option.dynamic ? undefined : pathKind(valueName);
  if (paths) values.paths = paths;
  return { names, long, valueName, description: option.description, defaultValue: option.defaultValue, values };
}

function argumentInfo(argument: ArgumentSpec): ArgumentInfo {
  const values: ValueSource = {};
  if (argument.choices) values.choices = argument.choices;
  if (argument.dynamic) values.dynamic = argument.dynamic;
  const paths = argument.choices || argument.dynamic ? undefined : pathKind(argument.name);
  if (paths) values.paths = paths;
  return { name: argument.name, description: argument.description, required: argument.required, values };
}

const HELP_FLAG: OptionSpec = { flags: '-h, --help', description: 'show the help of this command' };
const VERSION_FLAG: OptionSpec = { flags: '-V, --version', description: 'print the version' };

/**
 * The tree. `globalOptions` are the program's own flags, which commander accepts before and
 * after a subcommand; they are listed on every node after the node's own flags.
 */
export function completionTree(specs: readonly CommandSpec[], globalOptions: readonly OptionSpec[], groupSummaries: Record<string, string>): CompletionTree {
  const globalFlags = [...globalOptions, HELP_FLAG].map(flagInfo);
  const byPath = new Map<string, CompletionNode>();
  const node = (path: string): CompletionNode => {
    let found = byPath.get(path);
    if (!found) {
      found = { path, summary: groupSummaries[path] ?? '', isCommand: false, subcommands: [], flags: [], arguments: [] };
      byPath.set(path, found);
    }
    return found;
  };
  const root = node('');
  root.summary = 'Administer a prepaid AI-usage credits ledger (1 credit = €0.01).';
  root.flags = [flagInfo(VERSION_FLAG)];
  for (const spec of specs) {
    const parts = spec.name.split(' ');
    // Every prefix is a node: `notify channel` exists as a group even though no spec names it.
    for (let depth = 0; depth < parts.length; depth += 1) {
      const parent = node(parts.slice(0, depth).join(' '));
      node(parts.slice(0, depth + 1).join(' '));
      if (!parent.subcommands.some((entry) => entry.name === parts[depth])) parent.subcommands.push({ name: parts[depth]!, summary: '' });
    }
    const target = node(spec.name);
    target.isCommand = true;
    target.summary = spec.summary;
    target.flags = [...(spec.options ?? []), ...(spec.mutating ? MUTATING_OPTIONS : [])].map(flagInfo);
    target.arguments = (spec.arguments ?? []).map(argumentInfo);
  }
  for (const entry of byPath.values()) {
    for (const sub of entry.subcommands) sub.summary = byPath.get(entry.path === '' ? sub.name : `${entry.path} ${sub.name}`)?.summary ?? '';
  }
  return { nodes: [...byPath.values()], globalFlags };
}

/** A node's own flags, then the global ones it does not redefine. */
export function flagsOf(tree: CompletionTree, node: CompletionNode): FlagInfo[] {
  const own = new Set(node.flags.flatMap((flag) => flag.names));
  return [...node.flags, ...tree.globalFlags.filter((flag) => !flag.names.some((name) => own.has(name)))];
}
