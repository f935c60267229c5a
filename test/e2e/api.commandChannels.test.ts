import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededLedger, type Ledger } from '../helpers/cli.js';
import { createToken, startServer, type ApiServer } from './apiServer.js';

// A `command` notification channel is a shell command the server runs as its own user: over the
// API only when the server's operator started it with --allow-command-channels.

type Channel = { id: number; kind: string; target: string };
type AuditRow = { command: string; outcome: string; args: { refused?: string; token?: number; request?: { args: number; bytes: number; sha256: string } } };

const ADD = '/v1/commands/notify/channel/add';

describe('credits serve: command notification channels', () => {
  let ledger: Ledger;
  let admin: { token: string; tokenId: number };
  const servers: ApiServer[] = [];

  const channels = async (): Promise<Channel[]> => (await ledger.ok(['notify', 'channels', '--json'])).json<{ channels: Channel[] }>().channels;

  beforeAll(async () => {
    ledger = await seededLedger();
    admin = await createToken(ledger, ['--role', 'admin', '--name', 'root']);
  });

  afterAll(async () => {
    for (const server of servers) await server.stop();
    await ledger?.close();
  });

  it('refuses an admin token a command channel without the flag, names the flag, and audits the refusal', async () => {
    const server = await startServer(ledger);
    servers.push(server);
    const refused = await server.request('POST', ADD, { token: admin.token, body: { args: ['command', 'touch /tmp/credits-pwned'] } });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('FORBIDDEN');
    expect(refused.body.error.message).toContain('credits serve --allow-command-channels');
    // Not even as a dry run.
    const dryRun = await server.request('POST', ADD, { token: admin.token, body: { args: ['command', 'true'], options: { dryRun: true } } });
    expect(dryRun.status).toBe(403);
    expect(await channels()).toEqual([]);

    const audit = (await ledger.ok(['audit', '--json', '--limit', '50'])).json<{ entries: AuditRow[] }>().entries;
    const row = audit.find((entry) => entry.outcome === 'forbidden' && entry.command === 'notify channel add');
    expect(row?.args).toMatchObject({ token: admin.tokenId, refused: expect.stringContaining('--allow-command-channels'), request: { args: 2 } });
    expect(JSON.stringify(audit)).not.toContain('credits-pwned');

    // Remote mode goes through the API: the same rule, exit 8.
    const remote = await server.remote(admin.token, ['notify', 'channel', 'add', 'command', 'true']);
    expect(remote.exitCode).toBe(8);
    expect(remote.stderr).toContain('--allow-command-channels');
    expect(await channels()).toEqual([]);

    // Webhooks need no flag.
    const webhook = await server.request('POST', ADD, { token: admin.token, body: { args: ['webhook', 'https://hooks.example.com/credits'] } });
    expect(webhook.status).toBe(200);
    expect((await channels()).map((channel) => channel.kind)).toEqual(['webhook']);
  });

  it('lets the local CLI add a command channel', async () => {
    await ledger.ok(['notify', 'channel', 'add', 'command', 'cat > /dev/null']);
    expect((await channels()).filter((channel) => channel.kind === 'command').map((channel) => channel.target)).toEqual(['cat > /dev/null']);
  });

  it('adds a command channel over the API when the server allows it', async () => {
    const server = await startServer(ledger, ['--allow-command-channels']);
    servers.push(server);
    const added = await server.request('POST', ADD, { token: admin.token, body: { args: ['command', 'logger -t credits'] } });
    expect(added.status).toBe(200);
    expect((await channels()).map((channel) => channel.target)).toContain('logger -t credits');
  });
});
