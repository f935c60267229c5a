import { CreditsError } from '../../core/errors.js';
import { parseFreeText } from '../../core/names.js';
import { parseInstantInput } from '../../core/time.js';
import { ROLES, ROLE_SUMMARIES, isRole } from '../../core/roles.js';
import { createToken, listTokens, revokeToken } from '../../store/tokenStore.js';
import { parseId, stringOption } from '../parse.js';
import type { LegacyCommandSpec } from '../spec.js';

export const tokenCommands: LegacyCommandSpec[] = [
  {
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
    async run(input, context) {
      const settings = await context.settings();
      const roleText = await context.need(stringOption(input, 'role'), {
        flag: '--role',
        message: 'Role',
        choices: ROLES.map((role) => ({ name: `${role}: ${ROLE_SUMMARIES[role]}`, value: role })),
      });
      if (!isRole(roleText)) throw new CreditsError('INVALID_VALUE', `--role "${roleText}" is not a role`, { hint: `--role takes one of ${ROLES.join(', ')}` });
      const department = stringOption(input, 'dept') ?? null;
      const expiresText = stringOption(input, 'expires');
      const expiresAtMs = expiresText === undefined ? null : parseInstantInput(expiresText, '--expires', settings.timeZone, { endOfDay: true });
      if (expiresAtMs !== null && expiresAtMs <= context.nowMs)
        throw new CreditsError('INVALID_DATE', `--expires "${expiresText}" is already past`, { hint: 'give a future date' });
      const nameText = stringOption(input, 'name');
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
  },
  {
    name: 'token list',
    summary: 'the API tokens: role, department, status (active, expired, revoked); never the secrets',
    ledger: 'existing',
    examples: ['credits token list', 'credits token list --json'],
    async run(_input, context) {
      await context.settings();
      const tokens = await listTokens(await context.db(), context.nowMs);
      return { view: 'tokens', data: { tokens } };
    },
  },
  {
    name: 'token revoke',
    summary: 'revoke an API token: requests with it are refused from now on',
    ledger: 'existing',
    mutating: true,
    arguments: [{ name: 'id', description: 'token id (see `credits token list`)', required: true }],
    examples: ['credits token revoke 3', 'credits token list   # find the id first'],
    async run(input, context) {
      await context.settings();
      const id = parseId(input.args[0] ?? '', 'ID');
      const result = await revokeToken(await context.db(), context.mutation(input, { id }), id);
      return { view: 'tokenRevoked', data: result };
    },
  },
];
