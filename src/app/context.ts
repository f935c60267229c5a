import type { Config } from '../config.js';
import { CreditsError } from '../core/errors.js';
import type { OrgSettings } from '../core/org.js';
import type { ProviderSettings } from '../core/provider.js';
import type { Database } from '../store/driver.js';
import type { MutationRequest } from '../store/mutation.js';
import { isRemoteLocation, openLedger } from '../store/open.js';
import { automaticIdempotencyKey, invocationNonce } from './idempotency.js';
import { scopedDatabase } from '../store/scope.js';
import { localPrincipal, type DepartmentScope, type Principal } from './principal.js';
import { readSettings } from '../store/orgRepo.js';
import type { CommandOutput, MutatingRequest } from './spec.js';
import type { Presenter } from './presenter.js';
import type { ServeRequest } from './commands/serve.js';

/** One answer of a question with choices (the CLI shows them with @inquirer/prompts). */
export type Choice = { name: string; value: string; description?: string; short?: string; disabled?: boolean | string };

/**
 * How a command asks a person: given by the transport. The CLI asks on its terminal; the
 * server, which has nobody to ask, gives none, and `canAsk` is then false whatever the config.
 */
export interface Interaction {
  select(message: string, choices: Choice[], defaultValue?: string): Promise<string>;
  text(message: string, options: { defaultValue?: string | undefined; validate?: ((text: string) => unknown) | undefined }): Promise<string>;
  yesNo(message: string, defaultValue: boolean): Promise<boolean>;
  /** Text typed without echo (a token). */
  secret(message: string): Promise<string>;
}

/** Services of the process that runs the command, given by the composition root (main.ts). */
export type Host = {
  /** Serves the ledger over HTTP until stopped (`credits serve`); absent where it cannot run. */
  serve?: (request: ServeRequest, context: Context) => Promise<CommandOutput>;
  /** Draws files and prompt labels (the render layer, which the application layer never imports). */
  presenter?: Presenter;
  /**
   * Writes to a remote ledger carry a key made by credits when none was given: the transport
   * prints it with an "outcome unknown" error (the CLI). The server leaves keys to its callers.
   */
  automaticKeys?: boolean;
  /** Shows a note of a migration just applied to the ledger (the CLI: on stderr, once). */
  note?: (text: string) => void;
};

/** What a handler may use: the ledger, the clock, the actor, and prompts that respect the TTY rules. */
export class Context {
  private database: Database | undefined;
  private orgSettings: OrgSettings | undefined;
  private orgProvider: ProviderSettings | null = null;

  constructor(
    readonly config: Config,
    readonly commandName: string,
    private readonly ledgerMode: 'none' | 'existing' | 'create',
    /** A status line for long work (stderr, on a terminal only); null clears it. Set by main. */
    readonly progress: (text: string | null) => void = () => undefined,
    /**
     * Shows what `produce` returns every `intervalMs`, in place on a terminal, until Ctrl-C or
     * SIGTERM; returns how many times it refreshed. Set by main, which owns the screen.
     */
    readonly live: (produce: () => Promise<{ view: string; data: object }>, intervalMs: number) => Promise<number> = async () => 0,
    private readonly interaction: Interaction | undefined = undefined,
    readonly host: Host = {},
    /** Who runs the command; the CLI on the ledger's machine is an unbound admin. */
    readonly principal: Principal = localPrincipal(config.actor),
  ) {}

  /** The principal's department scope, or null for the whole organisation. */
  get scope(): DepartmentScope | null {
    return this.principal.scope;
  }

  /** The transport's renderer of files and prompt labels. */
  get presenter(): Presenter {
    if (!this.host.presenter) throw new CreditsError('INTERNAL', 'a file was to be drawn where no renderer was given');
    return this.host.presenter;
  }

  private get asker(): Interaction {
    if (!this.interaction) throw new CreditsError('INTERNAL', 'a question was asked where nobody can answer');
    return this.interaction;
  }

  get nowMs(): number {
    return this.config.nowMs ?? Date.now();
  }

  /** The ledger as the principal sees it: every lookup through it checks the department scope. */
  async db(): Promise<Database> {
    const db = await this.ledger();
    return this.scope === null ? db : scopedDatabase(db, this.scope);
  }

  /** The ledger itself, opened on first use. */
  protected async ledger(): Promise<Database> {
    if (!this.database) {
      this.database = await openLedger(
        {
          location: this.config.ledgerLocation,
          authToken: this.config.authToken,
          busyTimeoutMs: this.config.busyTimeoutMs,
          timeoutMs: this.config.dbTimeoutMs,
        },
        { mayCreate: this.ledgerMode === 'create', onNote: this.host.note },
      );
    }
    return this.database;
  }

  /** The organisation's settings; also proves the ledger was initialised. */
  async settings(): Promise<OrgSettings> {
    if (!this.orgSettings) {
      const db = await this.db();
      const { initialised, settings, provider } = await readSettings(db);
      if (!initialised) {
        throw new CreditsError('LEDGER_NOT_FOUND', `${db.location} has no ledger yet`, { hint: 'run `credits init` first' });
      }
      this.orgSettings = settings;
      this.orgProvider = provider;
    }
    return this.orgSettings;
  }

  /** The provider (the seller on invoices), read with the settings; null until `provider set`. */
  async provider(): Promise<ProviderSettings | null> {
    await this.settings();
    return this.orgProvider;
  }

  async close(): Promise<void> {
    await this.database?.close();
    this.database = undefined;
  }

  /** The idempotency key this invocation's write carried when credits made it (a remote ledger). */
  automaticKey: string | undefined;
  /** Made on first use: a command that writes nothing remote needs none (and no node:crypto). */
  private nonceMade: string | undefined;
  private get nonce(): string {
    this.nonceMade ??= invocationNonce();
    return this.nonceMade;
  }

  mutation(from: MutatingRequest, args: Record<string, unknown>): MutationRequest {
    const { dryRun, idempotencyKey: given } = from;
    if (given !== undefined && (given.trim() === '' || given.length > 200)) {
      throw new CreditsError('INVALID_VALUE', '--idempotency-key must be 1-200 characters');
    }
    let key = given;
    if (key === undefined && !dryRun && this.host.automaticKeys === true && isRemoteLocation(this.config.ledgerLocation)) {
      key = automaticIdempotencyKey(this.commandName, args, this.nonce);
      this.automaticKey = key;
    }
    return { command: this.commandName, args, actor: this.config.actor, nowMs: this.nowMs, idempotencyKey: key, dryRun, requestId: this.config.requestId };
  }

  /** True when someone can answer a question: a terminal, no CI, no --yes, no --json. */
  get canAsk(): boolean {
    return this.config.interactive && this.interaction !== undefined;
  }

  /**
   * Refuses at once, naming every flag at fault, when values are missing and nobody can answer:
   * a script learns all it must add from one run instead of one flag per run.
   */
  demand(values: Record<string, string | undefined>): void {
    if (this.canAsk) return;
    const missing = Object.entries(values)
      .filter(([, value]) => value === undefined || value === '')
      .map(([flag]) => flag);
    if (missing.length === 0) return;
    const names = missing.length === 1 ? missing[0]! : `${missing.slice(0, -1).join(', ')} and ${missing[missing.length - 1]!}`;
    throw new CreditsError('MISSING_FLAG', `${names} ${missing.length === 1 ? 'is' : 'are'} required`, {
      hint: `pass ${names}; prompts appear only on a terminal without --yes, --json or CI`,
    });
  }

  /**
   * A value the command cannot go without: taken as given, asked for on a terminal, or refused
   * with the flag's name when nobody can answer (no TTY, CI, --yes, --json). Choices may be a
   * function so that lists read from the ledger are read only when a question is asked.
   */
  async need(
    value: string | undefined,
    ask: { flag: string; message: string; choices?: Choice[] | (() => Promise<Choice[]>); validate?: (text: string) => unknown; defaultValue?: string },
  ): Promise<string> {
    if (value !== undefined && value !== '') return value;
    this.demand({ [ask.flag]: value });
    const choices = typeof ask.choices === 'function' ? await ask.choices() : ask.choices;
    if (choices && choices.length > 0) return this.asker.select(ask.message, choices, ask.defaultValue);
    return this.asker.text(ask.message, { defaultValue: ask.defaultValue, validate: ask.validate });
  }

  /** A secret typed on the terminal without echo; only when canAsk. */
  async secret(message: string): Promise<string> {
    return this.asker.secret(message);
  }

  /** An optional question: asked on a terminal, otherwise the default is the answer. */
  async choose(message: string, choices: Choice[], defaultValue: string): Promise<string> {
    if (!this.canAsk) return defaultValue;
    return this.asker.select(message, choices, defaultValue);
  }

  /** Optional free text: asked on a terminal (validated), otherwise the default is the answer. */
  async text(message: string, options: { defaultValue: string; validate?: (text: string) => unknown }): Promise<string> {
    if (!this.canAsk) return options.defaultValue;
    return this.asker.text(message, options);
  }

  /**
   * Asks before moving credits on a terminal; off a terminal or with --yes it proceeds. The
   * summary's lines stay on screen with the answer, a record of what was agreed to.
   */
  async confirm(summary: string | string[], question = 'Go ahead?'): Promise<void> {
    if (!this.canAsk) return;
    const lines = typeof summary === 'string' ? [summary] : summary;
    const message = lines.length === 1 ? `${lines[0]}. ${question}` : `${lines.join('\n')}\n  ${question}`;
    const ok = await this.asker.yesNo(message, false);
    if (!ok) throw new CreditsError('CONFIRMATION_DECLINED', 'nothing was done: you declined', { hint: 'add --yes to skip the question' });
  }
}
