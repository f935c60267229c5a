import { createServer, type IncomingMessage, type Server } from 'node:http';
import { freePort } from './sqld.js';

/**
 * An HTTP proxy on loopback in front of sqld or `credits serve` that can lose answers: when a
 * request body matches `dropAnswerTo`, the request is forwarded, its answer awaited (so the write
 * happened), and then the caller's connection is cut instead of answering.
 */
export type DropProxy = {
  url: string;
  /** Requests whose body matches are forwarded but their answers lost, `times` times (Infinity for all). */
  dropAnswerTo(pattern: RegExp, times?: number): void;
  /** How many answers were lost so far. */
  dropped(): number;
  /** Every body seen, for diagnosis. */
  bodies(): string[];
  stop(): Promise<void>;
};

async function bodyOf(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startDropProxy(targetUrl: string): Promise<DropProxy> {
  let pattern: RegExp | undefined;
  let remaining = 0;
  let droppedCount = 0;
  const seen: string[] = [];
  const server: Server = createServer(async (request, response) => {
    try {
      const body = await bodyOf(request);
      const text = body.toString('utf8');
      seen.push(text.slice(0, 2000));
      const headers = Object.fromEntries(
        Object.entries(request.headers).filter(([name]) => !['host', 'content-length', 'connection'].includes(name)),
      ) as Record<string, string>;
      const answer = await fetch(`${targetUrl}${request.url ?? '/'}`, {
        method: request.method ?? 'GET',
        headers,
        ...(body.length > 0 ? { body } : {}),
      });
      const answerBody = Buffer.from(await answer.arrayBuffer());
      if (pattern?.test(text) && remaining > 0) {
        remaining -= 1;
        droppedCount += 1;
        request.socket.destroy();
        return;
      }
      response.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/octet-stream' });
      response.end(answerBody);
    } catch {
      request.socket.destroy();
    }
  });
  const port = await freePort();
  await new Promise<void>((resolveListen) => server.listen(port, '127.0.0.1', resolveListen));
  return {
    url: `http://127.0.0.1:${port}`,
    dropAnswerTo(match, times = 1) {
      pattern = match;
      remaining = times;
    },
    dropped: () => droppedCount,
    bodies: () => seen,
    stop: () =>
      new Promise<void>((resolveClose) => {
        server.closeAllConnections();
        server.close(() => resolveClose());
      }),
  };
}
