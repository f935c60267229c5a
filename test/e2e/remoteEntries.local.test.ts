import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startSqld, type Sqld } from '../helpers/sqld.js';

/**
 * A remote ledger is reached through @libsql/client's /http and /ws entries only: the package's
 * main entry would also load the `libsql` package and its native addon, which a remote ledger
 * never needs. Node's own module log (NODE_DEBUG=module) names every file the CLI loads.
 */
function loadedFiles(stderr: string): string[] {
  return [...stderr.matchAll(/^MODULE \d+: load "([^"]+)" for module/gm)].map((match) => match[1]!);
}

describe('the libSQL client on a remote ledger', () => {
  let sqld: Sqld;
  beforeAll(async () => {
    sqld = await startSqld();
  });
  afterAll(async () => {
    await sqld?.stop();
  });

  it.each([
    { scheme: 'http://', url: () => sqld.httpUrl, args: ['init', '--org', 'Entries GmbH'], entry: 'http' },
    { scheme: 'ws://', url: () => sqld.wsUrl, args: ['balance', '--json'], entry: 'ws' },
    // libsql:// is a WebSocket (wss://, or ws:// with ?tls=0), as the main entry made it.
    { scheme: 'libsql://', url: () => `libsql://127.0.0.1:${sqld.port}?tls=0`, args: ['verify', '--json'], entry: 'ws' },
  ])('$scheme loads @libsql/client/$entry and no native addon', async ({ url, args, entry }) => {
    const result = await runCli(['--db', url(), ...args], { NODE_DEBUG: 'module' });
    expect(result.exitCode, result.stderr.slice(-2000)).toBe(0);
    const loaded = loadedFiles(result.stderr);
    expect(loaded).toContainEqual(expect.stringMatching(new RegExp(`/@libsql/client/lib-cjs/${entry}\\.js$`)));
    expect(loaded.filter((file) => /\/@libsql\/client\/lib-cjs\/(node|sqlite3)\.js$|\/node_modules\/libsql\/|\/@libsql\/linux-|\.node$/.test(file))).toEqual(
      [],
    );
  });
});
