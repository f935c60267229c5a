import { execa } from 'execa';
import { join } from 'node:path';
// @ts-expect-error plain ESM shared with the benchmarks, no types
import { snapshotCli } from '../../bench/lib/util.mjs';
import type { RunResult } from '../helpers/cli.js';

/**
 * The stress suites run for minutes in a working tree where others rebuild dist/ (the build
 * empties it first): they run a copy of bin/, dist/ and migrations/ taken at the start
 * (bench/out/cli-PID/, as the benchmarks do). Also points bench/lib/util.mjs `cli` at it.
 */
export function takeCliSnapshot(): { bin: string; remove(): void } {
  const snapshot = snapshotCli() as { dir: string; remove(): void };
  return { bin: join(snapshot.dir, 'bin', 'credits.js'), remove: snapshot.remove };
}

export async function runBin(bin: string, args: string[], env: Record<string, string> = {}, input = ''): Promise<RunResult> {
  const result = await execa('node', [bin, ...args], { env: { ...env, CI: '1', NO_COLOR: '1' }, extendEnv: true, reject: false, input, timeout: 120_000 });
  const stdout = String(result.stdout);
  return { stdout, stderr: String(result.stderr), exitCode: result.exitCode ?? -1, json: <T>() => JSON.parse(stdout) as T };
}
