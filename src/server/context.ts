import type { Config } from '../config.js';
import { Context } from '../app/context.js';
import type { Database } from '../store/driver.js';

/**
 * A command's context inside the server: the server's shared ledger (never opened or closed per
 * request), no terminal (no prompts, no confirmations, no progress), and the caller as actor.
 */
export class ServerContext extends Context {
  constructor(
    config: Config,
    commandName: string,
    private readonly ledger: Database,
  ) {
    super(config, commandName, 'existing');
  }

  override async db(): Promise<Database> {
    return this.ledger;
  }

  override async close(): Promise<void> {
    // The server owns the ledger and closes it when it stops.
  }
}

/** The server's configuration as one request sees it: who acts, never interactive. */
export function requestConfig(base: Config, actor: string): Config {
  return { ...base, actor, json: true, yes: true, quiet: true, color: false, interactive: false };
}
