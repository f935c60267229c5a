import type { CompletionTree, FlagInfo, ValueSource } from './tree.js';
import { caseArm, caseFunctions, valueArms } from './bash.js';
import { oneLine, plainWord, singleQuoted } from './shellQuote.js';

function offer(values: ValueSource): string | undefined {
  if (values.choices) return `compadd -- ${values.choices.map((choice) => plainWord(choice, 'choice')).join(' ')}`;
  if (values.dynamic) return `_credits_dynamic ${values.dynamic}`;
  if (values.paths) return values.paths === 'directories' ? '_files -/' : '_files';
  return undefined;
}

/** `name:description` words for _describe; a colon in the name would end it early. */
function described(list: FlagInfo[]): string {
  return list.flatMap((flag) => flag.names.map((name) => singleQuoted(`${plainWord(name, 'flag')}:${oneLine(flag.description)}`))).join(' ');
}

/** zsh: a #compdef function (file name _credits on $fpath); the same walk as bash, with descriptions. */
export function zshScript(tree: CompletionTree): string {
  const subs: string[] = [];
  const flags: string[] = [];
  const valued: string[] = [];
  const values: string[] = [];
  const args: string[] = [];
  const addValueArms = (list: FlagInfo[], path: string | null): void => valueArms(list, path, offer, valued, values);
  for (const node of tree.nodes) {
    const path = node.path;
    if (node.subcommands.length > 0) {
      const words = node.subcommands.map((sub) => singleQuoted(`${plainWord(sub.name, 'command')}:${oneLine(sub.summary)}`));
      subs.push(caseArm([singleQuoted(path)], `reply=(${words.join(' ')})`));
    }
    if (node.flags.length > 0) flags.push(caseArm([singleQuoted(path)], `reply=(${described(node.flags)})`));
    addValueArms(node.flags, path);
    node.arguments.forEach((argument, position) => {
      const statement = offer(argument.values);
      if (statement) args.push(caseArm([singleQuoted(`${path}|${position}`)], statement));
    });
  }
  // Global flags last: case takes the first match, so a command that redefines a name wins.
  addValueArms(tree.globalFlags, null);
  return `#compdef credits
# zsh completion for credits
# Generated from the command registry (src/app/registry.ts) by \`npm run generate\`; do not edit.
# Install: put this file, named _credits, in a folder on $fpath before compinit runs
# (see README, "Shell completion").

# Subcommands of a command path, as name:description in $reply.
_credits_subs() {
  reply=()
  case $1 in
${subs.join('\n')}
  esac
}

# Every flag a command path takes (its own, then the global ones), as flag:description in $reply.
_credits_flags() {
  reply=()
  case $1 in
${flags.join('\n')}
  esac
  reply+=(${described(tree.globalFlags)})
}

${caseFunctions(valued, values, args)}
# Names from the ledger, read by \`credits __complete KIND\` with the --db or --server on the line.
_credits_dynamic() {
  local -a ledger names
  local i
  for (( i = 2; i <= $#words; i++ )); do
    case $words[i] in
      --db|--server) ledger+=("$words[i]" "\${words[i+1]/#\\~/$HOME}") ;;
      --db=*|--server=*) ledger+=("$words[i]") ;;
    esac
  done
  names=("\${(@f)$(command $words[1] __complete $1 "\${ledger[@]}" 2>/dev/null)}")
  names=("\${(@)names:#}")
  (( $#names )) && compadd -a names
}

_credits() {
  # Not \`path\`: in zsh that is the array tied to $PATH.
  local cur=$words[CURRENT] cmd_path='' word valued_flag='' i positional=0
  local -a reply sub_names
  for (( i = 2; i < CURRENT; i++ )); do
    word=$words[i]
    if [[ $word == -?* ]]; then
      if [[ $word != *=* ]] && _credits_valued "$cmd_path" "$word"; then
        if (( i + 1 >= CURRENT )); then
          valued_flag=$word
          break
        fi
        (( i++ ))
      fi
      continue
    fi
    _credits_subs "$cmd_path"
    sub_names=("\${(@)reply%%:*}")
    if (( positional == 0 )) && (( \${sub_names[(Ie)$word]} )); then
      cmd_path=\${cmd_path:+$cmd_path }$word
    else
      (( positional++ ))
    fi
  done
  if [[ -z $valued_flag && $cur == --*=* ]] && _credits_valued "$cmd_path" "\${cur%%=*}"; then
    valued_flag=\${cur%%=*}
    compset -P '*='
  fi
  if [[ -n $valued_flag ]]; then
    _credits_value "$cmd_path" "$valued_flag"
    return 0
  fi
  if [[ $cur == -* ]]; then
    _credits_flags "$cmd_path"
    _describe -t options 'credits flag' reply
    return 0
  fi
  if (( positional == 0 )); then
    _credits_subs "$cmd_path"
    (( $#reply )) && _describe -t commands 'credits command' reply
  fi
  _credits_argument "$cmd_path" "$positional"
  return 0
}

_credits "$@"
`;
}
