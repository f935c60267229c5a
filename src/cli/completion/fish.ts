import type { CompletionTree, FlagInfo, ValueSource } from './tree.js';
import { fishQuoted, oneLine, plainWord } from './shellQuote.js';

function caseArm(patterns: string[], body: string): string {
  return `        case ${patterns.map(fishQuoted).join(' ')}\n            ${body}`;
}

/** The `complete` arguments that give a value source's candidates. */
function valueArguments(values: ValueSource): string {
  if (values.choices) return `-x -a ${fishQuoted(values.choices.map((choice) => plainWord(choice, 'choice')).join(' '))}`;
  if (values.dynamic) return `-x -a ${fishQuoted(`(__credits_names ${values.dynamic})`)}`;
  if (values.paths === 'directories') return `-x -a ${fishQuoted('(__fish_complete_directories)')}`;
  if (values.paths === 'files') return '-r -F';
  return '-x';
}

function flagLine(flag: FlagInfo, condition: string | undefined): string {
  const parts = ['complete -c credits'];
  if (condition) parts.push(`-n ${fishQuoted(condition)}`);
  for (const name of flag.names) {
    plainWord(name, 'flag');
    parts.push(name.startsWith('--') ? `-l ${name.slice(2)}` : `-s ${name.slice(1)}`);
  }
  if (flag.valueName !== undefined) parts.push(valueArguments(flag.values));
  parts.push(`-d ${fishQuoted(oneLine(flag.description))}`);
  return parts.join(' ');
}

/** fish: declarative `complete` lines, conditioned on the command path found by __credits_state. */
export function fishScript(tree: CompletionTree): string {
  const subs: string[] = [];
  const valued: string[] = [];
  const lines: string[] = [];
  for (const node of tree.nodes) {
    const path = node.path;
    const label = path === '' ? 'credits' : `credits ${path}`;
    if (node.subcommands.length > 0) {
      subs.push(caseArm([path], `printf '%s\\n' ${node.subcommands.map((sub) => plainWord(sub.name, 'command')).join(' ')}`));
      lines.push(`# ${label}: subcommands`);
      for (const sub of node.subcommands) {
        lines.push(`complete -c credits -n ${fishQuoted(`__credits_at 0 ${fishQuoted(path)}`)} -a ${sub.name} -d ${fishQuoted(oneLine(sub.summary))}`);
      }
    }
    const takingValue = node.flags.filter((flag) => flag.valueName !== undefined);
    if (takingValue.length > 0)
      valued.push(
        caseArm(
          takingValue.flatMap((flag) => flag.names.map((name) => `${path}|${name}`)),
          'return 0',
        ),
      );
    if (node.flags.length > 0) {
      lines.push(`# ${label}: flags`);
      for (const flag of node.flags) lines.push(flagLine(flag, `__credits_at any ${fishQuoted(path)}`));
    }
    node.arguments.forEach((argument, position) => {
      const values = argument.values;
      const condition = fishQuoted(`__credits_at ${position} ${fishQuoted(path)}`);
      if (values.choices)
        lines.push(`complete -c credits -n ${condition} -a ${fishQuoted(values.choices.join(' '))} -d ${fishQuoted(oneLine(argument.description))}`);
      else if (values.dynamic)
        lines.push(
          `complete -c credits -n ${condition} -a ${fishQuoted(`(__credits_names ${values.dynamic})`)} -d ${fishQuoted(oneLine(argument.description))}`,
        );
      else if (values.paths) lines.push(`complete -c credits -n ${condition} -F`);
    });
  }
  const globalValued = tree.globalFlags.filter((flag) => flag.valueName !== undefined).flatMap((flag) => flag.names);
  return `# fish completion for credits
# Generated from the command registry (src/app/registry.ts) by \`npm run generate\`; do not edit.
# Install: copy to ~/.config/fish/completions/credits.fish (see README, "Shell completion").

# Subcommands of a command path, one per line.
function __credits_subs --argument-names cmd_path
    switch "$cmd_path"
${subs.join('\n')}
    end
end

# Succeeds when flag $flag of command path $cmd_path takes a value.
function __credits_valued --argument-names cmd_path flag
    switch "$cmd_path|$flag"
${valued.join('\n')}
    end
    contains -- $flag ${globalValued.join(' ')}
end

# "POSITIONAL:PATH" for the words before the cursor: subcommands extend the path, flags and
# their values are skipped, anything else is a positional argument.
function __credits_state
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l cmd_path ''
    set -l positional 0
    set -l skip 0
    for word in $tokens
        if test $skip -eq 1
            set skip 0
            continue
        end
        if string match -qr -- '^-.' $word
            if not string match -q -- '*=*' $word; and __credits_valued "$cmd_path" $word
                set skip 1
            end
            continue
        end
        if test $positional -eq 0; and contains -- $word (__credits_subs "$cmd_path")
            set cmd_path (string trim -- "$cmd_path $word")
        else
            set positional (math $positional + 1)
        end
    end
    echo "$positional:$cmd_path"
end

# __credits_at POSITION|any PATH: the cursor is at that positional argument of that command path.
function __credits_at --argument-names position wanted
    set -l state (__credits_state)
    if test "$position" = any
        string match -q -- "*:$wanted" $state
    else
        test "$state" = "$position:$wanted"
    end
end

# Names from the ledger, read by \`credits __complete KIND\` with the --db or --server on the line.
function __credits_names --argument-names kind
    set -l tokens (commandline -opc)
    set -l ledger
    for index in (seq 2 (count $tokens))
        switch $tokens[$index]
            case --db --server
                set -l next (math $index + 1)
                if test $next -le (count $tokens)
                    set -a ledger $tokens[$index] (string replace -r '^~' $HOME -- $tokens[$next])
                end
            case '--db=*' '--server=*'
                set -a ledger $tokens[$index]
        end
    end
    command $tokens[1] __complete $kind $ledger 2>/dev/null
end

# No file names unless a flag or argument asks for them.
complete -c credits -f

# Global flags, on every command.
${tree.globalFlags.map((flag) => flagLine(flag, undefined)).join('\n')}

${lines.join('\n')}
`;
}
