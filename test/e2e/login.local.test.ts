import { chmodSync, existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshLedger, removeDir, runCli, type Ledger } from '../helpers/cli.js';
import { createToken, startServer, type ApiServer } from './apiServer.js';

/**
 * `credits login` against a real `credits serve`: the login file (mode 0600) makes later
 * commands go through the server without --server or CREDITS_SERVER; flags and environment
 * still win; `logout` forgets it. Each run gets a home of its own (config and data), so neither
 * the developer's login nor a default ledger can answer in the server's place.
 */
describe('login and logout', () => {
  let ledger: Ledger;
  let server: ApiServer;
  let token: string;
  let home: string;
  let file: string;
  const env = (): Record<string, string> => ({ XDG_CONFIG_HOME: join(home, 'config'), XDG_DATA_HOME: join(home, 'data') });
  const credits = (args: string[], extra: Record<string, string> = {}, input?: string) => runCli(args, { ...env(), ...extra }, input);

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'credits-login-'));
    file = join(home, 'config', 'credits', 'config.json');
    ledger = await freshLedger('local');
    await ledger.ok(['init', '--org', 'Login GmbH']);
    token = (await createToken(ledger, ['--role', 'reader', '--name', 'laptop'])).token;
    server = await startServer(ledger);
  });
  afterAll(async () => {
    await server?.stop();
    await ledger?.close();
    if (home) removeDir(home);
  });

  it('refuses a bad token and a missing one, storing nothing', async () => {
    const bad = await credits(['login', '--server', server.url, '--token', 'ctk_1_not-the-secret']);
    expect(bad.exitCode).toBe(8);
    expect(bad.stderr).toMatch(/the server refused the token.*nothing was stored/);
    // No flag, no CREDITS_TOKEN, no terminal, nothing piped: exit 2, naming the flag.
    const none = await credits(['login', '--server', server.url]);
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toMatch(/--token is required/);
    expect(existsSync(file)).toBe(false);
  });

  it('stores server and token piped on stdin in a 0600 file; commands then run on the server; flags and environment win', async () => {
    const login = await credits(['login', '--server', `${server.url}/`], {}, `${token}\n`);
    expect(login.exitCode, login.stderr).toBe(0);
    expect(login.stdout).toContain(`Logged in to ${server.url} with API token 1 "laptop" (role reader`);
    expect(login.stdout).not.toContain(token);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'config', 'credits')).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ server: server.url, token });

    // No --db, no CREDITS_DB and no ledger in XDG_DATA_HOME: only the server can answer.
    const viaServer = await credits(['org', 'show', '--json']);
    expect(viaServer.exitCode, viaServer.stderr).toBe(0);
    expect(viaServer.json().organisation.name).toBe('Login GmbH');

    // The environment's server wins, and the stored token never goes to a server it was not stored for.
    const otherServer = await credits(['org', 'show'], { CREDITS_SERVER: 'http://127.0.0.1:9' });
    expect(otherServer.exitCode).toBe(8);
    expect(otherServer.stderr).toMatch(/CREDITS_TOKEN is not set: remote mode \(http:\/\/127\.0\.0\.1:9\)/);
    // A ledger named by the environment or a flag wins too: read directly, without the server.
    const direct = await credits(['org', 'show', '--json'], { CREDITS_DB: ledger.location });
    expect(direct.json().organisation.name).toBe('Login GmbH');
    expect((await credits(['--db', join(home, 'none.db'), 'org', 'show'])).exitCode).toBe(4);
  });

  it('refuses a login file others can read (exit 8), and logout removes it, twice without error', async () => {
    chmodSync(file, 0o644);
    const loose = await credits(['org', 'show']);
    expect(loose.exitCode).toBe(8);
    expect(loose.stderr).toMatch(/CONFIG_INSECURE.*can be read by others \(mode 0644\)/);
    const logout = await credits(['logout']);
    expect(logout.exitCode).toBe(0);
    expect(logout.stdout).toMatch(/Logged out: removed/);
    expect(existsSync(file)).toBe(false);
    const again = await credits(['logout']);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toMatch(/Not logged in/);
    // Logged out, the default local ledger is back: there is none in this home.
    expect((await credits(['org', 'show'])).exitCode).toBe(4);
  });
});
