import type { Hash } from 'node:crypto';
import { nodeCrypto } from './nodeCrypto.js';

/** The facts of one posted usage event that its batch transaction's hash covers. */
export type UsageEventFacts = {
  eventId: string | null;
  occurredAtMs: number;
  userId: number;
  departmentId: number;
  model: string;
  feature: string;
  inputTokens: number;
  outputTokens: number;
  toolCalls: number;
  images: number;
  imageSize: string;
  dbAccess: number;
  costMillicredits: number;
  drawnFromOrgMillicredits: number;
  /** The stored tags text (JSON, keys sorted), null for an event without tags: such events hash as before tags existed. */
  tags: string | null;
};

const NUMBERS_PER_EVENT = 14;
const EVENTS_PER_BLOCK = 2048;
const BIG_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 0;

/**
 * Running hash over the events of one usage transaction: the transaction's chain hash includes
 * it, so editing, adding or removing any event of the batch breaks the chain. Events go in
 * blocks of EVENTS_PER_BLOCK: each block hashes its numbers as little-endian doubles (with the
 * length of each text, so the texts joined without separators still parse one way), then its
 * texts. Formatting every number of a million events as text took longer than the insert.
 */
export class UsageDigest {
  private readonly hash: Hash = nodeCrypto().createHash('sha256');
  /**
   * The tags of the tagged events, each with its place in the batch, hashed apart and added to
   * the detail only when the batch has any: batches without tags (every one written before tags
   * existed) keep the detail their hash was made with.
   */
  private tagHash: Hash | null = null;
  private readonly numbers = new Float64Array(EVENTS_PER_BLOCK * NUMBERS_PER_EVENT);
  private texts: string[] = [];
  private inBlock = 0;
  private count = 0;

  add(facts: UsageEventFacts): void {
    const numbers = this.numbers;
    let at = this.inBlock * NUMBERS_PER_EVENT;
    numbers[at++] = facts.occurredAtMs;
    numbers[at++] = facts.userId;
    numbers[at++] = facts.departmentId;
    numbers[at++] = facts.inputTokens;
    numbers[at++] = facts.outputTokens;
    numbers[at++] = facts.toolCalls;
    numbers[at++] = facts.images;
    numbers[at++] = facts.dbAccess;
    numbers[at++] = facts.costMillicredits;
    numbers[at++] = facts.drawnFromOrgMillicredits;
    numbers[at++] = facts.eventId === null ? -1 : facts.eventId.length;
    numbers[at++] = facts.model.length;
    numbers[at++] = facts.feature.length;
    numbers[at] = facts.imageSize.length;
    if (facts.eventId !== null) this.texts.push(facts.eventId);
    this.texts.push(facts.model, facts.feature, facts.imageSize);
    if (facts.tags !== null) {
      this.tagHash ??= nodeCrypto().createHash('sha256');
      // The place and the length make the joined texts parse one way.
      this.tagHash.update(`${this.count}:${facts.tags.length}:${facts.tags}`, 'utf8');
    }
    this.count += 1;
    this.inBlock += 1;
    if (this.inBlock === EVENTS_PER_BLOCK) this.flush();
  }

  detail(): string {
    this.flush();
    const tags = this.tagHash === null ? '' : `:tags:${this.tagHash.digest('hex')}`;
    return `usage2:${this.count}:${this.hash.digest('hex')}${tags}`;
  }

  private flush(): void {
    if (this.inBlock === 0) return;
    const bytes = Buffer.from(this.numbers.buffer, 0, this.inBlock * NUMBERS_PER_EVENT * 8);
    this.hash.update(BIG_ENDIAN ? Buffer.from(bytes).swap64() : bytes);
    this.hash.update(this.texts.join(''), 'utf8');
    this.texts = [];
    this.inBlock = 0;
  }
}

/**
 * The first form of the digest, one text line per event: usage transactions written before
 * `usage2` still verify against it (see verify.ts).
 */
export function textUsageDetail(events: Iterable<UsageEventFacts>): string {
  const hash = nodeCrypto().createHash('sha256');
  let count = 0;
  let pending = '';
  for (const facts of events) {
    pending += usageEventLine(facts);
    count += 1;
    if (pending.length >= 64 * 1024) {
      hash.update(pending);
      pending = '';
    }
  }
  if (pending !== '') hash.update(pending);
  return `usage:${count}:${hash.digest('hex')}`;
}

/** One line per event of the text digest, fields in a fixed order. */
export function usageEventLine(facts: UsageEventFacts): string {
  return `${JSON.stringify(facts.eventId)}\t${facts.occurredAtMs}\t${facts.userId}\t${facts.departmentId}\t${facts.model}\t${facts.feature}\t${facts.inputTokens}\t${facts.outputTokens}\t${facts.toolCalls}\t${facts.images}\t${facts.imageSize}\t${facts.dbAccess}\t${facts.costMillicredits}\t${facts.drawnFromOrgMillicredits}\n`;
}
