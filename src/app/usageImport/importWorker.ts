// The parse thread of an import (see importThread.ts), built to dist/importWorker.cjs: reads the
// source, parses it with the same code as a one-thread import and sends each batch back in the
// compact form of importWire.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { isCreditsError } from '../../core/errors.js';
import { openStream, parseUsageChunks } from './importSource.js';
import { encodeBatch, PARSED_AHEAD, type FromParser, type ParserInput } from './importWire.js';

const port = parentPort!;
const { path, options } = workerData as ParserInput;
let unacknowledged = 0;
let acknowledged: (() => void) | undefined;

port.on('message', () => {
  unacknowledged -= 1;
  acknowledged?.();
});

function send(message: FromParser, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

async function parseAll(): Promise<void> {
  try {
    for await (const items of parseUsageChunks(openStream(path), options)) {
      const batch = encodeBatch(items);
      send({ type: 'batch', batch }, [batch.numbers.buffer as ArrayBuffer]);
      unacknowledged += 1;
      while (unacknowledged >= PARSED_AHEAD) await new Promise<void>((resolveAck) => (acknowledged = resolveAck));
    }
    send({ type: 'done' });
  } catch (error) {
    if (isCreditsError(error)) send({ type: 'fail', code: error.code, message: error.message, hint: error.hint });
    else
      send({
        type: 'fail',
        code: 'INTERNAL',
        message: `the import's parse thread failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
        hint: undefined,
      });
  }
}

void parseAll();
