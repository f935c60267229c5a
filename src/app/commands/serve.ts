import { CreditsError } from '../../core/errors.js';
import { flagOption, stringOption } from '../parse.js';
import { defineCommand, type CommandSpec } from '../spec.js';

/**
 * What `serve` was given, as typed (defaults filled in): the server checks each value when it
 * starts (src/server/serveCommand.ts), after the command has found a server to run.
 */
export type ServeRequest = {
  listen: string;
  bodyLimit: string;
  tokenCache: string;
  grace: string;
  allowCommandChannels: boolean;
  /** Several servers, one ledger: where the others reach this one; unset: the only server. */
  advertiseUrl: string | undefined;
  /** The writer lease's length, in seconds as typed. */
  lease: string;
  /** A read replica of a remote ledger (reads while this server does not hold the writer lease). */
  replicaDb: string | undefined;
  /** The request log's level; undefined: info, or warn with --quiet. */
  logLevel: LogLevel | undefined;
};

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

function parseLogLevel(text: string | undefined): LogLevel | undefined {
  if (text === undefined) return undefined;
  if (!(LOG_LEVELS as readonly string[]).includes(text))
    throw new CreditsError('INVALID_VALUE', `--log-level "${text}" is not one of ${LOG_LEVELS.join(', ')}`, {
      hint: 'info logs one JSON line per request; warn (as --quiet) only failed ones',
    });
  return text as LogLevel;
}

/**
 * `credits serve`: the command is defined here with the others (help, completion, docs), and
 * the process that runs it supplies the server (main.ts gives `context.host.serve`): app/ never
 * imports the HTTP transport.
 */
export const serveCommands: CommandSpec[] = [
  defineCommand({
    name: 'serve',
    summary: 'serve the ledger over HTTP (JSON API for external systems and `--server` remote mode) until SIGTERM',
    ledger: 'existing',
    options: [
      { flags: '--listen <host:port>', description: 'where to listen', defaultValue: '127.0.0.1:8787' },
      { flags: '--body-limit <size>', description: 'largest request body, like 16mb (uploads of `usage import` over --server count)', defaultValue: '16mb' },
      {
        flags: '--token-cache <seconds>',
        description: 'how long a checked token is trusted before it is read again (revocations through this server apply at once)',
        defaultValue: '1',
      },
      { flags: '--grace <seconds>', description: 'on SIGTERM, how long requests in flight may take to finish', defaultValue: '10' },
      {
        flags: '--log-level <level>',
        description:
          'the request log (one JSON line per request on stdout): info logs every request, warn and error only failed ones (default: info, warn with --quiet)',
        choices: LOG_LEVELS,
      },
      {
        flags: '--advertise-url <url>',
        description:
          'run as one of several servers of one ledger: the URL the others reach this one at; the writer-lease holder writes, the others forward writes to it',
      },
      {
        flags: '--lease <seconds>',
        description:
          'with --advertise-url: how long the writer lease lasts unless renewed (the holder renews it with every write); a dead holder is replaced after it',
        defaultValue: '5',
      },
      {
        flags: '--replica-db <url>',
        description: 'with --advertise-url: a libSQL read replica of --db (token: CREDITS_DB_AUTH_TOKEN); reads see every write acknowledged before them',
      },
      {
        flags: '--allow-command-channels',
        description: "let admin tokens add `command` notification channels (shell commands run as the server's user) over the API",
      },
    ],
    examples: [
      'credits serve',
      'credits serve --listen 0.0.0.0:8787 --db /srv/credits/ledger.db',
      'CREDITS_DB=libsql://ledger.example.turso.io credits serve --listen :8080',
      'credits serve --allow-command-channels   # admins may add `notify channel add command CMD` over the API',
      'credits serve --log-level warn   # log only requests answered 4xx/5xx',
      'credits serve --db http://primary:8080 --replica-db http://replica-a:8080 --listen 0.0.0.0:8787 --advertise-url http://credits-a:8787',
    ],
    request: (input): ServeRequest => ({
      listen: stringOption(input, 'listen') ?? '127.0.0.1:8787',
      bodyLimit: stringOption(input, 'bodyLimit') ?? '16mb',
      tokenCache: stringOption(input, 'tokenCache') ?? '1',
      grace: stringOption(input, 'grace') ?? '10',
      allowCommandChannels: flagOption(input, 'allowCommandChannels'),
      advertiseUrl: stringOption(input, 'advertiseUrl'),
      lease: stringOption(input, 'lease') ?? '5',
      replicaDb: stringOption(input, 'replicaDb'),
      logLevel: parseLogLevel(stringOption(input, 'logLevel')),
    }),
    async run(input, context) {
      if (!context.host.serve) throw new CreditsError('USAGE', '`serve` runs only from the command line of the machine that holds the ledger');
      return context.host.serve(input, context);
    },
  }),
];
