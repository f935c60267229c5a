# fish completion for credits
# Generated from the command registry (src/app/registry.ts) by `npm run generate`; do not edit.
# Install: copy to ~/.config/fish/completions/credits.fish (see README, "Shell completion").

# Subcommands of a command path, one per line.
function __credits_subs --argument-names cmd_path
    switch "$cmd_path"
        case ''
            printf '%s\n' init org dept user provider packages buy purchases transfer balance history audit verify checkpoint usage adjust rates limits check report forecast anomalies dashboard watch statement invoice notify recharge token serve login logout completion
        case 'org'
            printf '%s\n' show set
        case 'dept'
            printf '%s\n' add set list show
        case 'user'
            printf '%s\n' add list move
        case 'provider'
            printf '%s\n' set
        case 'purchases'
            printf '%s\n' settle cancel
        case 'usage'
            printf '%s\n' record import hold release list show reverse
        case 'rates'
            printf '%s\n' set
        case 'limits'
            printf '%s\n' set remove
        case 'invoice'
            printf '%s\n' cancel show list
        case 'notify'
            printf '%s\n' levels channel channels test run
        case 'notify levels'
            printf '%s\n' show set
        case 'notify channel'
            printf '%s\n' add secret rotate remove
        case 'recharge'
            printf '%s\n' set schedule off run
        case 'recharge schedule'
            printf '%s\n' remove
        case 'token'
            printf '%s\n' create list revoke
    end
end

# Succeeds when flag $flag of command path $cmd_path takes a value.
function __credits_valued --argument-names cmd_path flag
    switch "$cmd_path|$flag"
        case 'init|--org' 'init|--timezone'
            return 0
        case 'org set|--name' 'org set|--address' 'org set|--vat-id' 'org set|--country' 'org set|--leitweg-id' 'org set|--vat-rate' 'org set|--timezone' 'org set|--invoice-prefix' 'org set|--smtp-url' 'org set|--datev-consultant-number' 'org set|--datev-client-number' 'org set|--datev-account-length' 'org set|--datev-expense-account' 'org set|--datev-clearing-account' 'org set|--datev-creditor-account' 'org set|--datev-fiscal-year-start' 'org set|--sepa-mandate' 'org set|--sepa-iban' 'org set|--idempotency-key'
            return 0
        case 'dept add|--cost-center' 'dept add|--idempotency-key'
            return 0
        case 'dept set|--cost-center' 'dept set|--overdraft-from' 'dept set|--overdraft-max' 'dept set|--idempotency-key'
            return 0
        case 'user add|--dept' 'user add|--idempotency-key'
            return 0
        case 'user list|--dept'
            return 0
        case 'user move|--dept' 'user move|--idempotency-key'
            return 0
        case 'provider set|--name' 'provider set|--address' 'provider set|--vat-id' 'provider set|--tax-number' 'provider set|--iban' 'provider set|--bic' 'provider set|--bank-name' 'provider set|--email' 'provider set|--creditor-id' 'provider set|--payment-days' 'provider set|--vat-rate' 'provider set|--idempotency-key'
            return 0
        case 'buy|--method' 'buy|--for' 'buy|--quantity' 'buy|--credits' 'buy|--discount' 'buy|--idempotency-key'
            return 0
        case 'purchases|--status'
            return 0
        case 'purchases settle|--idempotency-key'
            return 0
        case 'purchases cancel|--idempotency-key'
            return 0
        case 'transfer|--from' 'transfer|--to' 'transfer|--reason' 'transfer|--idempotency-key'
            return 0
        case 'balance|--as-of'
            return 0
        case 'history|--dept' 'history|--user' 'history|--model' 'history|--kind' 'history|--since' 'history|--until' 'history|--limit' 'history|--before'
            return 0
        case 'audit|--since' 'audit|--limit'
            return 0
        case 'verify|--since-checkpoint'
            return 0
        case 'usage record|--user' 'usage record|--model' 'usage record|--input-tokens' 'usage record|--output-tokens' 'usage record|--tool-calls' 'usage record|--feature' 'usage record|--images' 'usage record|--image-size' 'usage record|--event-id' 'usage record|--at' 'usage record|--tag' 'usage record|--hold' 'usage record|--idempotency-key'
            return 0
        case 'usage import|--format' 'usage import|--delimiter' 'usage import|--idempotency-key'
            return 0
        case 'usage hold|--user' 'usage hold|--model' 'usage hold|--max-credits' 'usage hold|--expires' 'usage hold|--feature' 'usage hold|--event-id' 'usage hold|--idempotency-key'
            return 0
        case 'usage release|--idempotency-key'
            return 0
        case 'usage list|--user' 'usage list|--dept' 'usage list|--model' 'usage list|--feature' 'usage list|--since' 'usage list|--until' 'usage list|--limit' 'usage list|--after' 'usage list|--format' 'usage list|--output'
            return 0
        case 'adjust|--reason' 'adjust|--idempotency-key'
            return 0
        case 'usage reverse|--import-id' 'usage reverse|--reason' 'usage reverse|--idempotency-key'
            return 0
        case 'rates|--at'
            return 0
        case 'rates set|--tier' 'rates set|--input' 'rates set|--output' 'rates set|--tool-call' 'rates set|--name' 'rates set|--effective' 'rates set|--idempotency-key'
            return 0
        case 'limits set|--user' 'limits set|--dept' 'limits set|--model' 'limits set|--tier' 'limits set|--daily' 'limits set|--monthly' 'limits set|--idempotency-key'
            return 0
        case 'limits remove|--idempotency-key'
            return 0
        case 'check|--dept' 'check|--user' 'check|--min-credits' 'check|--min-percent' 'check|--min-days'
            return 0
        case 'report|--by' 'report|--month' 'report|--since' 'report|--until' 'report|--dept' 'report|--format' 'report|--output'
            return 0
        case 'forecast|--dept'
            return 0
        case 'anomalies|--since'
            return 0
        case 'watch|--interval'
            return 0
        case 'statement|--month' 'statement|--dept' 'statement|--format' 'statement|--output'
            return 0
        case 'invoice|--output' 'invoice|--format' 'invoice|--buyer' 'invoice|--buyer-address' 'invoice|--buyer-vat-id' 'invoice|--idempotency-key'
            return 0
        case 'invoice cancel|--reason' 'invoice cancel|--output' 'invoice cancel|--format' 'invoice cancel|--idempotency-key'
            return 0
        case 'invoice show|--output' 'invoice show|--format'
            return 0
        case 'notify levels set|--idempotency-key'
            return 0
        case 'notify channel add|--secret' 'notify channel add|--idempotency-key'
            return 0
        case 'notify channel rotate|--idempotency-key'
            return 0
        case 'notify channel remove|--idempotency-key'
            return 0
        case 'notify test|--timeout'
            return 0
        case 'notify run|--lease' 'notify run|--timeout' 'notify run|--reports-dir'
            return 0
        case 'recharge set|--threshold' 'recharge set|--package' 'recharge set|--target' 'recharge set|--custom-discount' 'recharge set|--method' 'recharge set|--monthly-cap' 'recharge set|--for' 'recharge set|--idempotency-key'
            return 0
        case 'recharge schedule|--monthly-on' 'recharge schedule|--package' 'recharge schedule|--method' 'recharge schedule|--for' 'recharge schedule|--idempotency-key'
            return 0
        case 'recharge schedule remove|--idempotency-key'
            return 0
        case 'recharge off|--for' 'recharge off|--idempotency-key'
            return 0
        case 'token create|--role' 'token create|--dept' 'token create|--expires' 'token create|--name' 'token create|--idempotency-key'
            return 0
        case 'token revoke|--idempotency-key'
            return 0
        case 'serve|--listen' 'serve|--body-limit' 'serve|--token-cache' 'serve|--grace' 'serve|--log-level' 'serve|--advertise-url' 'serve|--lease' 'serve|--replica-db'
            return 0
        case 'login|--token'
            return 0
    end
    contains -- $flag --db --actor --server
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

# Names from the ledger, read by `credits __complete KIND` with the --db or --server on the line.
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
complete -c credits -l db -r -F -d 'ledger file or libsql://, http(s)://, ws(s):// URL (env CREDITS_DB; default: ~/.local/share/credits…'
complete -c credits -l json -d 'print one JSON document on stdout; errors as JSON on stderr'
complete -c credits -s y -l yes -d 'never prompt; answer yes to confirmations'
complete -c credits -l actor -x -d 'who is acting, for the audit log (env CREDITS_ACTOR; default: OS user)'
complete -c credits -s q -l quiet -d 'print nothing on success'
complete -c credits -l no-color -d 'no colour (also NO_COLOR)'
complete -c credits -l no-pager -d 'never page long output on a terminal (default pager: $PAGER, else less -FRX)'
complete -c credits -l server -x -d 'run every command through a `credits serve` API (env CREDITS_SERVER; token in CREDITS_TOKEN; else `…'
complete -c credits -s h -l help -d 'show the help of this command'

# credits: subcommands
complete -c credits -n '__credits_at 0 \'\'' -a init -d 'create a ledger (at --db, CREDITS_DB or ~/.local/share/credits/ledger.db)'
complete -c credits -n '__credits_at 0 \'\'' -a org -d 'organisation details'
complete -c credits -n '__credits_at 0 \'\'' -a dept -d 'departments (cost centres)'
complete -c credits -n '__credits_at 0 \'\'' -a user -d 'users and their departments'
complete -c credits -n '__credits_at 0 \'\'' -a provider -d 'show the provider: who sells the credits, the seller on every invoice'
complete -c credits -n '__credits_at 0 \'\'' -a packages -d 'the credit package catalogue with prices and volume discounts'
complete -c credits -n '__credits_at 0 \'\'' -a buy -d 'buy a credit package; card and PayPal credit at once, SEPA and invoice when settled'
complete -c credits -n '__credits_at 0 \'\'' -a purchases -d 'list purchases; pending SEPA and invoice purchases wait for settle or cancel'
complete -c credits -n '__credits_at 0 \'\'' -a transfer -d 'move credits between the org pool and departments'
complete -c credits -n '__credits_at 0 \'\'' -a balance -d 'credits left in the org pool and each department, with the percentage left of this month\'s credits…'
complete -c credits -n '__credits_at 0 \'\'' -a history -d 'ledger transactions, newest first'
complete -c credits -n '__credits_at 0 \'\'' -a audit -d 'who ran which command that changed the ledger, when, with which arguments'
complete -c credits -n '__credits_at 0 \'\'' -a verify -d 'check the ledger: hash chains, zero-sum transactions, balances, usage totals, every tracked table;…'
complete -c credits -n '__credits_at 0 \'\'' -a checkpoint -d 'sign the ledger\'s head with a key kept outside it (send it somewhere the ledger\'s admin cannot rewr…'
complete -c credits -n '__credits_at 0 \'\'' -a usage -d 'record, import, list and show AI usage; hold credits for a call before it starts'
complete -c credits -n '__credits_at 0 \'\'' -a adjust -d 'book a correction of an account against the outside world, up or down, with a mandatory reason'
complete -c credits -n '__credits_at 0 \'\'' -a rates -d 'the rate card: tier and credits per 1k input tokens, 1k output tokens and tool call'
complete -c credits -n '__credits_at 0 \'\'' -a limits -d 'list hard and soft limits with what is used and left in the current day or month'
complete -c credits -n '__credits_at 0 \'\'' -a check -d 'for CI: exit 0 when enough credits are left, 3 (BUDGET_LOW) when not'
complete -c credits -n '__credits_at 0 \'\'' -a report -d 'credits and events per user, department, model, feature or day, biggest first'
complete -c credits -n '__credits_at 0 \'\'' -a forecast -d 'projected usage and balance to the end of the month, the day credits run out (up to a year ahead, w…'
complete -c credits -n '__credits_at 0 \'\'' -a anomalies -d 'users and departments whose daily spend stands far above their own recent baseline'
complete -c credits -n '__credits_at 0 \'\'' -a dashboard -d 'one screen: balances, burn rate, depletion date, top users and models, the last 30 days, open alerts'
complete -c credits -n '__credits_at 0 \'\'' -a watch -d 'the dashboard, refreshed in place until Ctrl-C'
complete -c credits -n '__credits_at 0 \'\'' -a statement -d 'the monthly statement: opening balance, purchases, transfers, usage by cost centre, user, model and…'
complete -c credits -n '__credits_at 0 \'\'' -a invoice -d 'the provider\'s German tax-compliant invoice (§14 UStG) to the organisation for a purchase, as PDF o…'
complete -c credits -n '__credits_at 0 \'\'' -a notify -d 'notification channels and delivery (cron: notify run)'
complete -c credits -n '__credits_at 0 \'\'' -a recharge -d 'the automatic recharge rules, with this month\'s recharges against the cap, and the scheduled top-ups'
complete -c credits -n '__credits_at 0 \'\'' -a token -d 'API tokens for `credits serve` (roles, departments)'
complete -c credits -n '__credits_at 0 \'\'' -a serve -d 'serve the ledger over HTTP (JSON API for external systems and `--server` remote mode) until SIGTERM'
complete -c credits -n '__credits_at 0 \'\'' -a login -d 'store a credits server and API token for remote mode (checked first), in a file only you can read'
complete -c credits -n '__credits_at 0 \'\'' -a logout -d 'remove the server and token `credits login` stored (nothing on the server changes)'
complete -c credits -n '__credits_at 0 \'\'' -a completion -d 'print the tab-completion script for bash, zsh or fish (commands, flags, values, and names from the…'
# credits: flags
complete -c credits -n '__credits_at any \'\'' -s V -l version -d 'print the version'
# credits init: flags
complete -c credits -n '__credits_at any \'init\'' -l org -x -d 'organisation name'
complete -c credits -n '__credits_at any \'init\'' -l timezone -x -d 'IANA time zone for days and months'
complete -c credits -n '__credits_at any \'init\'' -l demo -d 'fill the ledger with a sample organisation so you see the tool working at once'
# credits org: subcommands
complete -c credits -n '__credits_at 0 \'org\'' -a show -d 'show the organisation (the buyer on invoices): name, address, VAT id, country, time zone, invoice p…'
complete -c credits -n '__credits_at 0 \'org\'' -a set -d 'change organisation details: the buyer on invoices, and the settings of reports'
# credits org set: flags
complete -c credits -n '__credits_at any \'org set\'' -l name -x -d 'organisation name'
complete -c credits -n '__credits_at any \'org set\'' -l address -x -d 'postal address (use \\n for new lines)'
complete -c credits -n '__credits_at any \'org set\'' -l vat-id -x -d 'VAT id of the organisation (the buyer), like DE123456789; an EU id is checked, spaces and dots drop…'
complete -c credits -n '__credits_at any \'org set\'' -l country -x -d 'the organisation\'s country (ISO 3166, like DE, AT, CH; default: its VAT id\'s): decides the invoices…'
complete -c credits -n '__credits_at any \'org set\'' -l leitweg-id -x -d 'Leitweg-ID of a public-sector buyer, like 04011000-1234512345-06 ("" clears it)'
complete -c credits -n '__credits_at any \'org set\'' -l vat-rate -x -d 'domestic VAT rate of new invoices, in percent (same as `provider set --vat-rate`)'
complete -c credits -n '__credits_at any \'org set\'' -l timezone -x -d 'IANA time zone for days and months'
complete -c credits -n '__credits_at any \'org set\'' -l invoice-prefix -x -d 'prefix of invoice numbers'
complete -c credits -n '__credits_at any \'org set\'' -l smtp-url -x -d 'SMTP server for email notifications, like smtp://user:pass@host:587'
complete -c credits -n '__credits_at any \'org set\'' -l datev-consultant-number -x -d 'DATEV Beraternummer (1001-9999999) for `statement --format datev`'
complete -c credits -n '__credits_at any \'org set\'' -l datev-client-number -x -d 'DATEV Mandantennummer (1-99999)'
complete -c credits -n '__credits_at any \'org set\'' -l datev-account-length -x -d 'DATEV Sachkontennummernlänge, 4-8 (default 4)'
complete -c credits -n '__credits_at any \'org set\'' -l datev-expense-account -x -d 'DATEV account the usage is booked to (Soll), like 4964'
complete -c credits -n '__credits_at any \'org set\'' -l datev-clearing-account -x -d 'DATEV clearing account of the credits bought and not yet used, like 1590'
complete -c credits -n '__credits_at any \'org set\'' -l datev-creditor-account -x -d 'DATEV account of the provider\'s invoices (a creditor, one digit longer, or the bank), like 70001'
complete -c credits -n '__credits_at any \'org set\'' -l datev-fiscal-year-start -x -d 'month (1-12) the fiscal year starts in (default 1)'
complete -c credits -n '__credits_at any \'org set\'' -l sepa-mandate -x -d 'reference of the SEPA mandate given to the provider, printed on SEPA invoices ("" clears it)'
complete -c credits -n '__credits_at any \'org set\'' -l sepa-iban -x -d 'the account SEPA purchases are debited from, printed by its last digits ("" clears it)'
complete -c credits -n '__credits_at any \'org set\'' -l dry-run -d 'show what would happen and write nothing'
complete -c credits -n '__credits_at any \'org set\'' -l idempotency-key -x -d 'a retry with the same key and request returns the first result instead of acting twice'
# credits dept: subcommands
complete -c credits -n '__credits_at 0 \'dept\'' -a add -d 'add a department (a cost centre that holds credits)'
complete -c credits -n '__credits_at 0 \'dept\'' -a set -d 'change a department: cost centre, overdraft from the org pool'
complete -c credits -n '__credits_at 0 \'dept\'' -a list -d 'list departments with cost centre, balance and users'
complete -c credits -n '__credits_at 0 \'dept\'' -a show -d 'one department: balance, cost centre, overdraft rule, users'
# credits dept add: flags
complete -c credits -n '__credits_at any \'dept add\'' -l cost-center -x -d 'cost centre code for statements, like CC-4711'
complete -c credits -n '__credits_at any \'dept add\'' -l dry-run -d 'show what would happen and write nothing'
complete -c credits -n '__credits_at any \'dept add\'' -l idempotency-key -x -d 'a retry with the same key and request returns the first result instead of acting twice'
# credits dept set: flags
complete -c credits -n '__credits_at any \'dept set\'' -l cost-center -x -d 'cost centre code'
complete -c credits -n '__credits_at any \'dept set\'' -l overdraft-from -x -a 'org none' -d 'draw a shortfall from this account (org) or stop doing so (none)'
complete -c credits -n '__credits_at any \'dept set\'' -l overdraft-max -x -d 'the most the department may draw from org'
complete -c credits -n '__credits_at any \'dept set\'' -l dry-run -d 'show what would happen and write nothing'
complete -c credits -n '__credits_at any \'dept set\'' -l idempotency-key -x -d 'a retry with the same key and request returns the first result instead of acting twice'
complete -c credits -n '__credits_at 0 \'dept set\'' -a '(__credits_names departments)' -d 'department name'
complete -c credits -n '__credits_at 0 \'dept show\'' -a '(__credits_names departments)' -d 'department name'
# credits user: subcommands
complete -c credits -n '__credits_at 0 \'user\'' -a add -d 'add a user to a department (users spend their department\'s credits)'
complete -c credits -n '__credits_at 0 \'user\'' -a list -d 'list users and their departments'
complete -c credits -n '__credits_at 0 \'user\'' -a move -d 'move a user to another department'
# credits user add: flags
complete -c credits -n '__credits_at any \'user add\'' -l dept -x -a '(__credits_names departments)' -d 'department the user spends from'
complete -c credits -n '__credits_at any \'user add\'' -l dry-run -d 'show what would happen and write nothing'
complete -c credits -n '__credits_at any \'user add\'' -l idempotency-key -x -d 'a retry with the same key and request returns the first result instead of acting twice'
# credits user list: flags
complete -c credits -n '__credits_at any \'user list\'' -l dept -x -a '(__credits_names departments)' -d 'only this department'
# credits user move: flags
complete -c credits -n '__credits_at any \'user move\'' -l dept -x -a '(__credits_names departments)' -d 'the new department'
complete -c credits -n '__credits_at any \'user move\'' -l dry-run -d 'show what would happen and write nothing'
complete -c credits -n '__credits_at any \'user move\'' -l idempotency-key -x -d 'a retry with the same key and request returns the first result instead of acting twice'
complete -c credits -n '__credits_at 0 \'user move\'' -a '(__credits_names users)' -d 'email address'
# credits provider: subcommands
complete -c credits -n '__credits_at 0 \'provider\'' -a set -d 'name the provider (the seller on invoices): name, address, VAT id, tax number, bank account, email,…'
# credits provider set: flags
complete -c credits -n '__credits_at any \'provider set\'' -l name -x -d 'the provider\'s legal name'
complete -c credits -n '__credits_at any \'provider set\'' -l address -x -d 'postal address (use \\n for new lines)'
complete -c credits -n '__credits_at any \'provider set\'' -l vat-id -x -d 'EU VAT id (USt-IdNr.), like DE123456789; spaces and dots are dropped'
complete -c credits -n '__credits_at any \'provider set\'' -l tax-number -x -d 'Steuernummer, like 143/123/45678 ("" clears it)'
complete -c credits -n '__credits_at any \'provider set\'' -l iban -x -d 'account for invoice payments, checked by mod 97 ("" clears it)'
complete -c credits -n '__credits_at any \'provider set\'' -l bic -x -d 'BIC of that account, like COBADEFFXXX'
complete -c credits -n '__credits_at any \'provider set\'' -l bank-name -x -d 'name of the bank'
complete -c credits -n '__credits_at any \'provider set\'' -l email -x -d 'billing contact printed on invoices'
complete -c credits -n '__credits_at any \'provider set\'' -l creditor-id -x -d 'SEPA creditor identifier (Gläubiger-ID) printed with the mandate on SEPA invoices ("" clears it)'
complete -c credits -n '__credits_at any \'provider set\'' -l payment-days -x -d 'payment term of new invoices: the due date is the invoice date plus this'
complete -c credits -n '__credits_at any \'provider set\'' -l vat-rate -x -d 'domestic VAT rate in percent for new invoices'
complete -c credits -n '__credits_at any \'provider set\'' -l dry-run -d 'show what would happen and write nothing'
complete -c credits -n '__credits_at any \'provider set\'' -l idempotency-key -x -d 'a retry with the same key and request returns the first result instead of acting twice'
# credits buy: flags
complete -c credits -n '__credits_at any \'buy\'' -l method -x -a 'card paypal sepa invoice' -d 'how it is paid'
complete -c credits -n '__credits_at any \'buy\'' -l for -x -a '(__credits_names accounts)' -d 'credit a department instead of the org pool'
complete -c credits -n '__credits_at any \'buy\'' -l quantity -x -d 'how many of the package'
complete -c credits -n '__credits_at any \'buy\'' -l credits -x -d 'custom package: whole credits, from 500,000'
complete -c credits -n '__credits_at any \'buy\'' -l discount -x -d 'custom package: the negotiated discount'
complete -c credits -n '__credits_at any \'buy\'' -l dry-run -d 'show what would happen and write nothing'
complete -c credits -n '__credits_at any \'buy\'' -l idempotency-key -x -d 'a retry with the same key and request returns the first result instead of acting twice'
complete -c credits -n '__credits_at 0 \'buy\'' -a 'basic standard professional team enterprise custom' -d 'basic, standard, professional, team, enterprise or custom'
# credits purchases: subcommands
complete -c credits -n '__credits_at 0 \'purchases\'' -a settle -d 'mark a pending SEPA or invoice purchase as paid: its credits arrive now'
complete -c credits -n '__credits_at 0 \'purchases\'' -a cancel -d 'cancel a pending purchase (settled purchases are never refunded)'
# credits purchases: flags
complete -c credits -n '__credits_at any \'purchases\'' -l status -x -a 'pending settled cancelled' -d 'only pending, settled or cancelled'
# credits purchases settle: flags
complete -c credits -n '__credits_at any \'purchases settle\'' -l dry-run -d 'show what would happen and write nothing'
complete -c credits -n '__credits_at any \'purchases settle\'' -l idempotency-key -x -d 'a retry with the same key and request returns the first result instead of acting twice'
complete -c credits -n '__credits_at 0 \'purchases settle\'' -a '(__credits_names purchases)' -d 'purchase id (see `credits purchases`)'
# credits purchases cancel: flags
complete -c credits -n '__credits_at any \'purchases cancel\'' -l dry-run -d 'show what would happen and write nothing'
complete -c credits -n '__credits_at any \'purchases cancel\'' -l idempotency-key -x -d 'a retry with the same key and request returns the first result instead of acting twice'
complete -c credits -n '__credits_at 0 \'purchases cancel\'' -a '(__credits_names purchases)' -d 'purchase id'
# credits transfer: flags
complete -c credits -n '__credits_at any \'transfer\'' -l from -x -a '(__credits_names accounts)' -d 'org or a department'
complete -c credits -n '__credits_at any \'transfer\'' -l to -x -a '(__credits_names accounts)' -d 'org or a department'
complete -c credits -n '__credits_at any \'transfer\'' -l reason -x -d 'why, kept in the ledger'
complete -c credits -n '__credits_at any \'transfer\'' -l dry-run -d 'show what would happen and write nothing'
complete -c credits -n '__credits_at any \'transfer\'' -l idempotency-key -x -d 'a retry with the same key and request returns the first result instead of acting twice'
# credits balance: flags
complete -c credits -n '__credits_at any \'balance\'' -l as-of -x -d 'balances at the start of this date (YYYY-MM-DD, local) or instant (ISO 8601)'
complete -c credits -n '__credits_at 0 \'balance\'' -a '(__credits_names accounts)' -d 'only this department (or org)'
# credits history: flags
complete -c credits -n '__credits_at any \'history\'' -l dept -x -a '(__credits_names accounts)' -d 'only transactions touching this department (or org)'
complete -c credits -n '__credits_at any \'history\'' -l user -x -a '(__credits_names users)' -d 'only usage of this user'
complete -c credits -n '__credits_at any \'history\'' -l model -x -a '(__credits_names models)' -d 'only usage of this model'
complete -c credits -n '__credits_at any \'history\'' -l kind -x -a 'transfer buy usage recharge reversal adjustment purchase allocation' -d 'only this kind (transfer: allocations from org and transfers between departments)'
complete -c credits -n '__credits_at any \'history\'' -l since -x -d 'from this date or instant on'
complete -c credits -n '__credits_at any \'history\'' -l until -x -d 'up to the end of this date, or before this instant'
complete -c credits -n '__credits_at any \'history\'' -l limit -x -d 'at most this many'
complete -c credits -n '__credits_at any \'history\'' -l before -x -d 'only transactions older than this id (the next page: the last id shown)'
# credits audit: flags
complete -c credits -n '__credits_at any \'audit\'' -l since -x -d 'from this date or instant on'
complete -c credits -n '__credits_at any \'audit\'' -l limit -x -d 'at most this many'
# credits verify: flags
complete -c credits -n '__credits_at any \'verify\'' -l since-checkpoint -r -F -d 'check only what was written after this signed checkpoint, from the balances and day totals it commi…'
# credits checkpoint: flags
complete -c credits -n '__credits_at any \'checkpoint\'' -l init-key -d 'make the signing key ($XDG_CONFIG_HOME/credits/signing-key, mode 0600); never replaces one'
# credits usage: subcommands
complete -c credits -n '__credits_at 0 \'usage\'' -a record -d 'price and post one AI interaction, with the breakdown'
complete -c credits -n '__credits_at 0 \'usage\'' -a import -d 'post many usage events from JSON lines or CSV (each needs an eventId); safe to run again'
complete -c credits -n '__credits_at 0 \'usage\'' -a hold -d 'reserve credits for an AI call before it starts (two-phase usage); capture with `usage record --hol…'
complete -c credits -n '__credits_at 0 \'usage\'' -a release -d 'release a hold: its credits are available again (a hold released before, or expired, is already fre…'
complete -c credits -n '__credits_at 0 \'usage\'' -a list -d 'usage events with their cost, newest first; --format csv|json exports them all'
complete -c credits -n '__credits_at 0 \'usage\'' -a show -d 'one usage event\'s breakdown, as `usage record` printed it, from the stored event'
complete -c credits -n '__credits_at 0 \'usage\'' -a reverse -d 'reverse one usage event, or every event of a usage batch (--import-id): its cost goes back, booked…'
# credits usage record: flags
complete -c credits -n '__credits_at any \'usage record\'' -l user -x -a '(__credits_names users)' -d 'who used it (spends from their department)'
complete -c credits -n '__credits_at any \'usage record\'' -l model -x -a '(__credits_names models)' -d 'model id from `credits rates`'
complete -c credits -n '__credits_at any \'usage record\'' -l input-tokens -x -d 'input tokens'
complete -c credits -n '__credits_at any \'usage record\'' -l output-tokens -x -d 'output tokens'
complete -c credits -n '__credits_at any \'usage record\'' -l tool-calls -x -d 'tool calls'
complete -c credits -n '__credits_at any \'usage record\'' -l feature -x -a 'chat summarize translate analyze image workflow' -d 'what it was'
complete -c credits -n '__credits_at any \'usage record\'' -l images -x -d 'images generated (feature image)'
complete -c credits -n '__credits_at any \'usage record\'' -l image-size -x -a 'standard hd' -d 'image size'
complete -c credits -n '__credits_at any \'usage record\'' -l db-access -d 'workflow with database access (+50%)'
complete -c credits -n '__credits_at any \'usage record\'' -l event-id -x -d 'the platform\'s id of this interaction: posting it again is harmless'
complete -c credits -n '__credits_at any \'usage record\'' -l at -x -d 'when it happened (ISO 8601; at most 5 minutes ahead), for events posted late'
complete -c credits -n '__credits_at any \'usage record\'' -l tag -x -d 'a label to group reports by (`report --by tag:KEY`); repeat for more, at most 10'
complete -c credits -n '__credits_at any \'usage record\'' -l hold -x -d 'capture this hold (from `usage hold`) with the actual cost: user, model, feature and event id defau…'
complete -c credits -n '__credits_at any \'usage record\'' -l allow-over -d 'with --hold: a cost above the hold is posted with every check on its whole cost instead of refused'
complete -c credits -n '__credits_at any \'usage record\'' -l dry-run -d 'show what would happen and write nothing'
complete -c credits -n '__credits_at any \'usage record\'' -l idempotency-key -x -d 'a retry with the same key and request returns the first result instead of acting twice'
# credits usage import: flags
complete -c credits -n '__credits_at any \'usage import\'' -l format -x -a 'jsonl csv' -d 'file format (default: from the extension or the first line)'
complete -c credits -n '__credits_at any \'usage import\'' -l delimiter -x -d 'CSV field separator: \',\' (comma), \';\' (semicolon) or tab; implies CSV (default: the one that splits…'
complete -c credits -n '__credits_at any \'usage import\'' -l dry-run -d 'show what would happen and write nothing'
complete -c credits -n '__credits_at any \'usage import\'' -l idempotency-key -x -d 'a retry with the same key and request returns the first result instead of acting twice'
complete -c credits -n '__credits_at 0 \'usage import\'' -F
# credits usage hold: flags
complete -c credits -n '__credits_at any \'usage hold\'' -l user -x -a '(__credits_names users)' -d 'who makes the call (spends from their department)'
complete -c credits -n '__credits_at any \'usage hold\'' -l model -x -a '(__credits_names models)' -d 'model id from `credits rates` (its limits apply)'
complete -c credits -n '__credits_at any \'usage hold\'' -l max-credits -x -d 'the most the call may cost: checked against balance and every limit as if spent'
complete -c credits -n '__credits_at any \'usage hold\'' -l expires -x -d 'releases itself after this long (30s, 10m, 2h; at most 24h)'
complete -c credits -n '__credits_at any \'usage hold\'' -l feature -x -a 'chat summarize translate analyze image workflow' -d 'what it is'
complete -c credits -n '__credits_at any \'usage hold\'' -l event-id -x -d 'the platform\'s id of this interaction: holding it again is harmless, and the capture posts under it'
complete -c credits -n '__credits_at any \'usage hold\'' -l dry-run -d 'show what would happen and write nothing'
complete -c credits -n '__credits_at any \'usage hold\'' -l idempotency-key -x -d 'a retry with the same key and request returns the first result instead of acting twice'
# credits usage release: flags
complete -c credits -n '__credits_at any \'usage release\'' -l dry-run -d 'show what would happen and write nothing'
complete -c credits -n '__credits_at any \'usage release\'' -l idempotency-key -x -d 'a retry with the same key and request returns the first result instead of acting twice'
# credits usage list: flags
complete -c credits -n '__credits_at any \'usage list\'' -l user -x -a '(__credits_names users)' -d 'only events of this user'
complete -c credits -n '__credits_at any \'usage list\'' -l dept -x -a '(__credits_names departments)' -d 'only events posted for this department'
complete -c credits -n '__credits_at any \'usage list\'' -l model -x -a '(__credits_names models)' -d 'only events of this model'
complete -c credits -n '__credits_at any \'usage list\'' -l feature -x -a 'chat summarize translate analyze image workflow' -d 'only events of this feature'
complete -c credits -n '__credits_at any \'usage list\'' -l since -x -d 'events that happened from this date or instant on'
complete -c credits -n '__credits_at any \'usage list\'' -l until -x -d 'events that happened up to the end of this date, or before this instant'
complete -c credits -n '__credits_at any \'usage list\'' -l limit -x -d 'at most this many (default: 50; with --format csv or json, all)'
complete -c credits -n '__credits_at any \'usage list\'' -l after -x -d 'the next page: the cursor the previous page printed'
complete -c credits -n '__credits_at any \'usage list\'' -l format -x -a 'table csv json' -d 'table, csv or json (default: from --output, else table)'
complete -c credits -n '__credits_at any \'usage list\'' -l output -r -F -d 'write the csv or json export to this file (atomically); default: standard output'
# credits adjust: flags
complete -c credits -n '__credits_at any \'adjust\'' -l reason -x -d 'why (required): shown in history, statements and the audit log'
complete -c credits -n '__credits_at any \'adjust\'' -l dry-run -d 'show what would happen and write nothing'
complete -c credits -n '__credits_at any \'adjust\'' -l idempotency-key -x -d 'a retry with the same key and request returns the first result instead of acting twice'
complete -c credits -n '__credits_at 0 \'adjust\'' -a '(__credits_names accounts)' -d 'org or a department'
# credits usage reverse: flags
complete -c credits -n '__credits_at any \'usage reverse\'' -l import-id -x -d 'every event of this usage batch: the usage transaction an import batch was posted in'
complete -c credits -n '__credits_at any \'usage reverse\'' -l reason -x -d 'why (required): shown in history, statements and the audit log'
complete -c credits -n '__credits_at any \'usage reverse\'' -l dry-run -d 'show what would happen and write nothing'
complete -c credits -n '__credits_at any \'usage reverse\'' -l idempotency-key -x -d 'a retry with the same key and request returns the first result instead of acting twice'
# credits rates: subcommands
complete -c credits -n '__credits_at 0 \'rates\'' -a set -d 'set a model\'s rate from a time on (past usage keeps the price it was posted with)'
# credits rates: flags
complete -c credits -n '__credits_at any \'rates\'' -l at -x -d 'the card in force at this date or instant'
# credits rates set: flags
complete -c credits -n '__credits_at any \'rates set\'' -l tier -x -a 'premium standard economy' -d 'premium, standard or economy (required for a new model)'
complete -c credits -n '__credits_at any \'rates set\'' -l input -x -d 'credits per 1k input tokens'
complete -c credits -n '__credits_at any \'rates set\'' -l output -x -d 'credits per 1k output tokens'
complete -c credits -n '__credits_at any \'rates set\'' -l tool-call -x -d 'credits per tool call'
complete -c credits -n '__credits_at any \'rates set\'' -l name -x -d 'display name, like "GPT-4o"'
complete -c credits -n '__credits_at any \'rates set\'' -l effective -x -d 'from when (date or ISO 8601 instant)'
complete -c credits -n '__credits_at any \'rates set\'' -l dry-run -d 'show what would happen and write nothing'
complete -c credits -n '__credits_at any \'rates set\'' -l idempotency-key -x -d 'a retry with the same key and request returns the first result instead of acting twice'
complete -c credits -n '__credits_at 0 \'rates set\'' -a '(__credits_names models)' -d 'model id, like gpt-4o'
# credits limits: subcommands
complete -c credits -n '__credits_at 0 \'limits\'' -a set -d 'limit spending per day or month for a user, a department or the organisation, optionally per model…'
complete -c credits -n '__credits_at 0 \'limits\'' -a remove -d 'remove a limit, hard or soft (the id names one)'
# credits limits set: flags
complete -c credits -n '__credits_at any \'limits set\'' -l user -x -a '(__credits_names users)' -d 'limit this user'
complete -c credits -n '__credits_at any \'limits set\'' -l dept -x -a '(__credits_names departments)' -d 'limit this department'
complete -c credits -n '__credits_at any \'limits set\'' -l org -d 'limit the whole organisation'
complete -c credits -n '__credits_at any \'limits set\'' -l model -x -a '(__credits_names models)' -d 'only usage of this model'
complete -c credits -n '__credits_at any \'limits set\'' -l tier -x -a 'premium standard economy' -d 'only usage of this tier'
complete -c credits -n '__credits_at any \'limits set\'' -l daily -x -d 'credits per calendar day (organisation time zone)'
complete -c credits -n '__credits_at any \'limits set\'' -l monthly -x -d 'credits per calendar month'
complete -c credits -n '__credits_at any \'limits set\'' -l soft -d 'a soft limit: passing it warns (answer and notification), never refuses; kept beside a hard one'
complete -c credits -n '__credits_at any \'limits set\'' -l dry-run -d 'show what would happen and write nothing'
complete -c credits -n '__credits_at any \'limits set\'' -l idempotency-key -x -d 'a retry with the same key and request returns the first result instead of acting twice'
# credits limits remove: flags
complete -c credits -n '__credits_at any \'limits remove\'' -l dry-run -d 'show what would happen and write nothing'
complete -c credits -n '__credits_at any \'limits remove\'' -l idempotency-key -x -d 'a retry with the same key and request returns the first result instead of acting twice'
# credits check: flags
complete -c credits -n '__credits_at any \'check\'' -l dept -x -a '(__credits_names departments)' -d 'check this department'
complete -c credits -n '__credits_at any \'check\'' -l user -x -a '(__credits_names users)' -d 'check what this user can still spend (department balance and their limits; --min-percent takes the…'
complete -c credits -n '__credits_at any \'check\'' -l org -d 'check the organisation pool (the default)'
complete -c credits -n '__credits_at any \'check\'' -l min-credits -x -d 'at least this many credits must be left'
complete -c credits -n '__credits_at any \'check\'' -l min-percent -x -d 'at least this percentage of this month\'s credits (opening balance plus what came in) must be left'
complete -c credits -n '__credits_at any \'check\'' -l min-days -x -d 'the forecast\'s runway (days until credits run out, with recharges and pending purchases) must be at…'
# credits report: flags
complete -c credits -n '__credits_at any \'report\'' -l by -x -a 'user dept model feature day' -d 'what to group by; tag:KEY groups by the value of the usage events\' tag KEY'
complete -c credits -n '__credits_at any \'report\'' -l month -x -d 'a calendar month in the organisation time zone (default: this month)'
complete -c credits -n '__credits_at any \'report\'' -l since -x -d 'first day (YYYY-MM-DD), instead of --month'
complete -c credits -n '__credits_at any \'report\'' -l until -x -d 'last day, included (default: today)'
complete -c credits -n '__credits_at any \'report\'' -l dept -x -a '(__credits_names departments)' -d 'only this department'
complete -c credits -n '__credits_at any \'report\'' -l format -x -a 'table json csv' -d 'table, json or csv (default: from --output, else table)'
complete -c credits -n '__credits_at any \'report\'' -l output -r -F -d 'write to this file (atomically) instead of the terminal'
# credits forecast: flags
complete -c credits -n '__credits_at any \'forecast\'' -l dept -x -a '(__credits_names departments)' -d 'one department (default: the whole organisation)'
complete -c credits -n '__credits_at any \'forecast\'' -l org -d 'the whole organisation: the org pool and every department'
# credits anomalies: flags
complete -c credits -n '__credits_at any \'anomalies\'' -l since -x -d 'first day to judge (default: 7 days ago)'
# credits watch: flags
complete -c credits -n '__credits_at any \'watch\'' -l interval -x -d 'seconds between refreshes'
# credits statement: flags
complete -c credits -n '__credits_at any \'statement\'' -l month -x -d 'the month (default: last month, the one a cron job on the 1st wants)'
complete -c credits -n '__credits_at any \'statement\'' -l dept -x -a '(__credits_names departments)' -d 'one department instead of the whole organisation'
complete -c credits -n '__credits_at any \'statement\'' -l format -x -a 'pdf csv json datev' -d 'pdf, csv, json, or datev (a DATEV Buchungsstapel of the usage by cost centre; default: from --outpu…'
complete -c credits -n '__credits_at any \'statement\'' -l output -r -F -d 'the file to write (atomically)'
# credits invoice: subcommands
complete -c credits -n '__credits_at 0 \'invoice\'' -a cancel -d 'cancel an issued invoice: a cancellation invoice (Stornorechnung) with the next number, the amounts…'
complete -c credits -n '__credits_at 0 \'invoice\'' -a show -d 'reprint an invoice or a cancellation invoice by its number, marked "Kopie / Copy", as issued'
complete -c credits -n '__credits_at 0 \'invoice\'' -a list -d 'the issued invoices and cancellation invoices in number order, with what cancelled what'
# credits invoice: flags
complete -c credits -n '__credits_at any \'invoice\'' -l output -r -F -d 'the file to write: a PDF, a CSV of the same numbers, or an electronic invoice'
complete -c credits -n '__credits_at any \'invoice\'' -l format -x -a 'pdf csv xrechnung zugferd' -d 'pdf, csv, xrechnung (EN 16931 XML in UN/CEFACT CII syntax) or zugferd (PDF/A-3 with that XML embedd…'
complete -c credits -n '__credits_at any \'invoice\'' -l buyer -x -d 'invoice another buyer than the organisation (default: the organisation, c/o the credited department)'
complete -c credits -n '__credits_at any \'invoice\'' -l buyer-address -x -d 'that buyer\'s postal address (\\n between lines)'
complete -c credits -n '__credits_at any \'invoice\'' -l buyer-vat-id -x -d 'that buyer\'s VAT id, when it has one (decides the tax case)'
complete -c credits -n '__credits_at any \'invoice\'' -l dry-run -d 'show what would happen and write nothing'
complete -c credits -n '__credits_at any \'invoice\'' -l idempotency-key -x -d 'a retry with the same key and request returns the first result instead of acting twice'
complete -c credits -n '__credits_at 0 \'invoice\'' -a '(__credits_names purchases)' -d 'purchase id (see `credits purchases`)'
# credits invoice cancel: flags
complete -c credits -n '__credits_at any \'invoice cancel\'' -l reason -x -d 'why it is cancelled, printed on the cancellation invoice (required)'
complete -c credits -n '__credits_at any \'invoice cancel\'' -l output -r -F -d 'write the cancellation invoice: a PDF, or a CSV of the same numbers'
complete -c credits -n '__credits_at any \'invoice cancel\'' -l format -x -a 'pdf csv' -d 'pdf or csv (default: from --output, else pdf)'
complete -c credits -n '__credits_at any \'invoice cancel\'' -l dry-run -d 'show what would happen and write nothing'
complete -c credits -n '__credits_at any \'invoice cancel\'' -l idempotency-key -x -d 'a retry with the same key and request returns the first result instead of acting twice'
# credits invoice show: flags
complete -c credits -n '__credits_at any \'invoice show\'' -l output -r -F -d 'the file to write: a PDF, or a CSV of the same numbers'
complete -c credits -n '__credits_at any \'invoice show\'' -l format -x -a 'pdf csv' -d 'pdf or csv (default: from --output, else pdf)'
# credits notify: subcommands
complete -c credits -n '__credits_at 0 \'notify\'' -a levels -d 'the percentages left at which balance alerts fire'
complete -c credits -n '__credits_at 0 \'notify\'' -a channel -d 'add and remove notification channels'
complete -c credits -n '__credits_at 0 \'notify\'' -a channels -d 'the notification channels, with pending deliveries and the last error of each'
complete -c credits -n '__credits_at 0 \'notify\'' -a test -d 'send a test event to one channel or all, now'
complete -c credits -n '__credits_at 0 \'notify\'' -a run -d 'for cron: queue due reports (anomalies, the monthly report) and deliver every pending notification,…'
# credits notify levels: subcommands
complete -c credits -n '__credits_at 0 \'notify levels\'' -a show -d 'the percentages left at which balance alerts fire (default 20,10,0)'
complete -c credits -n '__credits_at 0 \'notify levels\'' -a set -d 'set the percentages left at which balance alerts fire: whole numbers 0-100, comma-separated (0 mean…'
# credits notify levels set: flags
complete -c credits -n '__credits_at any \'notify levels set\'' -l dry-run -d 'show what would happen and write nothing'
complete -c credits -n '__credits_at any \'notify levels set\'' -l idempotency-key -x -d 'a retry with the same key and request returns the first result instead of acting twice'
# credits notify channel: subcommands
complete -c credits -n '__credits_at 0 \'notify channel\'' -a add -d 'add a channel: a webhook (Slack-compatible JSON, signed per Standard Webhooks), an email address, o…'
complete -c credits -n '__credits_at 0 \'notify channel\'' -a secret -d 'a webhook channel\'s signing secret, for the receiver\'s configuration'
complete -c credits -n '__credits_at 0 \'notify channel\'' -a rotate -d 'give a webhook channel a new whsec_ signing secret (deliveries from now on are signed with it) and…'
complete -c credits -n '__credits_at 0 \'notify channel\'' -a remove -d 'remove a channel (its pending deliveries are dropped)'
# credits notify channel add: flags
complete -c credits -n '__credits_at any \'notify channel add\'' -l secret -x -d 'webhook only: the signing secret (default: a new whsec_ secret, shown once here and by `notify chan…'
complete -c credits -n '__credits_at any \'notify channel add\'' -l dry-run -d 'show what would happen and write nothing'
complete -c credits -n '__credits_at any \'notify channel add\'' -l idempotency-key -x -d 'a retry with the same key and request returns the first result instead of acting twice'
complete -c credits -n '__credits_at 0 \'notify channel add\'' -a 'webhook email command' -d 'webhook, email or command'
# credits notify channel rotate: flags
complete -c credits -n '__credits_at any \'notify channel rotate\'' -l dry-run -d 'show what would happen and write nothing'
complete -c credits -n '__credits_at any \'notify channel rotate\'' -l idempotency-key -x -d 'a retry with the same key and request returns the first result instead of acting twice'
# credits notify channel remove: flags
complete -c credits -n '__credits_at any \'notify channel remove\'' -l dry-run -d 'show what would happen and write nothing'
complete -c credits -n '__credits_at any \'notify channel remove\'' -l idempotency-key -x -d 'a retry with the same key and request returns the first result instead of acting twice'
# credits notify test: flags
complete -c credits -n '__credits_at any \'notify test\'' -l timeout -x -d 'how long one delivery may take'
# credits notify run: flags
complete -c credits -n '__credits_at any \'notify run\'' -l lease -x -d 'how long a run holds the deliveries it claimed before another run may take them over'
complete -c credits -n '__credits_at any \'notify run\'' -l timeout -x -d 'how long one delivery may take'
complete -c credits -n '__credits_at any \'notify run\'' -l reports-dir -x -a '(__fish_complete_directories)' -d 'where the monthly statement and the invoice copies of the month are written (default: reports/ besi…'
# credits recharge: subcommands
complete -c credits -n '__credits_at 0 \'recharge\'' -a set -d 'buy a package (or the cheapest packages up to a target) automatically when an account falls below a…'
complete -c credits -n '__credits_at 0 \'recharge\'' -a schedule -d 'buy a package every month on a day (cron: recharge run buys it once a month, on or after the day)'
complete -c credits -n '__credits_at 0 \'recharge\'' -a off -d 'stop recharging an account automatically'
complete -c credits -n '__credits_at 0 \'recharge\'' -a run -d 'for cron: buy the scheduled top-ups due today, then look at every recharge rule again and recharge…'
# credits recharge set: flags
complete -c credits -n '__credits_at any \'recharge set\'' -l threshold -x -d 'recharge when the balance falls below this'
complete -c credits -n '__credits_at any \'recharge set\'' -l package -x -a 'basic standard professional team enterprise' -d 'the package to buy (or --target)'
complete -c credits -n '__credits_at any \'recharge set\'' -l target -x -d 'instead of --package: buy the cheapest packages that bring the balance back to this (at least the t…'
complete -c credits -n '__credits_at any \'recharge set\'' -l custom-discount -x -d 'with --target: the negotiated discount at which a custom package (from 500,000 credits) may be boug…'
complete -c credits -n '__credits_at any \'recharge set\'' -l method -x -a 'card paypal sepa' -d 'card and paypal credit at once, sepa when settled'
complete -c credits -n '__credits_at any \'recharge set\'' -l monthly-cap -x -d 'spend at most this many euros a month on recharges'
complete -c credits -n '__credits_at any \'recharge set\'' -l for -x -a '(__credits_names accounts)' -d 'org or a department'
complete -c credits -n '__credits_at any \'recharge set\'' -l dry-run -d 'show what would happen and write nothing'
complete -c credits -n '__credits_at any \'recharge set\'' -l idempotency-key -x -d 'a retry with the same key and request returns the first result instead of acting twice'
# credits recharge schedule: subcommands
complete -c credits -n '__credits_at 0 \'recharge schedule\'' -a remove -d 'stop a scheduled top-up'
# credits recharge schedule: flags
complete -c credits -n '__credits_at any \'recharge schedule\'' -l monthly-on -x -d 'the day of the month, 1-31 (29-31: the last day in shorter months)'
complete -c credits -n '__credits_at any \'recharge schedule\'' -l package -x -a 'basic standard professional team enterprise' -d 'the package to buy'
complete -c credits -n '__credits_at any \'recharge schedule\'' -l method -x -a 'card paypal sepa' -d 'card and paypal credit at once, sepa when settled'
complete -c credits -n '__credits_at any \'recharge schedule\'' -l for -x -a '(__credits_names accounts)' -d 'org or a department'
complete -c credits -n '__credits_at any \'recharge schedule\'' -l dry-run -d 'show what would happen and write nothing'
complete -c credits -n '__credits_at any \'recharge schedule\'' -l idempotency-key -x -d 'a retry with the same key and request returns the first result instead of acting twice'
# credits recharge schedule remove: flags
complete -c credits -n '__credits_at any \'recharge schedule remove\'' -l dry-run -d 'show what would happen and write nothing'
complete -c credits -n '__credits_at any \'recharge schedule remove\'' -l idempotency-key -x -d 'a retry with the same key and request returns the first result instead of acting twice'
# credits recharge off: flags
complete -c credits -n '__credits_at any \'recharge off\'' -l for -x -a '(__credits_names accounts)' -d 'org or a department'
complete -c credits -n '__credits_at any \'recharge off\'' -l dry-run -d 'show what would happen and write nothing'
complete -c credits -n '__credits_at any \'recharge off\'' -l idempotency-key -x -d 'a retry with the same key and request returns the first result instead of acting twice'
# credits token: subcommands
complete -c credits -n '__credits_at 0 \'token\'' -a create -d 'create an API token for `credits serve`; it is printed once, only its hash is kept'
complete -c credits -n '__credits_at 0 \'token\'' -a list -d 'the API tokens: role, department, status (active, expired, revoked); never the secrets'
complete -c credits -n '__credits_at 0 \'token\'' -a revoke -d 'revoke an API token: requests with it are refused from now on'
# credits token create: flags
complete -c credits -n '__credits_at any \'token create\'' -l role -x -a 'admin operator usage-writer reader ci' -d 'what it may do: admin (everything, tokens, organisation settings and corrections included); operato…'
complete -c credits -n '__credits_at any \'token create\'' -l dept -x -a '(__credits_names departments)' -d 'bind it to one department: it sees and acts on that department only'
complete -c credits -n '__credits_at any \'token create\'' -l expires -x -d 'last day it works (YYYY-MM-DD, through the end of that local day) or an ISO 8601 instant'
complete -c credits -n '__credits_at any \'token create\'' -l name -x -d 'a label for `token list`, like "ci-ml-pipeline"'
complete -c credits -n '__credits_at any \'token create\'' -l dry-run -d 'show what would happen and write nothing'
complete -c credits -n '__credits_at any \'token create\'' -l idempotency-key -x -d 'a retry with the same key and request returns the first result instead of acting twice'
# credits token revoke: flags
complete -c credits -n '__credits_at any \'token revoke\'' -l dry-run -d 'show what would happen and write nothing'
complete -c credits -n '__credits_at any \'token revoke\'' -l idempotency-key -x -d 'a retry with the same key and request returns the first result instead of acting twice'
# credits serve: flags
complete -c credits -n '__credits_at any \'serve\'' -l listen -x -d 'where to listen'
complete -c credits -n '__credits_at any \'serve\'' -l body-limit -x -d 'largest request body, like 16mb (uploads of `usage import` over --server count)'
complete -c credits -n '__credits_at any \'serve\'' -l token-cache -x -d 'how long a checked token is trusted before it is read again (revocations through this server apply…'
complete -c credits -n '__credits_at any \'serve\'' -l grace -x -d 'on SIGTERM, how long requests in flight may take to finish'
complete -c credits -n '__credits_at any \'serve\'' -l log-level -x -a 'fatal error warn info debug silent' -d 'the request log (one JSON line per request on stdout): info logs every request, warn and error only…'
complete -c credits -n '__credits_at any \'serve\'' -l advertise-url -x -d 'run as one of several servers of one ledger: the URL the others reach this one at; the writer-lease…'
complete -c credits -n '__credits_at any \'serve\'' -l lease -x -d 'with --advertise-url: how long the writer lease lasts unless renewed (the holder renews it with eve…'
complete -c credits -n '__credits_at any \'serve\'' -l replica-db -x -d 'with --advertise-url: a libSQL read replica of --db (token: CREDITS_DB_AUTH_TOKEN); reads see every…'
complete -c credits -n '__credits_at any \'serve\'' -l allow-command-channels -d 'let admin tokens add `command` notification channels (shell commands run as the server\'s user) over…'
# credits login: flags
complete -c credits -n '__credits_at any \'login\'' -l token -x -d 'the API token (default: CREDITS_TOKEN, else asked without echo on a terminal, else read from standa…'
complete -c credits -n '__credits_at 0 \'completion\'' -a 'bash zsh fish' -d 'bash, zsh or fish'
