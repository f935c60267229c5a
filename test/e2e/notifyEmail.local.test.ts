import { pdfText } from '../helpers/readBack.js';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshLedger, seededLedger, type Ledger } from '../helpers/cli.js';
import { freePort } from '../helpers/sqld.js';

type Mail = { from: string; to: string[]; headers: Map<string, string>; text: string; attachments: { filename: string; content: Buffer }[] };
type Event = { id: string; type: string; occurredAt: string; text: string; data: Record<string, unknown> };
type ChannelJson = { id: number; kind: string; pending: number; failing: boolean; lastError: string | null };

function decodeBody(body: string, encoding: string | undefined): Buffer {
  if (encoding?.toLowerCase() === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64');
  if (encoding?.toLowerCase() === 'quoted-printable') {
    const bytes: number[] = [];
    const text = body.replace(/=\r?\n/g, '');
    for (let index = 0; index < text.length; index += 1) {
      if (text[index] === '=' && /^[0-9A-F]{2}$/i.test(text.slice(index + 1, index + 3))) {
        bytes.push(parseInt(text.slice(index + 1, index + 3), 16));
        index += 2;
      } else bytes.push(...Buffer.from(text[index]!, 'utf8'));
    }
    return Buffer.from(bytes);
  }
  return Buffer.from(body, 'utf8');
}

/** Just enough MIME for what nodemailer sends: headers, a text part, attachments (one level of multipart). */
function parseMail(raw: string, envelope: { from: string; to: string[] }): Mail {
  const parsePart = (part: string) => {
    const split = part.indexOf('\r\n\r\n');
    const headers = new Map<string, string>();
    for (const line of part
      .slice(0, split)
      .replace(/\r\n[ \t]+/g, ' ')
      .split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    return { headers, body: part.slice(split + 4) };
  };
  const top = parsePart(raw);
  const mail: Mail = { ...envelope, headers: top.headers, text: '', attachments: [] };
  const boundary = /boundary="?([^";]+)"?/i.exec(top.headers.get('content-type') ?? '')?.[1];
  const parts = boundary
    ? top.body
        .split(`--${boundary}`)
        .slice(1, -1)
        .map((part) => parsePart(part.replace(/^\r\n/, '')))
    : [top];
  for (const part of parts) {
    const content = decodeBody(part.body, part.headers.get('content-transfer-encoding'));
    const filename = /filename="?([^";]+)"?/i.exec(part.headers.get('content-disposition') ?? '')?.[1];
    if (filename) mail.attachments.push({ filename, content });
    else if ((part.headers.get('content-type') ?? 'text/plain').startsWith('text/plain')) mail.text += content.toString('utf8');
  }
  return mail;
}

type Mailbox = { url: string; mails: Mail[]; close(): Promise<void> };

/** A real SMTP server (the npm package smtp-server) on 127.0.0.1, no auth, no TLS. */
async function startMailbox(): Promise<Mailbox> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const envelope = { from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((rcpt) => rcpt.address) };
        mails.push(parseMail(Buffer.concat(chunks).toString('utf8'), envelope));
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return { url: `smtp://127.0.0.1:${port}`, mails, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function readEvents(file: string): Event[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Event);
}

describe('email and command channels on a local ledger', () => {
  let ledger: Ledger;
  let mailbox: Mailbox;
  let dir: string;
  let eventsFile: string;
  let envFile: string;

  beforeAll(async () => {
    mailbox = await startMailbox();
    dir = mkdtempSync(join(tmpdir(), 'credits-notify-email-'));
    eventsFile = join(dir, 'events.jsonl');
    envFile = join(dir, 'env.txt');
    ledger = await seededLedger('local');
    await ledger.ok(['org', 'set', '--smtp-url', mailbox.url]);
    await ledger.ok(['notify', 'channel', 'add', 'email', 'finance@example.com']);
    await ledger.ok(['notify', 'channel', 'add', 'command', `cat >> '${eventsFile}'`]);
    await ledger.ok(['notify', 'channel', 'add', 'command', `printf '%s %s\\n' "$CREDITS_EVENT_ID" "$CREDITS_EVENT_TYPE" >> '${envFile}'`]);
  });
  afterAll(async () => {
    await ledger?.close();
    await mailbox?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('notify test reaches every channel: a mail whose Message-ID is the event id, the JSON on the command stdin', async () => {
    const test = await ledger.ok(['notify', 'test', '--json']);
    const { eventId, delivered } = test.json<{ eventId: string; delivered: number }>();
    expect(delivered).toBe(3);
    expect(mailbox.mails).toHaveLength(1);
    const [mail] = mailbox.mails;
    expect(mail!.to).toEqual(['finance@example.com']);
    expect(mail!.headers.get('message-id')).toBe(`<${eventId}@credits.local>`);
    expect(mail!.headers.get('x-credits-event-id')).toBe(eventId);
    expect(mail!.headers.get('from')).toContain('Test GmbH');
    expect(mail!.text).toContain('Test notification from credits');
    expect(readEvents(eventsFile)).toMatchObject([{ id: eventId, type: 'test', data: {} }]);
    expect(readFileSync(envFile, 'utf8')).toBe(`${eventId} test\n`);
  });

  it('a low-balance event arrives by mail with its text, and as one JSON line on the command', async () => {
    await ledger.ok(['transfer', '100', '--from', 'org', '--to', 'Engineering']);
    await ledger.ok(['usage', 'record', '--user', 'ada@example.com', '--model', 'llama-3.1-groq', '--tool-calls', '1700', '--quiet']); // 15 of 100 left
    const run = await ledger.ok(['notify', 'run', '--json']);
    expect(run.json()).toMatchObject({ delivered: 3, retrying: 0, failed: 0 });

    const events = readEvents(eventsFile);
    expect(events).toHaveLength(2);
    const event = events[1]!;
    expect(event).toMatchObject({ type: 'balance.low', data: { account: 'Engineering', levelPercent: 20, balanceMillicredits: 15_000 } });
    expect(event.text).toBe("Engineering is below 20% of this month's credits: 15.0 credits left of 100.0 (15.0%).");

    expect(mailbox.mails).toHaveLength(2);
    const mail = mailbox.mails[1]!;
    expect(mail.headers.get('message-id')).toBe(`<${event.id}@credits.local>`);
    expect(mail.headers.get('subject')).toBe(`[credits] ${event.text}`);
    expect(mail.headers.get('x-credits-event-type')).toBe('balance.low');
    expect(mail.text).toContain(event.text);
    expect(mail.text).toContain(event.id);
    expect(readFileSync(envFile, 'utf8').trim().split('\n').at(-1)).toBe(`${event.id} balance.low`);
  });

  it('a command that fails and an SMTP server that is gone are reported per channel, and notify test exits 6', async () => {
    await ledger.ok(['notify', 'channel', 'add', 'command', 'echo "disk full" >&2; exit 3']);
    await ledger.ok(['org', 'set', '--smtp-url', `smtp://127.0.0.1:${await freePort()}`]);
    const test = await ledger.run(['notify', 'test', '--json', '--timeout', '5']);
    expect(test.exitCode).toBe(6);
    expect(JSON.parse(test.stderr).error.code).toBe('DELIVERY_FAILED');
    const channels = (await ledger.ok(['notify', 'channels', '--json'])).json<{ channels: ChannelJson[] }>().channels;
    expect(channels.map((channel) => [channel.id, channel.kind, channel.failing, channel.pending])).toEqual([
      [1, 'email', true, 1],
      [2, 'command', false, 0],
      [3, 'command', false, 0],
      [4, 'command', true, 1],
    ]);
    expect(channels[0]!.lastError).toMatch(/ECONNREFUSED|connect/i);
    expect(channels[3]!.lastError).toBe('command exited with 3: disk full');
    expect(mailbox.mails).toHaveLength(2);
    expect(readEvents(eventsFile)).toHaveLength(3);
  });
});

describe('an SMTP server that never answers', () => {
  let ledger: Ledger;
  let silent: ReturnType<typeof createServer>;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    // Takes the connection and never sends its greeting: only our --timeout can end the wait.
    silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    ledger = await seededLedger('local');
    await ledger.ok(['org', 'set', '--smtp-url', `smtp://127.0.0.1:${(silent.address() as AddressInfo).port}`]);
    await ledger.ok(['notify', 'channel', 'add', 'email', 'finance@example.com']);
  });
  afterAll(async () => {
    await ledger?.close();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent?.close(() => resolve()));
  });

  it('is given up after --timeout, not after nodemailer’s own 30 s greeting wait', async () => {
    const startedMs = Date.now();
    const test = await ledger.run(['notify', 'test', '--json', '--timeout', '1']);
    const tookMs = Date.now() - startedMs;
    expect(test.exitCode).toBe(6);
    const channels = (await ledger.ok(['notify', 'channels', '--json'])).json<{ channels: ChannelJson[] }>().channels;
    // The greeting wait and the socket's idle wait both end after --timeout: either may fire first.
    expect(channels[0]!.lastError).toMatch(/greeting never received|^timeout$/i);
    // A coarse bound, far from both sides: 1 s asked for, 30 s when the option is lost.
    expect(tookMs).toBeLessThan(15_000);
  });
});

/** The calendar month before `ms` in Berlin (the ledger's default time zone), as YYYY-MM and an instant in it. */
function previousMonth(ms: number): { key: string; midMonth: string } {
  const [year, month] = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin', year: 'numeric', month: '2-digit' })
    .format(ms)
    .split('-')
    .map(Number) as [number, number];
  const previous = new Date(Date.UTC(year, month - 2, 15, 10));
  return { key: previous.toISOString().slice(0, 7), midMonth: previous.toISOString().replace('.000Z', 'Z') };
}

describe('the monthly report by email on a local ledger', () => {
  let ledger: Ledger;
  let mailbox: Mailbox;

  beforeAll(async () => {
    mailbox = await startMailbox();
    ledger = await freshLedger('local');
  });
  afterAll(async () => {
    await ledger?.close();
    await mailbox?.close();
  });

  it('attaches last month’s statement PDF to the mail, once', async () => {
    const { key, midMonth } = previousMonth(Date.now());
    const past = { env: { CREDITS_NOW: midMonth } };
    await ledger.ok(['init', '--org', 'Report GmbH'], past);
    await ledger.ok(['buy', 'basic', '--method', 'card'], past);
    await ledger.ok(['org', 'set', '--smtp-url', mailbox.url]);
    await ledger.ok(['notify', 'channel', 'add', 'email', 'controller@example.com']);

    const run = (await ledger.ok(['notify', 'run', '--json'])).json<{ monthlyReport: string; delivered: number }>();
    expect(run.monthlyReport).toBe(join(ledger.location, '..', 'reports', `statement-${key}.pdf`));
    expect(run.delivered).toBe(1);
    expect(mailbox.mails).toHaveLength(1);
    const [mail] = mailbox.mails;
    expect(mail!.to).toEqual(['controller@example.com']);
    expect(mail!.text).toContain(`The usage report for ${key} is ready`);
    expect(mail!.attachments.map((attachment) => attachment.filename)).toEqual([`statement-${key}.pdf`]);
    expect(mail!.attachments[0]!.content.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(mail!.attachments[0]!.content.equals(readFileSync(run.monthlyReport))).toBe(true);

    const again = (await ledger.ok(['notify', 'run', '--json'])).json<{ monthlyReport: string | null; delivered: number }>();
    expect(again).toMatchObject({ monthlyReport: null, delivered: 0 });
    expect(mailbox.mails).toHaveLength(1);
  });
});

describe('the monthly report mail with the month’s invoices on a local ledger', () => {
  let ledger: Ledger;
  let mailbox: Mailbox;
  let dir: string;

  beforeAll(async () => {
    mailbox = await startMailbox();
    dir = mkdtempSync(join(tmpdir(), 'credits-notify-invoices-'));
    ledger = await freshLedger('local');
  });
  afterAll(async () => {
    await ledger?.close();
    await mailbox?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('attaches the statement and a copy of each invoice and cancellation invoice of the month', async () => {
    const { key, midMonth } = previousMonth(Date.now());
    const past = { env: { CREDITS_NOW: midMonth } };
    await ledger.ok(['init', '--org', 'Kunde GmbH'], past);
    await ledger.ok(['org', 'set', '--address', 'Am Hafen 2\\n20457 Hamburg', '--vat-id', 'DE111222333'], past);
    await ledger.ok(['provider', 'set', '--name', 'Credits Anbieter GmbH', '--address', 'Hauptstr. 1\\n10115 Berlin', '--vat-id', 'DE123456789'], past);
    await ledger.ok(['buy', 'basic', '--method', 'card'], past);
    await ledger.ok(['buy', 'standard', '--method', 'card'], past);
    await ledger.ok(['invoice', '1', '--output', join(dir, 'first.pdf')], past);
    await ledger.ok(['invoice', '2', '--output', join(dir, 'second.pdf')], past);
    await ledger.ok(['invoice', 'cancel', 'INV-000001', '--reason', 'wrong buyer address'], past);
    const eventsFile = join(dir, 'events.jsonl');
    await ledger.ok(['org', 'set', '--smtp-url', mailbox.url]);
    await ledger.ok(['notify', 'channel', 'add', 'email', 'controller@example.com']);
    await ledger.ok(['notify', 'channel', 'add', 'command', `cat >> '${eventsFile}'`]);

    const run = (await ledger.ok(['notify', 'run', '--json'])).json<{ monthlyReport: string; monthlyInvoices: string[]; delivered: number }>();
    const reports = join(ledger.location, '..', 'reports');
    const names = [`statement-${key}.pdf`, 'invoice-INV-000001.pdf', 'invoice-INV-000002.pdf', 'invoice-INV-000003.pdf'];
    const paths = names.map((name) => join(reports, name));
    expect(run).toMatchObject({ monthlyReport: paths[0], monthlyInvoices: paths.slice(1), delivered: 2 });

    expect(mailbox.mails).toHaveLength(1);
    const { attachments } = mailbox.mails[0]!;
    expect(attachments.map((attachment) => attachment.filename)).toEqual(names);
    for (const [index, attachment] of attachments.entries()) expect(attachment.content.equals(readFileSync(paths[index]!))).toBe(true);
    const [statement, first, second, cancellation] = await Promise.all(attachments.map((attachment) => pdfText(attachment.content)));
    expect(statement).toContain('Credits statement');
    expect(statement).toContain('Kunde GmbH');
    for (const [text, number] of [
      [first, 'INV-000001'],
      [second, 'INV-000002'],
      [cancellation, 'INV-000003'],
    ] as const) {
      expect(text).toContain(number);
      expect(text).toContain('Kopie / Copy');
    }
    expect(cancellation).toContain('wrong buyer address');
    // The copy is the one `invoice show` prints.
    await ledger.ok(['invoice', 'show', 'INV-000003', '--output', join(dir, 'show.pdf')]);
    expect(await pdfText(readFileSync(join(dir, 'show.pdf')))).toBe(cancellation);

    const [event] = readEvents(eventsFile);
    expect(event!.data).toMatchObject({
      path: paths[0],
      attachments: paths,
      invoices: [
        { number: 'INV-000001', kind: 'invoice', path: paths[1] },
        { number: 'INV-000002', kind: 'invoice', path: paths[2] },
        { number: 'INV-000003', kind: 'cancellation', path: paths[3] },
      ],
    });
  });
});
