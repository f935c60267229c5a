import type { Config } from '../config.js';
import { CreditsError } from '../core/errors.js';
import type { OrgSettings } from '../core/org.js';
import type { Database } from '../store/driver.js';
import type { MutationRequest } from '../store/mutation.js';
import { openLedger } from '../store/open.js';
import { readSettings } from '../store/orgRepo.js';
import type { CommandInput } from './spec.js';

export type Choice = { name: string; value: string; description?: string };

/** What a handler may use: the ledger, the clock, the actor, and prompts that respect the TTY rules. */
export class Context {
  private database: Database | undefined;
  private orgSettings: OrgSettings | undefined;

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
  ) {}

  get nowMs(): number {
    return this.config.nowMs ?? Date.now();
  }

  async db(): Promise<Database> {
    if (!this.database) {
      this.database = await openLedger(
        { location: this.config.ledgerLocation, authToken: this.config.authToken, busyTimeoutMs: this.config.busyTimeoutMs },
        { mayCreate: this.ledgerMode === 'create' },
      );
    }
    return this.database;
  }

  /** The organisation's settings; also proves the ledger was initialised. */
  async settings(): Promise<OrgSettings> {
    if (!this.orgSettings) {
      const db = await this.db();
      const { initialised, settings } = await readSettings(db);
      if (!initialised) {
        throw new CreditsError('LEDGER_NOT_FOUND', `${db.location} has no ledger yet`, { hint: 'run `credits init` first' });
      }
      this.orgSettings = settings;
    }
    return this.orgSettings;
  }

  async close(): Promise<void> {
    await this.database?.close();
    this.database = undefined;
  }

  mutation(input: CommandInput, args: Record<string, unknown>): MutationRequest {
    const key = input.options.idempotencyKey;
    if (typeof key === 'string' && (key.trim() === '' || key.length > 200)) {
      throw new CreditsError('INVALID_VALUE', '--idempotency-key must be 1-200 characters');
    }
    return {
      command: this.commandName,
      args,
      actor: this.config.actor,
      nowMs: this.nowMs,
      idempotencyKey: typeof key === 'string' ? key : undefined,
      dryRun: input.options.dryRun === true,
    };
  }

  /**
   * A value the command cannot go without: taken as given, asked for on a terminal, or refused
   * with the flag's name when nobody can answer (no TTY, CI, --yes, --json).
   */
  async need(value: string | undefined, ask: { flag: string; message: string; choices?: Choice[]; validate?: (text: string) => void }): Promise<string> {
    if (value !== undefined && value !== '') return value;
    if (!this.config.interactive) {
      throw new CreditsError('MISSING_FLAG', `${ask.flag} is required`, { hint: `pass ${ask.flag}; prompts appear only on a terminal without --yes, --json or CI` });
    }
    const prompts = await import('@inquirer/prompts');
    if (ask.choices && ask.choices.length > 0) {
      return prompts.select({ message: ask.message, choices: ask.choices });
    }
    return prompts.input({
      message: ask.message,
      validate: (text: string) => {
        try {
          ask.validate?.(text);
          return true;
        } catch (error) {
          return error instanceof Error ? error.message : String(error);
        }
      },
    });
  }

  /** Asks before moving credits on a terminal; off a terminal or with --yes it proceeds. */
  async confirm(summary: string): Promise<void> {
    if (!this.config.interactive) return;
    const prompts = await import('@inquirer/prompts');
    const ok = await prompts.confirm({ message: `${summary}. Go ahead?`, default: false });
    if (!ok) throw new CreditsError('CONFIRMATION_DECLINED', 'nothing was done: you declined', { hint: 'add --yes to skip the question' });
  }
}
