import { spawn } from 'node:child_process';
import { freePort } from '../helpers/sqld.js';

/**
 * `credits serve` from the stress suite's CLI snapshot (see snapshot.ts) on a free loopback
 * port, in front of `location` (a file or a libSQL URL). stop() sends SIGTERM and resolves with
 * the exit code; a server that does not stop within 30 s is killed and that is an error.
 */
export type StressServer = { url: string; pid: number; stderr(): string; exited(): boolean; stop(): Promise<number | null> };

export async function startStressServer(bin: string, location: string, env: Record<string, string> = {}, extraArgs: string[] = []): Promise<StressServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [bin, '--db', location, 'serve', '--listen', `127.0.0.1:${port}`, ...extraArgs], {
    env: { ...process.env, ...env, CI: '1', NO_COLOR: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let errorText = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    errorText = (errorText + chunk).slice(-20_000);
  });
  const exit = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (gone()) throw new Error(`credits serve exited with ${child.exitCode ?? child.signalCode}: ${errorText}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`credits serve did not answer /health at ${url}: ${errorText}`);
    }
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 50));
  }
  return {
    url,
    pid: child.pid as number,
    stderr: () => errorText,
    exited: gone,
    async stop() {
      if (!gone()) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      try {
        const code = await exit;
        if (child.signalCode === 'SIGKILL') throw new Error(`credits serve did not stop within 30 s of SIGTERM: ${errorText}`);
        return code;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
