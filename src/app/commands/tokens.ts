import { CreditsError } from '../../core/errors.js';
import { parseFreeText } from '../../core/names.js';
import { parseInstantInput } from '../../core/time.js';
import { ROLES, ROLE_SUMMARIES, isRole } from '../../core/roles.js';
import { createToken, listTokens, revokeToken } from '../../store/tokenStore.js';
import { parseId, stringOption } from '../parse.js';
import { defineCommand, mutatingRequest, type CommandSpec, type MutatingRequest } from '../spec.js';

/** What `token create` was given, as typed: a missing --role is asked for on a terminal. */
export type TokenCreateRequest = MutatingRequest & {
  role: string | undefined;
  department: string | undefined;
  expires: string | undefined;
  name: string | undefined;
};

/** The id as typed: it is read once the ledger is known to exist. */
export type TokenRevokeRequest = MutatingRequest & { id: string };

export const tokenCommands: CommandSpec[] = [
  defineCommand({
    name: 'token create',
    summary: 'create an API token for `credits serve`; it is printed once, only its hash is kept',
    ledger: 'existing',
    mutating: true,
    options: [
      { flags: '--role <role>', description: `what it may do: ${ROLES.map((role) => `${role} (${ROLE_SUMMARIES[role]})`).join('; ')}`, choices: ROLES },
      { flags: '--dept <name>', description: 'bind it to one department: it sees and acts on that department only', dynamic: 'departments' },
      { flags: '--expires <date>', description: 'last day it works (YYYY-MM-DD, through the end of that local day) or an ISO 8601 instant' },
      { flags: '--name <text>', description: 'a label for `token list`, like "ci-ml-pipeline"' },
    ],
    examples: [
      'credits token create --role ci --dept ml --name ml-pipeline --expires 2027-06-30',
      'credits token create --role usage-writer --name gateway',
      'credits token create --role admin --json',
    ],
    request: (input): TokenCreateRequest => ({
      ...mutatingRequest(input),
      role: stringOption(input, 'role'),
      department: stringOption(input, 'dept'),
      expires: stringOption(input, 'expires'),
      name: stringOption(input, 'name'),
    }),
    async run(input, context) {
      const settings = await context.settings();
      const roleText = await context.need(input.role, {
        flag: '--role',
        message: 'Role',
        choices: ROLES.map((role) => ({ name: `${role}: ${ROLE_SUMMARIES[role]}`, value: role })),
      });
      if (!isRole(roleText)) throw new CreditsError('INVALID_VALUE', `--role "${roleText}" is not a role`, { hint: `--role takes one of ${ROLES.join(', ')}` });
      const department = input.department ?? null;
      const expiresText = input.expires;
      const expiresAtMs = expiresText === undefined ? null : parseInstantInput(expiresText, '--expires', settings.timeZone, { endOfDay: true });
      if (expiresAtMs !== null && expiresAtMs <= context.nowMs)
        throw new CreditsError('INVALID_DATE', `--expires "${expiresText}" is already past`, { hint: 'give a future date' });
      const nameText = input.name;
      const name = nameText === undefined ? null : parseFreeText(nameText.trim(), '--name', 120);
      if (name === '') throw new CreditsError('INVALID_VALUE', '--name is empty');
      const result = await createToken(await context.db(), context.mutation(input, { role: roleText, department, expiresAtMs, name }), {
        role: roleText,
        department,
        expiresAtMs,
        name,
      });
      return { view: 'tokenCreated', data: result };
    },
  }),
  defineCommand({
    name: 'token list',
    summary: 'the API tokens: role, department, status (active, expired, revoked); never the secrets',
    ledger: 'existing',
    examples: ['credits token list', 'credits token list --json'],
    request: () => ({}),
    async run(_request, context) {
      await context.settings();
      const tokens = await listTokens(await context.db(), context.nowMs);
      return { view: 'tokens', data: { tokens } };
    },
  }),
  defineCommand({
    name: 'token revoke',
    summary: 'revoke an API token: requests with it are refused from now on',
    ledger: 'existing',
    mutating: true,
    arguments: [{ name: 'id', description: 'token id (see `credits token list`)', required: true }],
    examples: ['credits token revoke 3', 'credits token list   # find the id first'],
    request: (input): TokenRevokeRequest => ({ ...mutatingRequest(input), id: input.args[0] ?? '' }),
    async run(input, context) {
      await context.settings();
      const id = parseId(input.id, 'ID');
      const result = await revokeToken(await context.db(), context.mutation(input, { id }), id);
      return { view: 'tokenRevoked', data: result };
    },
  }),
];
