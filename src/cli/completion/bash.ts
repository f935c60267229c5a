import type { CompletionTree, FlagInfo, ValueSource } from './tree.js';
import { plainWord, singleQuoted } from './shellQuote.js';

/** The bash statement that offers a value source's candidates for the word under the cursor. */
function offer(values: ValueSource): string | undefined {
  if (values.choices) return `_credits_words ${singleQuoted(values.choices.map((choice) => plainWord(choice, 'choice')).join(' '))}`;
  if (values.dynamic) return `_credits_dynamic ${values.dynamic}`;
  if (values.paths) return `_credits_paths ${values.paths}`;
  return undefined;
}

export function caseArm(patterns: string[], body: string): string {
  return `    ${patterns.join('|')}) ${body} ;;`;
}

/** The case pattern for "flag NAME on command path PATH"; null is any path (global flags). */
export function flagPattern(path: string | null, name: string): string {
  return path === null ? `*${singleQuoted(`|${name}`)}` : singleQuoted(`${path}|${name}`);
}

/**
 * The case arms for the flags of one command path that take a value: one arm saying they do, and
 * one per flag with the statement that offers its candidates (bash and zsh differ only in `offer`).
 */
export function valueArms(list: FlagInfo[], path: string | null, offer: (values: ValueSource) => string | undefined, valued: string[], values: string[]): void {
  const takingValue = list.filter((flag) => flag.valueName !== undefined);
  if (takingValue.length > 0)
    valued.push(
      caseArm(
        takingValue.flatMap((flag) => flag.names.map((name) => flagPattern(path, name))),
        'return 0',
      ),
    );
  for (const flag of takingValue) {
    const statement = offer(flag.values);
    if (statement)
      values.push(
        caseArm(
          flag.names.map((name) => flagPattern(path, name)),
          statement,
        ),
      );
  }
}

/** The case tables bash and zsh share: which flags take values, and the candidates for values and arguments. */
export function caseFunctions(valued: string[], values: string[], args: string[]): string {
  return `# Succeeds when flag $2 of command path $1 takes a value.
_credits_valued() {
  case "$1|$2" in
${valued.join('\n')}
  esac
  return 1
}

# Candidates for the value of flag $2 of command path $1.
_credits_value() {
  case "$1|$2" in
${values.join('\n')}
  esac
}

# Candidates for positional argument number $2 (from 0) of command path $1.
_credits_argument() {
  case "$1|$2" in
${args.join('\n')}
  esac
}
`;
}

/** bash: one function, `complete -F _credits credits`; data as case statements keyed by command path. */
export function bashScript(tree: CompletionTree): string {
  const subs: string[] = [];
  const flags: string[] = [];
  const valued: string[] = [];
  const values: string[] = [];
  const args: string[] = [];
  const names = (list: FlagInfo[]): string => singleQuoted(list.flatMap((flag) => flag.names.map((name) => plainWord(name, 'flag'))).join(' '));
  const addValueArms = (list: FlagInfo[], path: string | null): void => valueArms(list, path, offer, valued, values);
  for (const node of tree.nodes) {
    const path = node.path;
    if (node.subcommands.length > 0)
      subs.push(caseArm([singleQuoted(path)], `echo ${singleQuoted(node.subcommands.map((sub) => plainWord(sub.name, 'command')).join(' '))}`));
    if (node.flags.length > 0) flags.push(caseArm([singleQuoted(path)], `echo ${names(node.flags)}`));
    addValueArms(node.flags, path);
    node.arguments.forEach((argument, position) => {
      const statement = offer(argument.values);
      if (statement) args.push(caseArm([singleQuoted(`${path}|${position}`)], statement));
    });
  }
  // Global flags last: case takes the first match, so a command that redefines a name wins.
  addValueArms(tree.globalFlags, null);
  return `# bash completion for credits
# Generated from the command registry (src/app/registry.ts) by \`npm run generate\`; do not edit.
# Install: source this file from ~/.bashrc, or copy it to
# ~/.local/share/bash-completion/completions/credits (see README, "Shell completion").

# Subcommands of a command path.
_credits_subs() {
  case $1 in
${subs.join('\n')}
  esac
}

# Every flag a command path takes: its own, then the global ones.
_credits_flags() {
  case $1 in
${flags.join('\n')}
  esac
  echo ${names(tree.globalFlags)}
}

${caseFunctions(valued, values, args)}
_credits_words() {
  local IFS=$' \\t\\n'
  COMPREPLY+=($(compgen -W "$1" -- "$cur"))
}

_credits_paths() {
  local IFS=$'\\n'
  compopt -o filenames 2>/dev/null
  if [[ $1 == directories ]]; then COMPREPLY+=($(compgen -d -- "$cur")); else COMPREPLY+=($(compgen -f -- "$cur")); fi
}

# Names from the ledger, read by \`credits __complete KIND\` with the --db or --server on the line.
_credits_dynamic() {
  local -a ledger=()
  local i value name typed=\${cur//\\\\/}
  for ((i = 1; i < \${#COMP_WORDS[@]}; i++)); do
    case \${COMP_WORDS[i]} in
      --db | --server)
        value=\${COMP_WORDS[i + 1]}
        [[ $value == = ]] && value=\${COMP_WORDS[i + 2]}
        ledger+=("\${COMP_WORDS[i]}" "\${value/#\\~/$HOME}")
        ;;
      --db=* | --server=*) ledger+=("\${COMP_WORDS[i]}") ;;
    esac
  done
  while IFS= read -r name; do
    [[ -n $name && $name == "$typed"* ]] && COMPREPLY+=("$(printf '%q' "$name")")
  done < <(command "\${COMP_WORDS[0]}" __complete "$1" "\${ledger[@]}" 2>/dev/null)
}

_credits() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmd_path='' word valued_flag='' value_at i positional=0
  COMPREPLY=()
  # Walk the words before the cursor: subcommands extend the path, flags (and their values) are
  # skipped, anything else is a positional argument. bash splits --flag=value at the '='.
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    if [[ $word == -?* ]]; then
      if [[ $word != *=* ]] && _credits_valued "$cmd_path" "$word"; then
        value_at=$((i + 1))
        [[ \${COMP_WORDS[value_at]} == = ]] && value_at=$((value_at + 1))
        if ((value_at >= COMP_CWORD)); then
          valued_flag=$word
          [[ $cur == = ]] && cur=''
          break
        fi
        i=$value_at
      fi
      continue
    fi
    if ((positional == 0)) && [[ " $(_credits_subs "$cmd_path") " == *" $word "* ]]; then
      cmd_path=\${cmd_path:+$cmd_path }$word
    else
      positional=$((positional + 1))
    fi
  done
  if [[ -z $valued_flag && $cur == --*=* ]] && _credits_valued "$cmd_path" "\${cur%%=*}"; then
    valued_flag=\${cur%%=*}
    cur=\${cur#*=}
  fi
  if [[ -n $valued_flag ]]; then
    _credits_value "$cmd_path" "$valued_flag"
    return 0
  fi
  if [[ $cur == -* ]]; then
    _credits_words "$(_credits_flags "$cmd_path")"
    return 0
  fi
  if ((positional == 0)); then _credits_words "$(_credits_subs "$cmd_path")"; fi
  _credits_argument "$cmd_path" "$positional"
  return 0
}

complete -F _credits credits
`;
}
