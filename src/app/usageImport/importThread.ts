import { Worker } from 'node:worker_threads';
import { CreditsError } from '../../core/errors.js';
import type { ImportItem } from '../../store/ops/usage.js';
import type { ParseOptions } from './importSource.js';
import { decodeBatch, type FromParser, type ParserInput } from './importWire.js';

/**
 * Reads and parses an import on a second thread (importWorker.ts) and yields its batches in
 * order while the caller posts the previous one. The worker reads the file (or standard input)
 * itself: this thread turns its event loop only between batches, too seldom to feed it. It runs
 * at most PARSED_AHEAD batches ahead, so memory stays flat. A fault of the source or of the
 * worker surfaces here, after the batches parsed before it.
 */
export async function* parseInThread(workerPath: string, path: string | null, options: ParseOptions): AsyncGenerator<ImportItem[]> {
  // The worker's garbage lives one batch: a small young generation keeps the import's peak
  // memory near that of one thread (about 210 MB instead of 250 MB for a million events).
  const worker = new Worker(workerPath, { workerData: { path, options } satisfies ParserInput, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
  const inbox: FromParser[] = [];
  let wake: (() => void) | undefined;
  const deliver = (message: FromParser): void => {
    inbox.push(message);
    wake?.();
  };
  worker.on('message', deliver);
  worker.on('error', (error) =>
    deliver({ type: 'fail', code: 'INTERNAL', message: `the import's parse thread failed: ${error.stack ?? error.message}`, hint: undefined }),
  );
  worker.on('exit', (code) => deliver({ type: 'fail', code: 'INTERNAL', message: `the import's parse thread stopped (exit code ${code})`, hint: undefined }));
  try {
    for (;;) {
      while (inbox.length === 0) await new Promise<void>((resolveWake) => (wake = resolveWake));
      const message = inbox.shift()!;
      if (message.type === 'done') return;
      if (message.type === 'fail') throw new CreditsError(message.code, message.message, message.hint === undefined ? {} : { hint: message.hint });
      worker.postMessage('ack');
      yield decodeBatch(message.batch);
    }
  } finally {
    worker.removeAllListeners('exit');
    await worker.terminate();
  }
}
