# bash completion for credits
# Generated from the command registry (src/app/registry.ts) by `npm run generate`; do not edit.
# Install: source this file from ~/.bashrc, or copy it to
# ~/.local/share/bash-completion/completions/credits (see README, "Shell completion").

# Subcommands of a command path.
_credits_subs() {
  case $1 in
    '') echo 'init org dept user provider packages buy purchases transfer balance history audit verify checkpoint usage adjust rates limits check report forecast anomalies dashboard watch statement invoice notify recharge token serve login logout completion' ;;
    'org') echo 'show set' ;;
    'dept') echo 'add set list show' ;;
    'user') echo 'add list move' ;;
    'provider') echo 'set' ;;
    'purchases') echo 'settle cancel' ;;
    'usage') echo 'record import hold release list show reverse' ;;
    'rates') echo 'set' ;;
    'limits') echo 'set remove' ;;
    'invoice') echo 'cancel show list' ;;
    'notify') echo 'levels channel channels test run' ;;
    'notify levels') echo 'show set' ;;
    'notify channel') echo 'add secret rotate remove' ;;
    'recharge') echo 'set schedule off run' ;;
    'recharge schedule') echo 'remove' ;;
    'token') echo 'create list revoke' ;;
  esac
}

# Every flag a command path takes: its own, then the global ones.
_credits_flags() {
  case $1 in
    '') echo '-V --version' ;;
    'init') echo '--org --timezone --demo' ;;
    'org set') echo '--name --address --vat-id --country --leitweg-id --vat-rate --timezone --invoice-prefix --smtp-url --datev-consultant-number --datev-client-number --datev-account-length --datev-expense-account --datev-clearing-account --datev-creditor-account --datev-fiscal-year-start --sepa-mandate --sepa-iban --dry-run --idempotency-key' ;;
    'dept add') echo '--cost-center --dry-run --idempotency-key' ;;
    'dept set') echo '--cost-center --overdraft-from --overdraft-max --dry-run --idempotency-key' ;;
    'user add') echo '--dept --dry-run --idempotency-key' ;;
    'user list') echo '--dept' ;;
    'user move') echo '--dept --dry-run --idempotency-key' ;;
    'provider set') echo '--name --address --vat-id --tax-number --iban --bic --bank-name --email --creditor-id --payment-days --vat-rate --dry-run --idempotency-key' ;;
    'buy') echo '--method --for --quantity --credits --discount --dry-run --idempotency-key' ;;
    'purchases') echo '--status' ;;
    'purchases settle') echo '--dry-run --idempotency-key' ;;
    'purchases cancel') echo '--dry-run --idempotency-key' ;;
    'transfer') echo '--from --to --reason --dry-run --idempotency-key' ;;
    'balance') echo '--as-of' ;;
    'history') echo '--dept --user --model --kind --since --until --limit --before' ;;
    'audit') echo '--since --limit' ;;
    'verify') echo '--since-checkpoint' ;;
    'checkpoint') echo '--init-key' ;;
    'usage record') echo '--user --model --input-tokens --output-tokens --tool-calls --feature --images --image-size --db-access --event-id --at --tag --hold --allow-over --dry-run --idempotency-key' ;;
    'usage import') echo '--format --delimiter --dry-run --idempotency-key' ;;
    'usage hold') echo '--user --model --max-credits --expires --feature --event-id --dry-run --idempotency-key' ;;
    'usage release') echo '--dry-run --idempotency-key' ;;
    'usage list') echo '--user --dept --model --feature --since --until --limit --after --format --output' ;;
    'adjust') echo '--reason --dry-run --idempotency-key' ;;
    'usage reverse') echo '--import-id --reason --dry-run --idempotency-key' ;;
    'rates') echo '--at' ;;
    'rates set') echo '--tier --input --output --tool-call --name --effective --dry-run --idempotency-key' ;;
    'limits set') echo '--user --dept --org --model --tier --daily --monthly --soft --dry-run --idempotency-key' ;;
    'limits remove') echo '--dry-run --idempotency-key' ;;
    'check') echo '--dept --user --org --min-credits --min-percent --min-days' ;;
    'report') echo '--by --month --since --until --dept --format --output' ;;
    'forecast') echo '--dept --org' ;;
    'anomalies') echo '--since' ;;
    'watch') echo '--interval' ;;
    'statement') echo '--month --dept --format --output' ;;
    'invoice') echo '--output --format --buyer --buyer-address --buyer-vat-id --dry-run --idempotency-key' ;;
    'invoice cancel') echo '--reason --output --format --dry-run --idempotency-key' ;;
    'invoice show') echo '--output --format' ;;
    'notify levels set') echo '--dry-run --idempotency-key' ;;
    'notify channel add') echo '--secret --dry-run --idempotency-key' ;;
    'notify channel rotate') echo '--dry-run --idempotency-key' ;;
    'notify channel remove') echo '--dry-run --idempotency-key' ;;
    'notify test') echo '--timeout' ;;
    'notify run') echo '--lease --timeout --reports-dir' ;;
    'recharge set') echo '--threshold --package --target --custom-discount --method --monthly-cap --for --dry-run --idempotency-key' ;;
    'recharge schedule') echo '--monthly-on --package --method --for --dry-run --idempotency-key' ;;
    'recharge schedule remove') echo '--dry-run --idempotency-key' ;;
    'recharge off') echo '--for --dry-run --idempotency-key' ;;
    'token create') echo '--role --dept --expires --name --dry-run --idempotency-key' ;;
    'token revoke') echo '--dry-run --idempotency-key' ;;
    'serve') echo '--listen --body-limit --token-cache --grace --log-level --advertise-url --lease --replica-db --allow-command-channels' ;;
    'login') echo '--token' ;;
  esac
  echo '--db --json -y --yes --actor -q --quiet --no-color --no-pager --server -h --help'
}

# Succeeds when flag $2 of command path $1 takes a value.
_credits_valued() {
  case "$1|$2" in
    'init|--org'|'init|--timezone') return 0 ;;
    'org set|--name'|'org set|--address'|'org set|--vat-id'|'org set|--country'|'org set|--leitweg-id'|'org set|--vat-rate'|'org set|--timezone'|'org set|--invoice-prefix'|'org set|--smtp-url'|'org set|--datev-consultant-number'|'org set|--datev-client-number'|'org set|--datev-account-length'|'org set|--datev-expense-account'|'org set|--datev-clearing-account'|'org set|--datev-creditor-account'|'org set|--datev-fiscal-year-start'|'org set|--sepa-mandate'|'org set|--sepa-iban'|'org set|--idempotency-key') return 0 ;;
    'dept add|--cost-center'|'dept add|--idempotency-key') return 0 ;;
    'dept set|--cost-center'|'dept set|--overdraft-from'|'dept set|--overdraft-max'|'dept set|--idempotency-key') return 0 ;;
    'user add|--dept'|'user add|--idempotency-key') return 0 ;;
    'user list|--dept') return 0 ;;
    'user move|--dept'|'user move|--idempotency-key') return 0 ;;
    'provider set|--name'|'provider set|--address'|'provider set|--vat-id'|'provider set|--tax-number'|'provider set|--iban'|'provider set|--bic'|'provider set|--bank-name'|'provider set|--email'|'provider set|--creditor-id'|'provider set|--payment-days'|'provider set|--vat-rate'|'provider set|--idempotency-key') return 0 ;;
    'buy|--method'|'buy|--for'|'buy|--quantity'|'buy|--credits'|'buy|--discount'|'buy|--idempotency-key') return 0 ;;
    'purchases|--status') return 0 ;;
    'purchases settle|--idempotency-key') return 0 ;;
    'purchases cancel|--idempotency-key') return 0 ;;
    'transfer|--from'|'transfer|--to'|'transfer|--reason'|'transfer|--idempotency-key') return 0 ;;
    'balance|--as-of') return 0 ;;
    'history|--dept'|'history|--user'|'history|--model'|'history|--kind'|'history|--since'|'history|--until'|'history|--limit'|'history|--before') return 0 ;;
    'audit|--since'|'audit|--limit') return 0 ;;
    'verify|--since-checkpoint') return 0 ;;
    'usage record|--user'|'usage record|--model'|'usage record|--input-tokens'|'usage record|--output-tokens'|'usage record|--tool-calls'|'usage record|--feature'|'usage record|--images'|'usage record|--image-size'|'usage record|--event-id'|'usage record|--at'|'usage record|--tag'|'usage record|--hold'|'usage record|--idempotency-key') return 0 ;;
    'usage import|--format'|'usage import|--delimiter'|'usage import|--idempotency-key') return 0 ;;
    'usage hold|--user'|'usage hold|--model'|'usage hold|--max-credits'|'usage hold|--expires'|'usage hold|--feature'|'usage hold|--event-id'|'usage hold|--idempotency-key') return 0 ;;
    'usage release|--idempotency-key') return 0 ;;
    'usage list|--user'|'usage list|--dept'|'usage list|--model'|'usage list|--feature'|'usage list|--since'|'usage list|--until'|'usage list|--limit'|'usage list|--after'|'usage list|--format'|'usage list|--output') return 0 ;;
    'adjust|--reason'|'adjust|--idempotency-key') return 0 ;;
    'usage reverse|--import-id'|'usage reverse|--reason'|'usage reverse|--idempotency-key') return 0 ;;
    'rates|--at') return 0 ;;
    'rates set|--tier'|'rates set|--input'|'rates set|--output'|'rates set|--tool-call'|'rates set|--name'|'rates set|--effective'|'rates set|--idempotency-key') return 0 ;;
    'limits set|--user'|'limits set|--dept'|'limits set|--model'|'limits set|--tier'|'limits set|--daily'|'limits set|--monthly'|'limits set|--idempotency-key') return 0 ;;
    'limits remove|--idempotency-key') return 0 ;;
    'check|--dept'|'check|--user'|'check|--min-credits'|'check|--min-percent'|'check|--min-days') return 0 ;;
    'report|--by'|'report|--month'|'report|--since'|'report|--until'|'report|--dept'|'report|--format'|'report|--output') return 0 ;;
    'forecast|--dept') return 0 ;;
    'anomalies|--since') return 0 ;;
    'watch|--interval') return 0 ;;
    'statement|--month'|'statement|--dept'|'statement|--format'|'statement|--output') return 0 ;;
    'invoice|--output'|'invoice|--format'|'invoice|--buyer'|'invoice|--buyer-address'|'invoice|--buyer-vat-id'|'invoice|--idempotency-key') return 0 ;;
    'invoice cancel|--reason'|'invoice cancel|--output'|'invoice cancel|--format'|'invoice cancel|--idempotency-key') return 0 ;;
    'invoice show|--output'|'invoice show|--format') return 0 ;;
    'notify levels set|--idempotency-key') return 0 ;;
    'notify channel add|--secret'|'notify channel add|--idempotency-key') return 0 ;;
    'notify channel rotate|--idempotency-key') return 0 ;;
    'notify channel remove|--idempotency-key') return 0 ;;
    'notify test|--timeout') return 0 ;;
    'notify run|--lease'|'notify run|--timeout'|'notify run|--reports-dir') return 0 ;;
    'recharge set|--threshold'|'recharge set|--package'|'recharge set|--target'|'recharge set|--custom-discount'|'recharge set|--method'|'recharge set|--monthly-cap'|'recharge set|--for'|'recharge set|--idempotency-key') return 0 ;;
    'recharge schedule|--monthly-on'|'recharge schedule|--package'|'recharge schedule|--method'|'recharge schedule|--for'|'recharge schedule|--idempotency-key') return 0 ;;
    'recharge schedule remove|--idempotency-key') return 0 ;;
    'recharge off|--for'|'recharge off|--idempotency-key') return 0 ;;
    'token create|--role'|'token create|--dept'|'token create|--expires'|'token create|--name'|'token create|--idempotency-key') return 0 ;;
    'token revoke|--idempotency-key') return 0 ;;
    'serve|--listen'|'serve|--body-limit'|'serve|--token-cache'|'serve|--grace'|'serve|--log-level'|'serve|--advertise-url'|'serve|--lease'|'serve|--replica-db') return 0 ;;
    'login|--token') return 0 ;;
    *'|--db'|*'|--actor'|*'|--server') return 0 ;;
  esac
  return 1
}

# Candidates for the value of flag $2 of command path $1.
_credits_value() {
  case "$1|$2" in
    'dept set|--overdraft-from') _credits_words 'org none' ;;
    'user add|--dept') _credits_dynamic departments ;;
    'user list|--dept') _credits_dynamic departments ;;
    'user move|--dept') _credits_dynamic departments ;;
    'buy|--method') _credits_words 'card paypal sepa invoice' ;;
    'buy|--for') _credits_dynamic accounts ;;
    'purchases|--status') _credits_words 'pending settled cancelled' ;;
    'transfer|--from') _credits_dynamic accounts ;;
    'transfer|--to') _credits_dynamic accounts ;;
    'history|--dept') _credits_dynamic accounts ;;
    'history|--user') _credits_dynamic users ;;
    'history|--model') _credits_dynamic models ;;
    'history|--kind') _credits_words 'transfer buy usage recharge reversal adjustment purchase allocation' ;;
    'verify|--since-checkpoint') _credits_paths files ;;
    'usage record|--user') _credits_dynamic users ;;
    'usage record|--model') _credits_dynamic models ;;
    'usage record|--feature') _credits_words 'chat summarize translate analyze image workflow' ;;
    'usage record|--image-size') _credits_words 'standard hd' ;;
    'usage import|--format') _credits_words 'jsonl csv' ;;
    'usage hold|--user') _credits_dynamic users ;;
    'usage hold|--model') _credits_dynamic models ;;
    'usage hold|--feature') _credits_words 'chat summarize translate analyze image workflow' ;;
    'usage list|--user') _credits_dynamic users ;;
    'usage list|--dept') _credits_dynamic departments ;;
    'usage list|--model') _credits_dynamic models ;;
    'usage list|--feature') _credits_words 'chat summarize translate analyze image workflow' ;;
    'usage list|--format') _credits_words 'table csv json' ;;
    'usage list|--output') _credits_paths files ;;
    'rates set|--tier') _credits_words 'premium standard economy' ;;
    'limits set|--user') _credits_dynamic users ;;
    'limits set|--dept') _credits_dynamic departments ;;
    'limits set|--model') _credits_dynamic models ;;
    'limits set|--tier') _credits_words 'premium standard economy' ;;
    'check|--dept') _credits_dynamic departments ;;
    'check|--user') _credits_dynamic users ;;
    'report|--by') _credits_words 'user dept model feature day' ;;
    'report|--dept') _credits_dynamic departments ;;
    'report|--format') _credits_words 'table json csv' ;;
    'report|--output') _credits_paths files ;;
    'forecast|--dept') _credits_dynamic departments ;;
    'statement|--dept') _credits_dynamic departments ;;
    'statement|--format') _credits_words 'pdf csv json datev' ;;
    'statement|--output') _credits_paths files ;;
    'invoice|--output') _credits_paths files ;;
    'invoice|--format') _credits_words 'pdf csv xrechnung zugferd' ;;
    'invoice cancel|--output') _credits_paths files ;;
    'invoice cancel|--format') _credits_words 'pdf csv' ;;
    'invoice show|--output') _credits_paths files ;;
    'invoice show|--format') _credits_words 'pdf csv' ;;
    'notify run|--reports-dir') _credits_paths directories ;;
    'recharge set|--package') _credits_words 'basic standard professional team enterprise' ;;
    'recharge set|--method') _credits_words 'card paypal sepa' ;;
    'recharge set|--for') _credits_dynamic accounts ;;
    'recharge schedule|--package') _credits_words 'basic standard professional team enterprise' ;;
    'recharge schedule|--method') _credits_words 'card paypal sepa' ;;
    'recharge schedule|--for') _credits_dynamic accounts ;;
    'recharge off|--for') _credits_dynamic accounts ;;
    'token create|--role') _credits_words 'admin operator usage-writer reader ci' ;;
    'token create|--dept') _credits_dynamic departments ;;
    'serve|--log-level') _credits_words 'fatal error warn info debug silent' ;;
    *'|--db') _credits_paths files ;;
  esac
}

# Candidates for positional argument number $2 (from 0) of command path $1.
_credits_argument() {
  case "$1|$2" in
    'dept set|0') _credits_dynamic departments ;;
    'dept show|0') _credits_dynamic departments ;;
    'user move|0') _credits_dynamic users ;;
    'buy|0') _credits_words 'basic standard professional team enterprise custom' ;;
    'purchases settle|0') _credits_dynamic purchases ;;
    'purchases cancel|0') _credits_dynamic purchases ;;
    'balance|0') _credits_dynamic accounts ;;
    'usage import|0') _credits_paths files ;;
    'adjust|0') _credits_dynamic accounts ;;
    'rates set|0') _credits_dynamic models ;;
    'invoice|0') _credits_dynamic purchases ;;
    'notify channel add|0') _credits_words 'webhook email command' ;;
    'completion|0') _credits_words 'bash zsh fish' ;;
  esac
}

_credits_words() {
  local IFS=$' \t\n'
  COMPREPLY+=($(compgen -W "$1" -- "$cur"))
}

_credits_paths() {
  local IFS=$'\n'
  compopt -o filenames 2>/dev/null
  if [[ $1 == directories ]]; then COMPREPLY+=($(compgen -d -- "$cur")); else COMPREPLY+=($(compgen -f -- "$cur")); fi
}

# Names from the ledger, read by `credits __complete KIND` with the --db or --server on the line.
_credits_dynamic() {
  local -a ledger=()
  local i value name typed=${cur//\\/}
  for ((i = 1; i < ${#COMP_WORDS[@]}; i++)); do
    case ${COMP_WORDS[i]} in
      --db | --server)
        value=${COMP_WORDS[i + 1]}
        [[ $value == = ]] && value=${COMP_WORDS[i + 2]}
        ledger+=("${COMP_WORDS[i]}" "${value/#\~/$HOME}")
        ;;
      --db=* | --server=*) ledger+=("${COMP_WORDS[i]}") ;;
    esac
  done
  while IFS= read -r name; do
    [[ -n $name && $name == "$typed"* ]] && COMPREPLY+=("$(printf '%q' "$name")")
  done < <(command "${COMP_WORDS[0]}" __complete "$1" "${ledger[@]}" 2>/dev/null)
}

_credits() {
  local cur=${COMP_WORDS[COMP_CWORD]} cmd_path='' word valued_flag='' value_at i positional=0
  COMPREPLY=()
  # Walk the words before the cursor: subcommands extend the path, flags (and their values) are
  # skipped, anything else is a positional argument. bash splits --flag=value at the '='.
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=${COMP_WORDS[i]}
    if [[ $word == -?* ]]; then
      if [[ $word != *=* ]] && _credits_valued "$cmd_path" "$word"; then
        value_at=$((i + 1))
        [[ ${COMP_WORDS[value_at]} == = ]] && value_at=$((value_at + 1))
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
      cmd_path=${cmd_path:+$cmd_path }$word
    else
      positional=$((positional + 1))
    fi
  done
  if [[ -z $valued_flag && $cur == --*=* ]] && _credits_valued "$cmd_path" "${cur%%=*}"; then
    valued_flag=${cur%%=*}
    cur=${cur#*=}
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
