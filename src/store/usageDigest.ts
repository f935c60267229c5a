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
};

/** One line per event, fields in a fixed order, so verify can rebuild the digest from the rows. */
export function usageEventLine(facts: UsageEventFacts): string {
  return `${JSON.stringify(facts.eventId)}\t${facts.occurredAtMs}\t${facts.userId}\t${facts.departmentId}\t${facts.model}\t${facts.feature}\t${facts.inputTokens}\t${facts.outputTokens}\t${facts.toolCalls}\t${facts.images}\t${facts.imageSize}\t${facts.dbAccess}\t${facts.costMillicredits}\t${facts.drawnFromOrgMillicredits}\n`;
}

/** usageEventLine from the fields themselves, for the import's hot loop (no facts object per event). */
export function usageEventLineOf(
  eventId: string | null,
  occurredAtMs: number,
  userId: number,
  departmentId: number,
  model: string,
  feature: string,
  inputTokens: number,
  outputTokens: number,
  toolCalls: number,
  images: number,
  imageSize: string,
  dbAccess: number,
  costMillicredits: number,
  drawnFromOrgMillicredits: number,
): string {
  return `${JSON.stringify(eventId)}\t${occurredAtMs}\t${userId}\t${departmentId}\t${model}\t${feature}\t${inputTokens}\t${outputTokens}\t${toolCalls}\t${images}\t${imageSize}\t${dbAccess}\t${costMillicredits}\t${drawnFromOrgMillicredits}\n`;
}

/**
 * Running hash over the events of one usage transaction: the transaction's chain hash includes
 * it, so editing, adding or removing any event of the batch breaks the chain.
 */
export class UsageDigest {
  private readonly hash: Hash = nodeCrypto().createHash('sha256');
  private count = 0;
  /** Lines not yet hashed: one update per few hundred lines costs less than one per line, same digest. */
  private pending = '';

  add(line: string): void {
    this.pending += line;
    this.count += 1;
    if (this.pending.length >= 64 * 1024) this.flush();
  }

  detail(): string {
    this.flush();
    return `usage:${this.count}:${this.hash.digest('hex')}`;
  }

  private flush(): void {
    if (this.pending === '') return;
    this.hash.update(this.pending);
    this.pending = '';
  }
}
