// Writes a JSON-lines file of usage events for `credits usage import`: several users in two
// departments, several models, features chat and summarize, unique eventIds, `at` spread evenly
// over one month (October 2025, UTC). Deterministic: the same count gives the same file.
import { createWriteStream } from 'node:fs';

export const DEPARTMENTS = ['Engineering', 'Marketing'];
export const USERS_PER_DEPARTMENT = 4;
const MODELS = ['gpt-4o-mini', 'claude-3-haiku', 'gpt-3.5-turbo', 'claude-3.5-sonnet', 'gpt-4o', 'llama-3.1-groq'];
const FEATURES = ['chat', 'summarize'];
const MONTH_START_MS = Date.UTC(2025, 9, 1);
const MONTH_MS = 31 * 24 * 3600 * 1000;
/** An event costs at most about 10.1 credits (gpt-4o, 1,549 in, 819 out, 2 tool calls). */
export const MAX_CREDITS_PER_EVENT = 11;

export function mulberry32(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The credits to buy per department so that no event of `count` is refused. */
export function creditsPerDepartment(count) {
  return Math.max(500_000, Math.ceil((count * MAX_CREDITS_PER_EVENT) / 1000) * 1000);
}

export function userEmails() {
  const users = [];
  DEPARTMENTS.forEach((dept, deptIndex) => {
    for (let index = 0; index < USERS_PER_DEPARTMENT; index += 1)
      users.push(`user${deptIndex * USERS_PER_DEPARTMENT + index + 1}@${dept.toLowerCase()}.bench.example`);
  });
  return users;
}

export async function writeEvents(file, count, { prefix = 'ev' } = {}) {
  const random = mulberry32(20251001);
  const users = userEmails();
  const out = createWriteStream(file);
  const step = MONTH_MS / count;
  let lines = [];
  for (let index = 0; index < count; index += 1) {
    const at = new Date(MONTH_START_MS + Math.floor(index * step)).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const event = {
      eventId: `${prefix}-${index.toString(36).padStart(5, '0')}`,
      user: users[Math.floor(random() * users.length)],
      model: MODELS[Math.floor(random() * MODELS.length)],
      inputTokens: 50 + Math.floor(random() * 1500),
      outputTokens: 20 + Math.floor(random() * 800),
      toolCalls: Math.floor(random() * 3),
      feature: FEATURES[Math.floor(random() * FEATURES.length)],
      at,
    };
    lines.push(JSON.stringify(event));
    if (lines.length === 10_000) {
      if (!out.write(`${lines.join('\n')}\n`)) await new Promise((resolveDrain) => out.once('drain', resolveDrain));
      lines = [];
    }
  }
  if (lines.length > 0) out.write(`${lines.join('\n')}\n`);
  await new Promise((resolveEnd, reject) => {
    out.once('error', reject);
    out.end(resolveEnd);
  });
}
