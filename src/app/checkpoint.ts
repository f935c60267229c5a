/**
 * Checkpoints: the ledger's head signed with an Ed25519 key kept outside the ledger, so someone
 * who can rewrite the database cannot rewrite a checkpoint sent away earlier. `verify
 * --since-checkpoint` proves today's chains extend a checkpoint's head and checks what was
 * written since from the state it commits to (store/verifySince.ts).
 */
import type { KeyObject } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Config } from '../config.js';
import { CreditsError } from '../core/errors.js';
import type { CheckpointState } from '../store/checkpointState.js';
import type { LedgerHead } from '../store/ledgerHead.js';
import { nodeCrypto } from '../store/nodeCrypto.js';

/**
 * v2 adds `state` (balances, day-total digests, the last usage event): what `verify
 * --since-checkpoint` starts from. A v1 checkpoint is recognised and refused with a hint.
 */
export const CHECKPOINT_FORMAT = 'credits-checkpoint-v2';
const OLD_FORMATS = ['credits-checkpoint-v1'];

export type Checkpoint = {
  format: typeof CHECKPOINT_FORMAT;
  head: LedgerHead;
  state: CheckpointState;
  /** When it was taken, ISO 8601 UTC. */
  at: string;
  /** The signer's Ed25519 public key: the raw 32 bytes, base64url (a JWK's `x`). */
  publicKey: string;
  /** Ed25519 over signedText(), base64. */
  signature: string;
};

export type SigningKey = { privateKey: KeyObject; publicKey: string; source: string };

const NO_KEY_HINT = 'run `credits checkpoint --init-key` once, or set CREDITS_SIGNING_KEY to an Ed25519 private key (PEM)';

function parsePrivateKey(text: string, source: string): KeyObject {
  const crypto = nodeCrypto();
  try {
    const trimmed = text.trim();
    const key = trimmed.startsWith('-----BEGIN')
      ? crypto.createPrivateKey(trimmed)
      : crypto.createPrivateKey({ key: Buffer.from(trimmed, 'base64'), format: 'der', type: 'pkcs8' });
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`a ${key.asymmetricKeyType} key`);
    return key;
  } catch (error) {
    throw new CreditsError('SIGNING_KEY_MISSING', `${source} is not an Ed25519 private key (${(error as Error).message})`, { hint: NO_KEY_HINT });
  }
}

function publicKeyText(privateKey: KeyObject): string {
  const jwk = nodeCrypto().createPublicKey(privateKey).export({ format: 'jwk' });
  return String(jwk.x);
}

/** CREDITS_SIGNING_KEY, else the key file; undefined when neither is there. */
export function configuredSigningKey(config: Config): SigningKey | undefined {
  if (config.signingKeyText !== undefined) {
    const privateKey = parsePrivateKey(config.signingKeyText, 'CREDITS_SIGNING_KEY');
    return { privateKey, publicKey: publicKeyText(privateKey), source: 'CREDITS_SIGNING_KEY' };
  }
  if (!existsSync(config.signingKeyPath)) return undefined;
  const privateKey = parsePrivateKey(readFileSync(config.signingKeyPath, 'utf8'), `the key file ${config.signingKeyPath}`);
  return { privateKey, publicKey: publicKeyText(privateKey), source: config.signingKeyPath };
}

export function requireSigningKey(config: Config): SigningKey {
  const key = configuredSigningKey(config);
  if (!key)
    throw new CreditsError('SIGNING_KEY_MISSING', `no checkpoint signing key: CREDITS_SIGNING_KEY is unset and ${config.signingKeyPath} does not exist`, {
      hint: NO_KEY_HINT,
    });
  return key;
}

/** Writes a new key file readable by its owner only; an existing file is never replaced. */
export function initSigningKey(config: Config): { path: string; publicKey: string } {
  const path = config.signingKeyPath;
  const { privateKey } = nodeCrypto().generateKeyPairSync('ed25519');
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new CreditsError('SIGNING_KEY_EXISTS', `${path} already exists; it is kept as it is`, {
        hint: 'checkpoints signed with it verify only with it: move it away yourself if you really mean to replace it',
      });
    }
    throw error;
  }
  try {
    writeSync(fd, pem);
  } finally {
    closeSync(fd);
  }
  return { path, publicKey: publicKeyText(privateKey) };
}

/** The exact text a signature covers: every field but the signature, in a fixed order. */
function signedText(checkpoint: Omit<Checkpoint, 'signature'>): string {
  const { head, state } = checkpoint;
  const sorted = (record: Record<string, string>): [string, string][] => Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify({
    format: checkpoint.format,
    head: { transactionId: head.transactionId, transactionHash: head.transactionHash, stateSeq: head.stateSeq, stateHash: head.stateHash, hash: head.hash },
    state: {
      lastEventId: state.lastEventId,
      lastEventHash: state.lastEventHash,
      timeZone: state.timeZone,
      balances: sorted(state.balances),
      dayTotals: sorted(state.dayTotals),
    },
    at: checkpoint.at,
    publicKey: checkpoint.publicKey,
  });
}

export function signCheckpoint(head: LedgerHead, state: CheckpointState, nowMs: number, key: SigningKey): Checkpoint {
  const unsigned = { format: CHECKPOINT_FORMAT, head, state, at: new Date(nowMs).toISOString(), publicKey: key.publicKey } as const;
  const signature = nodeCrypto()
    .sign(null, Buffer.from(signedText(unsigned)), key.privateKey)
    .toString('base64');
  return { ...unsigned, signature };
}

const HASH = /^[0-9a-f]{64}$/;

function isHead(value: unknown): value is LedgerHead {
  const head = value as Partial<LedgerHead> | null;
  return (
    typeof head === 'object' &&
    head !== null &&
    Number.isSafeInteger(head.transactionId) &&
    (head.transactionId ?? -1) >= 0 &&
    Number.isSafeInteger(head.stateSeq) &&
    (head.stateSeq ?? -1) >= 0 &&
    [head.transactionHash, head.stateHash, head.hash].every((hash) => typeof hash === 'string' && HASH.test(hash))
  );
}

const isTextRecord = (value: unknown, pattern: RegExp): value is Record<string, string> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((item) => typeof item === 'string' && pattern.test(item));

function isState(value: unknown): value is CheckpointState {
  const state = value as Partial<CheckpointState> | null;
  return (
    typeof state === 'object' &&
    state !== null &&
    Number.isSafeInteger(state.lastEventId) &&
    (state.lastEventId ?? -1) >= 0 &&
    typeof state.lastEventHash === 'string' &&
    (state.lastEventHash === '' || HASH.test(state.lastEventHash)) &&
    typeof state.timeZone === 'string' &&
    isTextRecord(state.balances, /^-?\d+$/) &&
    isTextRecord(state.dayTotals, /^[0-9a-f]{32}$/)
  );
}

/** Reads a checkpoint document; anything else is INVALID_CHECKPOINT naming where it came from. */
export function parseCheckpoint(text: string, source: string): Checkpoint {
  let value: Partial<Checkpoint>;
  try {
    value = JSON.parse(text) as Partial<Checkpoint>;
  } catch {
    throw new CreditsError('INVALID_CHECKPOINT', `--since-checkpoint ${source} is not JSON`, { hint: 'pass the output of `credits checkpoint`' });
  }
  if (typeof value === 'object' && value !== null && OLD_FORMATS.includes(String(value.format))) {
    throw new CreditsError(
      'INVALID_CHECKPOINT',
      `--since-checkpoint ${source} is a ${String(value.format)} checkpoint: it lacks the balances and day totals an incremental verify starts from`,
      { hint: 'run the full `credits verify` once, then write a new checkpoint with `credits checkpoint` and use that one' },
    );
  }
  const valid =
    typeof value === 'object' &&
    value !== null &&
    value.format === CHECKPOINT_FORMAT &&
    isHead(value.head) &&
    isState(value.state) &&
    typeof value.at === 'string' &&
    typeof value.publicKey === 'string' &&
    typeof value.signature === 'string';
  if (!valid) {
    throw new CreditsError('INVALID_CHECKPOINT', `--since-checkpoint ${source} is not a credits checkpoint (format, head, state, at, publicKey, signature)`, {
      hint: 'pass the output of `credits checkpoint`',
    });
  }
  return value as Checkpoint;
}

/** Why the checkpoint's signature is not to be trusted with this key (null when it is). */
export function whyUntrusted(checkpoint: Checkpoint, key: SigningKey): string | null {
  if (checkpoint.publicKey !== key.publicKey) {
    return `the checkpoint was signed with another key (${checkpoint.publicKey}) than the configured one (${key.publicKey}, from ${key.source})`;
  }
  const crypto = nodeCrypto();
  const publicKey = crypto.createPublicKey(key.privateKey);
  const { signature, ...unsigned } = checkpoint;
  const valid = crypto.verify(null, Buffer.from(signedText(unsigned)), publicKey, Buffer.from(signature, 'base64'));
  return valid ? null : 'the checkpoint signature does not match its content: the checkpoint was altered';
}
