import { footCents } from '../../core/footing.js';
import { groupIban } from '../../core/bankDetails.js';
import { formatLocalDateTime } from '../../core/time.js';
import { formatBasisPoints, formatCredits, formatEuros, formatPercent } from '../format.js';
import { palette, percentColour, table, type RenderOptions } from '../style.js';

type Balances = {
  asOfMs: number | null;
  accounts: {
    account: string;
    kind: string;
    costCenter: string | null;
    millicredits: number;
    heldMillicredits?: number;
    availableMillicredits?: number;
    percentLeft: number | null;
  }[];
  totalMillicredits: number;
  totalHeldMillicredits?: number;
};
type Purchase = {
  purchaseId: number;
  packageName: string;
  quantity: number;
  millicredits: number;
  priceCents: number;
  discountBasisPoints: number;
  method: string;
  status: string;
  account: string;
  balanceMillicredits: number;
  dryRun: boolean;
  replayed: boolean;
};
type PurchaseList = {
  purchases: {
    id: number;
    packageName: string;
    millicredits: number;
    priceCents: number;
    method: string;
    status: string;
    account: string;
    createdAtMs: number;
  }[];
};
type Transfer = {
  from: string;
  to: string;
  millicredits: number;
  fromBalanceMillicredits: number;
  /** null where the caller may not read the receiving account (a department-bound token giving back to org). */
  toBalanceMillicredits: number | null;
  transactionId: number;
  dryRun: boolean;
  replayed: boolean;
};
type HistoryData = {
  transactions: { id: number; kind: string; actor: string; memo: string; createdAtMs: number; entries: { account: string; millicredits: number }[] }[];
  /** Transactions the filter selects in all, and how many older ones this page left out. */
  total?: number;
  more?: number;
  nextBefore?: number | null;
};

/** "50 of 1,204 shown; --limit or --before 1155 for more" under a cut list. */
function moreLine(data: HistoryData): string {
  if (!data.more || data.more <= 0 || data.total === undefined) return '';
  const shown = data.transactions.length.toLocaleString('en-US');
  return `\n${shown} of ${data.total.toLocaleString('en-US')} shown; --limit or --before ${data.nextBefore ?? ''} for more`;
}
type VerifyData = {
  ok: boolean;
  transactions: number;
  entries: number;
  accounts: number;
  stateRecords: number;
  head: { transactionId: number; stateSeq: number; hash: string };
  sinceCheckpoint?: { checkpointAt: string; newEvents: number; daysChecked: number } | null;
  problems: { message: string }[];
};
type AuditData = { entries: { id: number; atMs: number; actor: string; command: string; args: unknown; outcome: string }[] };

/** "consultant 29098, client 55003, expense 4964, clearing 1590, creditor 70001" (what is set), or –. */
function datevSummary(org: Record<string, string | number>): string {
  const parts: [string, unknown][] = [
    ['consultant', org.datevConsultantNumber],
    ['client', org.datevClientNumber],
    ['expense', org.datevExpenseAccount],
    ['clearing', org.datevClearingAccount],
    ['creditor', org.datevCreditorAccount],
    ['account length', org.datevAccountLength],
    ['fiscal year from month', org.datevFiscalYearStartMonth],
  ];
  const set = parts.filter(([, value]) => value !== undefined && value !== '').map(([label, value]) => `${label} ${String(value)}`);
  return set.length === 0 ? '–' : set.join(', ');
}

const MAX_REFUSED_CELL_CHARS = 300;

/**
 * The Arguments cell of a refused API request: why, and the shape of what was asked (its
 * summary). Older rows kept the raw request, possibly megabytes: cut so the table stays a table.
 */
function refusedArguments(args: unknown): string {
  const { refused, request, token: _token, role: _role, department: _department, ...rest } = (args ?? {}) as Record<string, unknown>;
  const parts = [`refused: ${String(refused ?? '')}`];
  const summary = (request ?? null) as { args?: number; options?: string[]; optionCount?: number; bytes?: number; sha256?: string } | null;
  if (summary && typeof summary.bytes === 'number') {
    const names = summary.options ?? [];
    const more = (summary.optionCount ?? names.length) - names.length;
    const options = names.length === 0 ? 'no options' : `options ${names.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
    parts.push(`asked: ${summary.args ?? 0} args, ${options}, ${summary.bytes.toLocaleString('en-US')} bytes, sha256 ${String(summary.sha256).slice(0, 12)}`);
  } else if (Object.keys(rest).length > 0 || request !== undefined) {
    parts.push(`asked: ${JSON.stringify(request === undefined ? rest : request)}`);
  }
  const text = parts.join('; ');
  return text.length > MAX_REFUSED_CELL_CHARS ? `${text.slice(0, MAX_REFUSED_CELL_CHARS - 1)}…` : text;
}

function prefix(data: { dryRun?: boolean; replayed?: boolean }, options: RenderOptions): string {
  const chalk = palette(options);
  if (data.dryRun) return chalk.cyan('dry run, nothing written: ');
  if (data.replayed) return chalk.dim('already done (same idempotency key): ');
  return '';
}

export const ledgerViews = {
  init(
    data: {
      created: boolean;
      organisation: string;
      timeZone: string;
      location: string;
      departments?: string[];
      demo: { departments: number; users: number; usageEvents: number } | null;
    },
    options: RenderOptions,
  ): string {
    const chalk = palette(options);
    if (!data.created) return `Ledger of ${data.organisation} already exists at ${data.location}; left as it is.`;
    const lines = [`${chalk.green('✔')} Created the ledger of ${chalk.bold(data.organisation)} at ${data.location} (time zone ${data.timeZone}).`];
    const departments = data.departments ?? [];
    if (departments.length > 0) {
      lines.push(`  Departments: ${departments.join(', ')}.`);
      lines.push('  Next: `credits buy standard --method card`, `credits transfer`, `credits balance`.');
    } else if (data.demo)
      lines.push(
        `  Demo data: ${data.demo.departments} departments, ${data.demo.users} users, purchases, transfers and ${data.demo.usageEvents.toLocaleString('en-US')} usage events over 90 days. Try \`credits balance\`.`,
      );
    else lines.push('  Next: `credits dept add NAME`, `credits buy standard --method card`, `credits balance`.');
    return lines.join('\n');
  },

  org(data: { organisation: Record<string, string | number> }, options: RenderOptions): string {
    const org = data.organisation;
    return table(
      options,
      [{ header: 'Setting' }, { header: 'Value' }],
      [
        ['Name', String(org.name)],
        ['Address', String(org.address || '–')],
        ['VAT id', String(org.vatId || '–')],
        ['Country', String(org.country || '–')],
        ['Leitweg-ID', String(org.leitwegId || '–')],
        ['SEPA mandate', String(org.sepaMandate || '–')],
        ['SEPA account', org.sepaIban ? groupIban(String(org.sepaIban)) : '–'],
        ['VAT rate', formatBasisPoints(Number(org.vatRateBasisPoints))],
        ['Time zone', String(org.timeZone)],
        ['Invoice prefix', String(org.invoicePrefix)],
        ['SMTP server', org.smtpUrl ? String(org.smtpUrl).replace(/\/\/[^@/]*@/, '//***@') : '–'],
        ['DATEV', datevSummary(org)],
      ],
    );
  },

  provider(
    data: {
      provider:
        | (Record<'name' | 'address' | 'vatId' | 'taxNumber' | 'iban' | 'bic' | 'bankName' | 'email' | 'country', string> & {
            vatRateBasisPoints: number;
            creditorId?: string;
            paymentTermDays?: string;
          })
        | null;
      dryRun?: boolean;
      replayed?: boolean;
    },
    options: RenderOptions,
  ): string {
    const provider = data.provider;
    if (provider === null) return 'No provider yet: invoices need one. Name it with `credits provider set --name ... --address ... --vat-id ...`.';
    const or = (value: string): string => value || '–';
    const rows = table(
      options,
      [{ header: 'Provider' }, { header: 'Value' }],
      [
        ['Name', provider.name],
        ['Address', or(provider.address)],
        ['VAT id', or(provider.vatId)],
        ['Country', provider.country],
        ['Tax number', or(provider.taxNumber)],
        ['IBAN', provider.iban ? groupIban(provider.iban) : '–'],
        ['BIC', or(provider.bic)],
        ['Bank', or(provider.bankName)],
        ['Email', or(provider.email)],
        ['Creditor id (SEPA)', or(provider.creditorId ?? '')],
        ['Payment term', `${provider.paymentTermDays || '14'} days`],
        ['VAT rate (domestic)', formatBasisPoints(provider.vatRateBasisPoints)],
      ],
    );
    const head = prefix(data, options);
    return head === '' ? rows : `${head.trimEnd()}\n${rows}`;
  },

  message(data: { message: string; dryRun?: boolean; replayed?: boolean }, options: RenderOptions): string {
    return `${prefix(data, options)}${data.message}`;
  },

  deptAdded(data: { department: string; costCenter: string | null; dryRun: boolean; replayed: boolean }, options: RenderOptions): string {
    return `${prefix(data, options)}Department ${data.department} added${data.costCenter ? ` (cost centre ${data.costCenter})` : ''}.`;
  },

  userAdded(data: { email: string; department: string; dryRun: boolean; replayed: boolean }, options: RenderOptions): string {
    return `${prefix(data, options)}User ${data.email} added to ${data.department}.`;
  },

  userMoved(data: { email: string; from: string; department: string; dryRun: boolean; replayed: boolean }, options: RenderOptions): string {
    return `${prefix(data, options)}User ${data.email} moved from ${data.from} to ${data.department}.`;
  },

  departments(data: { departments: { name: string; costCenter: string | null; millicredits: number; users: number }[] }, options: RenderOptions): string {
    if (data.departments.length === 0) return 'No departments yet. Add one with `credits dept add NAME`.';
    return table(
      options,
      [{ header: 'Department' }, { header: 'Cost centre' }, { header: 'Credits', align: 'right' }, { header: 'Users', align: 'right' }],
      data.departments.map((row) => [row.name, row.costCenter ?? '–', formatCredits(row.millicredits), String(row.users)]),
    );
  },

  department(
    data: {
      name: string;
      costCenter: string | null;
      millicredits: number;
      percentLeft: number | null;
      percentBaseMillicredits: number;
      overdraftFrom: string | null;
      overdraftMaxMillicredits: number;
      users: string[];
    },
    options: RenderOptions,
  ): string {
    return table(
      options,
      [{ header: data.name }, { header: '' }],
      [
        ['Cost centre', data.costCenter ?? '–'],
        ['Credits', formatCredits(data.millicredits)],
        ['Left this month', `${formatPercent(data.percentLeft)} of ${formatCredits(data.percentBaseMillicredits)}`],
        ['Overdraft', data.overdraftFrom ? `from ${data.overdraftFrom}, up to ${formatCredits(data.overdraftMaxMillicredits)}` : 'none'],
        ['Users', data.users.length ? data.users.join('\n') : '–'],
      ],
    );
  },

  users(data: { users: { email: string; department: string }[] }, options: RenderOptions): string {
    if (data.users.length === 0) return 'No users yet. Add one with `credits user add EMAIL --dept NAME`.';
    return table(
      options,
      [{ header: 'User' }, { header: 'Department' }],
      data.users.map((user) => [user.email, user.department]),
    );
  },

  packages(
    data: { packages: { displayName: string; credits: number; priceCents: number; discountPercent: number; note: string }[] },
    options: RenderOptions,
  ): string {
    const rows = data.packages.map((entry) => [
      entry.displayName,
      formatCredits(entry.credits * 1000, 0),
      formatEuros(entry.priceCents),
      entry.discountPercent ? `${entry.discountPercent}%` : '–',
      entry.note,
    ]);
    rows.push(['Custom', 'from 500,000', 'negotiated', 'individual', 'Dedicated account manager']);
    return `${table(options, [{ header: 'Package' }, { header: 'Credits', align: 'right' }, { header: 'Price', align: 'right' }, { header: 'Discount', align: 'right' }, { header: '' }], rows)}\nCard and PayPal credit at once; SEPA and invoice (from €1,000) when settled. Credits never expire.`;
  },

  purchase(data: Purchase, options: RenderOptions): string {
    const chalk = palette(options);
    const what = `${data.quantity > 1 ? `${data.quantity} × ` : ''}${data.packageName} package, ${formatCredits(data.millicredits)} credits for ${formatEuros(data.priceCents)}${data.discountBasisPoints ? ` (${formatBasisPoints(data.discountBasisPoints)} off)` : ''} by ${data.method}`;
    if (data.status === 'pending') {
      return `${prefix(data, options)}Purchase ${data.purchaseId}: ${what}. ${chalk.yellow('Pending')}: credits arrive in ${data.account} on \`credits purchases settle ${data.purchaseId}\`.`;
    }
    return `${prefix(data, options)}Purchase ${data.purchaseId}: ${what}. ${data.account} now holds ${chalk.bold(formatCredits(data.balanceMillicredits))} credits.`;
  },

  settled(
    data: { purchaseId: number; account: string; millicredits: number; balanceMillicredits: number; dryRun: boolean; replayed: boolean },
    options: RenderOptions,
  ): string {
    return `${prefix(data, options)}Purchase ${data.purchaseId} settled: ${formatCredits(data.millicredits)} credits into ${data.account}, which now holds ${formatCredits(data.balanceMillicredits)}.`;
  },

  purchases(data: PurchaseList, options: RenderOptions): string {
    if (data.purchases.length === 0) return 'No purchases yet. Buy a package with `credits buy standard --method card`.';
    const chalk = palette(options);
    return table(
      options,
      [
        { header: 'Id', align: 'right' },
        { header: 'Date' },
        { header: 'Package' },
        { header: 'Credits', align: 'right' },
        { header: 'Price', align: 'right' },
        { header: 'Method' },
        { header: 'Status' },
        { header: 'For' },
      ],
      data.purchases.map((row) => [
        String(row.id),
        formatLocalDateTime(row.createdAtMs, options.timeZone),
        row.packageName,
        formatCredits(row.millicredits),
        formatEuros(row.priceCents),
        row.method,
        row.status === 'pending' ? chalk.yellow(row.status) : row.status === 'cancelled' ? chalk.dim(row.status) : row.status,
        row.account,
      ]),
    );
  },

  transfer(data: Transfer, options: RenderOptions): string {
    return `${prefix(data, options)}Moved ${formatCredits(data.millicredits)} credits from ${data.from} to ${data.to}. ${data.from}: ${formatCredits(data.fromBalanceMillicredits)}${data.toBalanceMillicredits === null ? '' : `, ${data.to}: ${formatCredits(data.toBalanceMillicredits)}`}.`;
  },

  balances(data: Balances, options: RenderOptions): string {
    const chalk = palette(options);
    // The value column foots: the total rounded once, the accounts rounded to add up to it.
    const value = footCents(data.accounts.map((row) => row.millicredits));
    // Held and available appear while holds keep credits for calls in progress (`usage hold`).
    const withHolds = (data.totalHeldMillicredits ?? 0) > 0;
    const holdCells = (held: number, available: number): string[] => (withHolds ? [formatCredits(held), formatCredits(available)] : []);
    const rows = data.accounts.map((row, index) => [
      row.kind === 'org' ? chalk.bold('org (pool)') : row.account,
      row.costCenter ?? '',
      formatCredits(row.millicredits),
      ...holdCells(row.heldMillicredits ?? 0, row.availableMillicredits ?? row.millicredits),
      formatEuros(value.linesCents[index] ?? 0),
      percentColour(chalk, row.percentLeft, formatPercent(row.percentLeft)),
    ]);
    const totalHeld = data.totalHeldMillicredits ?? 0;
    rows.push([
      chalk.bold('Total'),
      '',
      chalk.bold(formatCredits(data.totalMillicredits)),
      ...holdCells(totalHeld, data.totalMillicredits - totalHeld),
      formatEuros(value.totalCents),
      '',
    ]);
    const title = data.asOfMs === null ? '' : `Balances as of ${formatLocalDateTime(data.asOfMs, options.timeZone)}\n`;
    const holdColumns = withHolds
      ? [
          { header: 'Held', align: 'right' as const },
          { header: 'Available', align: 'right' as const },
        ]
      : [];
    const columns = [
      { header: 'Account' },
      { header: 'Cost centre' },
      { header: 'Credits', align: 'right' as const },
      ...holdColumns,
      { header: 'Value', align: 'right' as const },
      { header: 'Left', align: 'right' as const },
    ];
    return `${title}${table(options, columns, rows)}`;
  },

  history(data: HistoryData, options: RenderOptions): string {
    if (data.transactions.length === 0) return 'No transactions match.';
    const listed = table(
      options,
      [{ header: 'Id', align: 'right' }, { header: 'Time' }, { header: 'Kind' }, { header: 'Moves' }, { header: 'Actor' }, { header: 'Memo' }],
      data.transactions.map((row) => {
        const out = row.entries.filter((entry) => entry.millicredits < 0).map((entry) => entry.account);
        const into = row.entries.filter((entry) => entry.millicredits > 0);
        const moved = into.reduce((sum, entry) => sum + entry.millicredits, 0);
        return [
          String(row.id),
          formatLocalDateTime(row.createdAtMs, options.timeZone),
          row.kind,
          `${formatCredits(moved)} ${out.join('+')} → ${into.map((entry) => entry.account).join('+')}`,
          row.actor,
          row.memo,
        ];
      }),
    );
    return `${listed.replace(/\n$/, '')}${moreLine(data)}`;
  },

  verify(data: VerifyData, options: RenderOptions): string {
    const chalk = palette(options);
    const since = data.sinceCheckpoint;
    const count = (value: number): string => value.toLocaleString('en-US');
    const summary = since
      ? `since the checkpoint of ${since.checkpointAt}: ${count(data.transactions)} transactions, ${count(data.entries)} entries, ${count(since.newEvents)} usage events, ${count(since.daysChecked)} days of totals, ${count(data.stateRecords)} state records; ${data.accounts} accounts`
      : `${count(data.transactions)} transactions, ${count(data.entries)} entries, ${data.accounts} accounts, ${count(data.stateRecords)} state records`;
    const head = `head: transaction ${data.head.transactionId}, state record ${data.head.stateSeq}, ${data.head.hash}`;
    if (data.ok && since) {
      return `${chalk.green('✔ ledger intact since the checkpoint')}: it extends the checkpoint, and what was written after it holds: hash chains, zero sums, balances (the checkpoint's plus the entries since), day totals and tracked tables (${summary}).\n  ${head}\n  older rows are checked by the full \`credits verify\` only`;
    }
    if (data.ok)
      return `${chalk.green('✔ ledger intact')}: hash chains, zero sums, balances, usage totals and every tracked table all hold (${summary}).\n  ${head}`;
    return [`${chalk.red('✘ ledger damaged')} (${summary}):`, ...data.problems.map((problem) => `  - ${problem.message}`)].join('\n');
  },

  /** The document itself, also on a terminal: it is made to be kept (`credits checkpoint > file`). */
  checkpoint(data: object): string {
    return JSON.stringify(data, null, 2);
  },

  signingKey(data: { path: string; publicKey: string }, options: RenderOptions): string {
    const chalk = palette(options);
    return `${chalk.green('✔ signing key written')} to ${data.path} (readable by you only)\n  public key: ${data.publicKey}\n  keep a copy away from the ledger's host: checkpoints verify only with this key`;
  },

  audit(data: AuditData, options: RenderOptions): string {
    if (data.entries.length === 0) return 'Nothing recorded yet.';
    return table(
      options,
      [{ header: 'Time' }, { header: 'Actor' }, { header: 'Command' }, { header: 'Arguments' }],
      data.entries.map((row) => [
        formatLocalDateTime(row.atMs, options.timeZone),
        row.actor,
        row.command,
        row.outcome === 'forbidden' ? refusedArguments(row.args) : JSON.stringify(row.args),
      ]),
    );
  },
};
