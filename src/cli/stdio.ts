import { fstatSync, writeSync } from 'node:fs';

/**
 * Whether `fd` is a terminal. node:tty loads net and the stream modules, so it is asked only
 * about a character device: a file, a pipe or a socket is no terminal.
 */
export function isTerminal(fd: 0 | 1 | 2): boolean {
  try {
    const stat = fstatSync(fd);
    if (!stat.isCharacterDevice()) return false;
    // Linux's memory devices (major 1: /dev/null, /dev/zero), where cron and CI point stdin.
    if (process.platform === 'linux' && ((stat.rdev >> 8) & 0xfff) === 1) return false;
  } catch {
    return false; // closed
  }
  return process.getBuiltinModule('node:tty').isatty(fd);
}

/**
 * Standard output and error for the command line, without Node's stream machinery until it is
 * needed. The first touch of process.stdout builds a stream and loads about 40 of Node's own
 * modules (streams, fs/promises, readline): 10-20 ms of a 200 ms start. A command that prints
 * one document into a file or a pipe needs none of it: its text goes out with a blocking write.
 * A terminal (colours, width, pager, in-place refresh) and anything that pipes a stream into
 * stdout get the real process stream, made then.
 */
/** Something to wait on for a moment (Atomics.wait), without a timer: the write is synchronous. */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

export class StandardOutput {
  readonly isTTY: boolean;
  private closed = false;

  constructor(private readonly fd: 1 | 2) {
    this.isTTY = isTerminal(fd);
  }

  /** The process's own stream (made on first use). */
  get real(): NodeJS.WriteStream {
    return this.fd === 1 ? process.stdout : process.stderr;
  }

  get columns(): number | undefined {
    return this.isTTY ? this.real.columns : undefined;
  }

  get rows(): number | undefined {
    return this.isTTY ? this.real.rows : undefined;
  }

  write(text: string | Uint8Array): boolean {
    if (this.isTTY) return this.real.write(text);
    if (this.closed) return true;
    const bytes = typeof text === 'string' ? Buffer.from(text) : text;
    for (let offset = 0; offset < bytes.length; ) {
      try {
        offset += writeSync(this.fd, bytes, offset, bytes.length - offset);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // A reader that closed the pipe (`| head -1`) has all it wanted: the rest goes nowhere.
        if (code === 'EPIPE') {
          this.closed = true;
          return true;
        }
        // A pipe its other end made non-blocking, and full: wait a little for the reader.
        if (code !== 'EAGAIN') throw error;
        Atomics.wait(PAUSE, 0, 0, 2);
      }
    }
    return true;
  }
}
