import type { Config } from '../config.js';
import { Context } from '../app/context.js';
import type { Principal } from '../app/principal.js';
import type { Database } from '../store/driver.js';
import { renderPresenter } from '../render/presenter.js';

/**
 * A command's context inside the server: the server's shared ledger (never opened or closed per
 * request), no terminal (no prompts, no confirmations, no progress), and the caller as principal.
 */
export class ServerContext extends Context {
  constructor(
    config: Config,
    commandName: string,
    private readonly shared: Database,
    principal: Principal,
  ) {
    super(config, commandName, 'existing', undefined, undefined, undefined, { presenter: renderPresenter }, principal);
  }

  protected override async ledger(): Promise<Database> {
    return this.shared;
  }

  override async close(): Promise<void> {
    // The server owns the ledger and closes it when it stops.
  }
}

/** The server's configuration as one request sees it: who acts, never interactive. */
export function requestConfig(base: Config, actor: string, requestId?: string): Config {
  return { ...base, actor, requestId, json: true, yes: true, quiet: true, color: false, interactive: false, pager: false };
}
