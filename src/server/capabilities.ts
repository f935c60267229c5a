import type { CommandInput } from '../app/spec.js';

/**
 * What a server lets its callers do beyond what their role allows, chosen by whoever starts
 * `credits serve` on the server's machine. The request handling reads these; it never rewrites
 * a caller's arguments to fit them.
 */
export type ServerCapabilities = {
  /**
   * May an API caller add a `command` notification channel? Such a channel is a shell command
   * that `notify test` and `notify run` execute as the server's user: remote code execution for
   * whoever can add one, so only with `credits serve --allow-command-channels`.
   */
  commandChannels: boolean;
};

/** Why a checked request needs a capability this server lacks, or null when it has them all. */
export function capabilityRefusal(command: string, input: CommandInput, capabilities: ServerCapabilities): string | null {
  const kind = (input.args[0] ?? '').trim().toLowerCase();
  if (command === 'notify channel add' && kind === 'command' && !capabilities.commandChannels) {
    return (
      "a `command` notification channel runs a shell command on the server's machine: " +
      'adding one over the API is refused unless the server was started with `credits serve --allow-command-channels`'
    );
  }
  return null;
}
