import { CreditsError } from '../../core/errors.js';
import { SETTING_KEYS, type OrgSettings } from '../../core/org.js';
import { PROVIDER_KEYS, type ProviderSettings } from '../../core/provider.js';
import type { Database } from '../driver.js';
import { runMutation, type MutationRequest } from '../mutation.js';
import { seedDefaultRates } from '../usageRepo.js';
import {
  ORG_ACCOUNT_ID,
  WORLD_ACCOUNT_ID,
  findAccount,
  findUser,
  insertAccount,
  insertUser,
  readSettings,
  requireDepartment,
  requireUser,
  writeSetting,
} from '../orgRepo.js';

export type InitResult = { created: boolean; organisation: string; timeZone: string; location: string };

/** Creates the ledger's own accounts and settings; a second run leaves an existing ledger as it is. */
export async function initLedger(
  db: Database,
  request: MutationRequest,
  input: { orgName: string | undefined; timeZone: string | undefined },
): Promise<InitResult> {
  const existing = await readSettings(db);
  if (existing.initialised) {
    if (input.orgName !== undefined && input.orgName !== existing.settings.name) {
      throw new CreditsError('ALREADY_INITIALISED', `${db.location} already holds the ledger of "${existing.settings.name}"`, {
        hint: 'use `credits org set --name` to rename it, or --db for another ledger',
      });
    }
    return { created: false, organisation: existing.settings.name, timeZone: existing.settings.timeZone, location: db.location };
  }
  const organisation = input.orgName ?? 'My Organisation';
  const timeZone = input.timeZone ?? 'Europe/Berlin';
  const outcome = await runMutation(db, request, async ({ tx }) => {
    insertAccount(tx, { id: WORLD_ACCOUNT_ID, name: 'world', kind: 'world', costCenter: null, createdAtMs: request.nowMs });
    insertAccount(tx, { id: ORG_ACCOUNT_ID, name: 'org', kind: 'org', costCenter: null, createdAtMs: request.nowMs });
    writeSetting(tx, SETTING_KEYS.name, organisation);
    writeSetting(tx, SETTING_KEYS.timeZone, timeZone);
    seedDefaultRates(tx, request.nowMs);
    return { created: true, organisation, timeZone, location: db.location };
  });
  return { created: outcome.created, organisation: outcome.organisation, timeZone: outcome.timeZone, location: outcome.location };
}

export async function setOrgSettings(db: Database, request: MutationRequest, changes: Partial<Record<keyof OrgSettings, string>>) {
  return runMutation(db, request, async ({ tx }) => {
    for (const [field, value] of Object.entries(changes)) {
      if (value !== undefined) writeSetting(tx, SETTING_KEYS[field as keyof OrgSettings], value);
    }
    return { changed: Object.keys(changes).filter((key) => changes[key as keyof OrgSettings] !== undefined) };
  });
}

/** The provider's details (and the domestic VAT rate, an organisation setting) in one write. */
export async function setProviderSettings(
  db: Database,
  request: MutationRequest,
  changes: Partial<Record<keyof ProviderSettings, string>>,
  vatRateBasisPoints: string | undefined,
) {
  return runMutation(db, request, async ({ tx }) => {
    for (const [field, value] of Object.entries(changes)) {
      if (value !== undefined) writeSetting(tx, PROVIDER_KEYS[field as keyof ProviderSettings], value);
    }
    if (vatRateBasisPoints !== undefined) writeSetting(tx, SETTING_KEYS.vatRateBasisPoints, vatRateBasisPoints);
    return { changed: [...Object.keys(changes), ...(vatRateBasisPoints === undefined ? [] : ['vatRateBasisPoints'])] };
  });
}

export async function addDepartment(db: Database, request: MutationRequest, input: { name: string; costCenter: string | null }) {
  return runMutation(db, request, async ({ tx }) => {
    const existing = await findAccount(tx, input.name);
    if (existing) {
      const spelling = existing.name === input.name ? '' : ` as "${existing.name}"`;
      throw new CreditsError('DUPLICATE', `department "${input.name}" already exists${spelling}`, {
        hint: 'department names are unique after NFKC normalisation and case folding (fullwidth, accents and case variants are the same name)',
      });
    }
    insertAccount(tx, { name: input.name, kind: 'department', costCenter: input.costCenter, createdAtMs: request.nowMs });
    return { department: input.name, costCenter: input.costCenter };
  });
}

export async function setDepartment(
  db: Database,
  request: MutationRequest,
  input: { name: string; costCenter?: string | undefined; overdraftFrom?: string | undefined; overdraftMaxMillicredits?: number | undefined },
) {
  return runMutation(db, request, async ({ tx }) => {
    const department = await requireDepartment(tx, input.name, 'NAME');
    if (input.costCenter !== undefined) tx.run('UPDATE accounts SET cost_center = ? WHERE id = ?', [input.costCenter, department.id]);
    if (input.overdraftFrom !== undefined || input.overdraftMaxMillicredits !== undefined) {
      const fromId = input.overdraftFrom === 'none' ? null : ORG_ACCOUNT_ID;
      const maxMillicredits = fromId === null ? 0 : (input.overdraftMaxMillicredits ?? department.overdraftMaxMillicredits);
      tx.run('UPDATE accounts SET overdraft_from_account_id = ?, overdraft_max_millicredits = ? WHERE id = ?', [fromId, maxMillicredits, department.id]);
    }
    return { department: department.name };
  });
}

export async function addUser(db: Database, request: MutationRequest, input: { email: string; department: string }) {
  return runMutation(db, request, async ({ tx }) => {
    const department = await requireDepartment(tx, input.department, '--dept');
    const existing = await findUser(tx, input.email);
    if (existing) {
      const spelling = existing.email === input.email ? '' : ` as "${existing.email}"`;
      throw new CreditsError('DUPLICATE', `user "${input.email}" already exists${spelling}`, {
        hint: 'emails are unique after NFKC normalisation and case folding; move them with `credits user move EMAIL --dept NAME`',
      });
    }
    insertUser(tx, { email: input.email, departmentId: department.id, createdAtMs: request.nowMs });
    return { email: input.email, department: department.name };
  });
}

export async function moveUser(db: Database, request: MutationRequest, input: { email: string; department: string }) {
  return runMutation(db, request, async ({ tx }) => {
    const user = await requireUser(tx, input.email, 'EMAIL');
    const department = await requireDepartment(tx, input.department, '--dept');
    tx.run('UPDATE users SET department_id = ? WHERE id = ?', [department.id, user.id]);
    return { email: user.email, from: user.department, department: department.name };
  });
}
