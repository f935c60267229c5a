import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { BIN, SEED_COMMANDS } from './cli.js';
import { startRestartableSqld } from './sqld.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A seeded ledger file that seededLedger('local') copies. */
    seededLocalTemplate: string;
    /** A stopped sqld's data folder holding a seeded ledger, that seededLedger('remote') copies. */
    seededRemoteTemplate: string;
  }
}

function seed(location: string): void {
  // As runCli(): no signing key or login from the developer's own config.
  const { CREDITS_SIGNING_KEY: _ignored, ...inherited } = process.env;
  const env = { ...inherited, XDG_CONFIG_HOME: join(tmpdir(), 'credits-tests-no-config'), CI: '1', NO_COLOR: '1' };
  for (const args of SEED_COMMANDS) execFileSync('node', [BIN, '--db', location, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** globalSetup of the e2e-local project: one seeded ledger file. */
export function setupLocalTemplate(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'credits-seed-'));
  const file = join(dir, 'ledger.db');
  seed(file);
  project.provide('seededLocalTemplate', file);
  return () => rmSync(dir, { recursive: true, force: true });
}

/** globalSetup of the e2e-remote project: a seeded sqld, stopped, whose folder is copied. */
export async function setupRemoteTemplate(project: TestProject): Promise<() => void> {
  const sqld = await startRestartableSqld();
  try {
    seed(sqld.wsUrl);
  } catch (error) {
    await sqld.stop();
    throw error;
  }
  const dir = mkdtempSync(join(tmpdir(), 'credits-seed-sqld-'));
  await sqld.halt();
  cpSync(sqld.dir, dir, { recursive: true });
  await sqld.stop();
  project.provide('seededRemoteTemplate', dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
