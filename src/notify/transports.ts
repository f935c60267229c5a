import { spawn } from 'node:child_process';
import { webhookKeyBytes } from '../core/webhookSecret.js';
import { nodeCrypto } from '../store/nodeCrypto.js';
import type { NotificationEvent } from '../store/notify/outbox.js';

export type Channel = { kind: 'webhook' | 'email' | 'command'; target: string; secret: string | null };
export type SendOptions = { smtpUrl: string; fromAddress: string; timeoutMs: number };

export const SIGNATURE_HEADER = 'x-credits-signature';
export const EVENT_ID_HEADER = 'x-credits-event-id';

/**
 * The three Standard Webhooks headers (standardwebhooks.com): the message id is the event id, the
 * same on every retry, so receivers de-duplicate on it; the timestamp is the send time in seconds
 * by the real clock (a receiver compares it with its own to refuse replays); the signature is
 * `v1,` + base64 HMAC-SHA256 of `id.timestamp.body` keyed with the secret's bytes.
 */
export function standardWebhookHeaders(secret: string, messageId: string, timestampS: number, body: string): Record<string, string> {
  const signed = `${messageId}.${timestampS}.${body}`;
  const signature = nodeCrypto().createHmac('sha256', webhookKeyBytes(secret)).update(signed).digest('base64');
  return { 'webhook-id': messageId, 'webhook-timestamp': String(timestampS), 'webhook-signature': `v1,${signature}` };
}

/** `sha256=<hex>` of the exact body bytes, keyed with the channel's secret (as GitHub and Stripe do). */
export function signBody(secret: string, body: string): string {
  return `sha256=${nodeCrypto().createHmac('sha256', secret).update(body).digest('hex')}`;
}

async function sendWebhook(channel: Channel, event: NotificationEvent, options: SendOptions): Promise<void> {
  const body = JSON.stringify(event);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'credits-notify', [EVENT_ID_HEADER]: event.id };
  if (channel.secret) {
    // x-credits-signature stays as it was for receivers that check it already.
    headers[SIGNATURE_HEADER] = signBody(channel.secret, body);
    Object.assign(headers, standardWebhookHeaders(channel.secret, event.id, Math.floor(Date.now() / 1000), body));
  }
  const response = await fetch(channel.target, { method: 'POST', headers, body, signal: AbortSignal.timeout(options.timeoutMs) });
  await response.arrayBuffer().catch(() => undefined);
  if (!response.ok) throw new Error(`HTTP ${response.status} from ${channel.target}`);
}

/**
 * The files a mail carries: the monthly report's statement and invoice copies (`data.attachments`),
 * or, for an event queued before invoices were attached, its one `data.path`.
 */
function attachedFiles(event: NotificationEvent): string[] {
  const { attachments, path } = event.data;
  if (Array.isArray(attachments)) return attachments.filter((file): file is string => typeof file === 'string');
  return typeof path === 'string' ? [path] : [];
}

async function sendEmail(channel: Channel, event: NotificationEvent, options: SendOptions): Promise<void> {
  if (!options.smtpUrl) throw new Error('no SMTP server: set one with `credits org set --smtp-url smtp://host:port`');
  const nodemailer = await import('nodemailer');
  // The timeouts go beside the URL in one configuration object: passed as createTransport's second
  // argument they were message defaults, and a silent server held a delivery for 30 s whatever --timeout said.
  const transport = nodemailer.createTransport({
    url: options.smtpUrl,
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
  });
  try {
    const report = attachedFiles(event).map((path) => ({ filename: path.split('/').pop() ?? 'report.pdf', path }));
    await transport.sendMail({
      from: options.fromAddress,
      to: channel.target,
      subject: `[credits] ${event.text.split('\n')[0]!.slice(0, 120)}`,
      text: `${event.text}\n\nEvent ${event.id} (${event.type}) at ${event.occurredAt}\n`,
      // The event id is the Message-ID, so a mail sent twice after a crash is the same message.
      messageId: `<${event.id}@credits.local>`,
      headers: { 'X-Credits-Event-Id': event.id, 'X-Credits-Event-Type': event.type },
      attachments: report,
    });
  } finally {
    transport.close();
  }
}

async function runCommand(channel: Channel, event: NotificationEvent, options: SendOptions): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', channel.target], {
      stdio: ['pipe', 'ignore', 'pipe'],
      env: { ...process.env, CREDITS_EVENT_ID: event.id, CREDITS_EVENT_TYPE: event.type },
      timeout: options.timeoutMs,
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-500);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`command exited with ${code ?? signal}${stderr.trim() ? `: ${stderr.trim()}` : ''}`));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(`${JSON.stringify(event)}\n`);
  });
}

/** Delivers one event to one channel; throws with a short reason when the receiver did not take it. */
export async function deliver(channel: Channel, event: NotificationEvent, options: SendOptions): Promise<void> {
  if (channel.kind === 'webhook') return sendWebhook(channel, event, options);
  if (channel.kind === 'email') return sendEmail(channel, event, options);
  return runCommand(channel, event, options);
}
