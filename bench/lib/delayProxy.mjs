// A TCP proxy on loopback that adds round-trip time: every chunk read from either side is
// written to the other side half the added RTT later (10 ms RTT = 5 ms each way), in the order it
// arrived on its connection. Bytes are not looked at, so HTTP, keep-alive and WebSockets (the
// libSQL client's ws:// and http://) pass alike. Used by bench/remoteWrites.mjs between a
// client and sqld.
//
//   const proxy = await startDelayProxy({ port: sqldPort, rttMs: 10 });
//   proxy.url   http://127.0.0.1:PORT (proxy.port for other schemes);  await proxy.stop()
//   proxy.stats { connections, up: { chunks, bytes }, down: { chunks, bytes } } so far
import { connect, createServer } from 'node:net';
import { performance } from 'node:perf_hooks';

/** Bytes held back in one direction before the sender is paused. */
const HIGH_WATER = 4 << 20;
const SLACK_MS = 1;

/**
 * Copies `source` to `destination` `delayMs` late. Chunks wait in a queue in arrival order;
 * one timer at a time, armed for the oldest, writes every chunk that is due. The end of the
 * stream is delayed the same way. Counts into `stats`.
 */
function pipeDelayed(source, destination, delayMs, stats) {
  const queue = [];
  let timer = null;
  let heldBytes = 0;
  let destinationFull = false;

  const maybeResume = () => {
    if (source.isPaused() && !destinationFull && heldBytes < HIGH_WATER && !source.destroyed) source.resume();
  };
  const deliver = (item) => {
    if (destination.destroyed) return;
    if (item.end) {
      destination.end();
      return;
    }
    if (!item.now) heldBytes -= item.chunk.length;
    if (!destination.write(item.chunk) && !destinationFull) {
      destinationFull = true;
      source.pause();
      destination.once('drain', () => {
        destinationFull = false;
        maybeResume();
      });
    }
  };
  const flush = () => {
    timer = null;
    // Timers count whole ms and fire a little late: a chunk due within SLACK_MS goes now, so the
    // added time is about the one asked for rather than 1-2 ms more.
    const now = performance.now() + SLACK_MS;
    while (queue.length > 0 && queue[0].dueMs <= now) deliver(queue.shift());
    maybeResume();
    arm();
  };
  const arm = () => {
    if (timer !== null || queue.length === 0) return;
    timer = setTimeout(flush, Math.max(0, Math.round(queue[0].dueMs - performance.now())));
  };
  const push = (item) => {
    queue.push(item);
    arm();
  };

  source.on('data', (chunk) => {
    stats.chunks += 1;
    stats.bytes += chunk.length;
    if (delayMs <= 0 && queue.length === 0) {
      deliver({ chunk, now: true });
      return;
    }
    heldBytes += chunk.length;
    if (heldBytes >= HIGH_WATER) source.pause();
    push({ dueMs: performance.now() + delayMs, chunk });
  });
  source.on('end', () => push({ dueMs: performance.now() + delayMs, end: true }));
  return {
    /** Forget what is still queued (the connection is gone). */
    drop() {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      queue.length = 0;
    },
  };
}

/**
 * Starts the proxy on a free port of 127.0.0.1, forwarding to `host`:`port` with `rttMs` of
 * added round-trip time (half each way). A connection whose either side fails or closes is
 * closed on the other side too, once what was queued towards it is delivered.
 */
export async function startDelayProxy({ host = '127.0.0.1', port, rttMs }) {
  const oneWayMs = rttMs / 2;
  // up: client to server (requests), down: server to client (answers).
  const stats = { connections: 0, up: { chunks: 0, bytes: 0 }, down: { chunks: 0, bytes: 0 } };
  const open = new Set();
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    stats.connections += 1;
    const upstream = connect({ host, port, allowHalfOpen: true, noDelay: true });
    client.setNoDelay(true);
    open.add(client);
    open.add(upstream);
    const up = pipeDelayed(client, upstream, oneWayMs, stats.up);
    const down = pipeDelayed(upstream, client, oneWayMs, stats.down);
    const closeLater = (socket, pipe) => {
      // Whatever was already sent towards `socket` arrives first, then it is closed.
      setTimeout(() => {
        pipe.drop();
        socket.destroy();
      }, oneWayMs + 1);
    };
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
    client.on('close', () => {
      open.delete(client);
      closeLater(upstream, up);
    });
    upstream.on('close', () => {
      open.delete(upstream);
      closeLater(client, down);
    });
  });
  await new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolveListen);
  });
  const listening = server.address().port;
  return {
    port: listening,
    url: `http://127.0.0.1:${listening}`,
    rttMs,
    stats,
    stop: () =>
      new Promise((resolveClose) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolveClose());
      }),
  };
}
