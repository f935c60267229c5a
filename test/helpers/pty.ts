import { spawn } from 'node:child_process';
import { BIN } from './cli.js';

/** Keys as a terminal sends them. */
export const KEY = { down: '\u001b[B', up: '\u001b[A', enter: '\r', backspace: '\u007f' } as const;

/** Colours, cursor moves and screen clears: what a person does not read as text. */
const ESCAPES = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[()][0-9A-Za-z]|\u001b[=>78]/g;

export function plainText(raw: string): string {
  return raw.replace(ESCAPES, '').replace(/\r/g, '');
}

/** The text so far, leaving out an escape sequence that has not fully arrived yet. */
function screenOf(raw: string): string {
  const last = raw.lastIndexOf('\u001b');
  if (last >= 0 && raw.length - last < 64) {
    const tail = raw.slice(last);
    ESCAPES.lastIndex = 0;
    const complete = tail.replace(ESCAPES, '') !== tail;
    if (!complete) return plainText(raw.slice(0, last));
  }
  return plainText(raw);
}

function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The environment of a person's shell: the test runner's own CI, NO_COLOR and FORCE_COLOR left
 * out (vitest may run with CI set, and prompts are refused when it is).
 */
export function shellEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && name !== 'CI' && name !== 'NO_COLOR' && name !== 'FORCE_COLOR') env[name] = value;
  }
  return env;
}

export type PtyExit = { exitCode: number; screen: string };

export type PtySession = {
  /**
   * Waits until `text` shows on the terminal after everything matched so far, and returns the
   * screen text from the previous match up to this one. Fails with the whole screen if the
   * program ends (or stalls for a long while) without showing it.
   */
  expect(text: string): Promise<string>;
  /** Types keys into the terminal. */
  type(keys: string): void;
  /** expect(prompt), then type(keys): one answer to one question. */
  answer(prompt: string, keys: string): Promise<string>;
  /** Waits for the program to end; the screen is everything it showed. */
  exit(): Promise<PtyExit>;
};

/**
 * Runs the built CLI on a real pseudo-terminal (util-linux `script`), so it sees a TTY on stdin
 * and stdout exactly as in a person's shell. CI, NO_COLOR and FORCE_COLOR of the test runner do
 * not leak in: prompts are refused when CI is set, and the caller decides about colour.
 */
export function startPty(location: string, args: string[], options: { env?: Record<string, string>; columns?: number; rows?: number } = {}): PtySession {
  const env = { ...shellEnvironment(), TERM: 'xterm-256color', NO_COLOR: '1', ...options.env };
  // A pty made by `script` without a terminal of its own has no size; give it a usual one.
  const command = `stty cols ${options.columns ?? 120} rows ${options.rows ?? 40} 2>/dev/null; exec node ${[BIN, '--db', location, ...args].map(shellQuote).join(' ')}`;
  const child = spawn('/usr/bin/script', ['-qfec', command, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let raw = '';
  let consumed = 0;
  let ended = false;
  let waiter: (() => void) | undefined;
  const exited = new Promise<number>((resolve) => {
    child.on('close', (code, signal) => {
      ended = true;
      waiter?.();
      resolve(code ?? (signal ? 128 : -1));
    });
  });
  const onData = (chunk: Buffer): void => {
    raw += chunk.toString('utf8');
    waiter?.();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);

  const session: PtySession = {
    async expect(text) {
      // A guard against a hang, not a timing assertion: a question that never comes fails the test with what was on screen.
      const stall = setTimeout(() => {
        ended = true;
        waiter?.();
        child.kill('SIGKILL');
      }, 30_000);
      try {
        for (;;) {
          const screen = screenOf(raw);
          const at = screen.indexOf(text, consumed);
          if (at >= 0) {
            const seen = screen.slice(consumed, at + text.length);
            consumed = at + text.length;
            return seen;
          }
          if (ended) throw new Error(`the terminal never showed "${text}"; it showed:\n${screen}`);
          await new Promise<void>((resolve) => (waiter = resolve));
          waiter = undefined;
        }
      } finally {
        clearTimeout(stall);
      }
    },
    type(keys) {
      child.stdin.write(keys);
    },
    async answer(prompt, keys) {
      const seen = await session.expect(prompt);
      session.type(keys);
      return seen;
    },
    async exit() {
      const exitCode = await exited;
      child.stdin.end();
      return { exitCode, screen: plainText(raw) };
    },
  };
  return session;
}
