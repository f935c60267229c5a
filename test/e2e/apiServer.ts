import { execa, type ResultPromise } from 'execa';
import { BIN, runCli, type Ledger, type RunResult } from '../helpers/cli.js';
import { type AnswerCheck, openApiAnswerCheck } from '../helpers/openapiCheck.js';
import { freePort } from '../helpers/sqld.js';

/** Shared by the api*.test.ts files: a `credits serve` child on a free loopback port. */
export type ApiServer = {
  url: string;
  /** fetch() against the server with a token (or none). */
  request(
    method: string,
    path: string,
    options?: { token?: string | null; body?: unknown; rawBody?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; body: any; text: string }>;
  /** The CLI in remote mode against this server. */
  remote(token: string, args: string[], options?: { env?: Record<string, string>; input?: string }): Promise<RunResult>;
  stderr(): string;
  /** SIGTERM, then the exit code and what it printed. */
  stop(): Promise<{ exitCode: number | undefined; stdout: string; stderr: string }>;
};

export async function startServer(ledger: Ledger, extraArgs: string[] = [], env: Record<string, string> = {}): Promise<ApiServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ResultPromise = execa('node', [BIN, '--db', ledger.location, 'serve', '--listen', `127.0.0.1:${port}`, '--token-cache', '0', ...extraArgs], {
    env: { ...env, CI: '1', NO_COLOR: '1' },
    extendEnv: true,
    reject: false,
    stdin: 'ignore',
    forceKillAfterDelay: 30_000,
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`credits serve exited with ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline) throw new Error(`credits serve did not answer /health at ${url}: ${stderr}`);
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  // Every answer the tests get is checked against the server's own description of its routes.
  // Read while the server surely runs: a test may stop it with requests in flight.
  const answerCheck: AnswerCheck = openApiAnswerCheck(await (await fetch(`${url}/openapi.json`)).json());
  const checkAnswer = (method: string, path: string, response: Response, body: unknown): void =>
    answerCheck(method, path, response.status, response.headers.get('content-type'), body);
  let stopped: Promise<{ exitCode: number | undefined; stdout: string; stderr: string }> | undefined;
  return {
    url,
    async request(method, path, options = {}) {
      const headers: Record<string, string> = { ...(options.headers ?? {}) };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      let body: string | undefined;
      if (options.rawBody !== undefined) body = options.rawBody;
      else if (options.body !== undefined) body = JSON.stringify(options.body);
      if (body !== undefined && headers['content-type'] === undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      checkAnswer(method, path, response, parsed);
      return { status: response.status, body: parsed, text };
    },
    remote(token, args, options = {}) {
      return runCli(
        args,
        { CREDITS_SERVER: url, CREDITS_TOKEN: token, CREDITS_DB: '/nonexistent/remote-mode-must-not-open-this.db', ...options.env },
        options.input,
      );
    },
    stderr: () => stderr,
    stop() {
      stopped ??= (async () => {
        child.kill('SIGTERM');
        const result = await child;
        if (result.exitCode === undefined) throw new Error(`credits serve ended by ${result.signal ?? 'a signal'}: ${stderr}`);
        return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
      })();
      return stopped;
    },
  };
}

/** Creates a token on the ledger directly (as an admin on the server's machine would) and returns it. */
export async function createToken(ledger: Ledger, args: string[], env: Record<string, string> = {}): Promise<{ token: string; tokenId: number }> {
  const result = await ledger.ok(['token', 'create', ...args, '--json'], { env });
  const data = result.json<{ token: string; tokenId: number }>();
  return { token: data.token, tokenId: data.tokenId };
}
