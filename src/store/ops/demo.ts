import { quotePackage } from '../../core/packages.js';
import type { Database } from '../driver.js';
import type { MutationRequest } from '../mutation.js';
import { addDepartment, addUser } from './organisation.js';
import { buyCredits, transferCredits } from './money.js';

const DAY_MS = 86_400_000;

export const DEMO_DEPARTMENTS = [
  { name: 'Engineering', costCenter: 'CC-100', users: ['ada', 'linus', 'grace'], allocation: 40_000 },
  { name: 'Marketing', costCenter: 'CC-200', users: ['don', 'peggy'], allocation: 15_000 },
  { name: 'Sales', costCenter: 'CC-300', users: ['joan', 'pete'], allocation: 10_000 },
  { name: 'Support', costCenter: 'CC-400', users: ['roger', 'bert'], allocation: 8_000 },
];

export type DemoSummary = { departments: number; users: number; purchases: number; transfers: number };

/**
 * A sample organisation so a newcomer sees every command working at once. Built through the same
 * operations a person would run, so it is as valid (and verifiable) as any other ledger.
 */
export async function loadDemo(db: Database, actor: string, nowMs: number, _timeZone: string): Promise<DemoSummary> {
  const startMs = nowMs - 90 * DAY_MS;
  const request = (command: string, atMs: number): MutationRequest => ({ command, args: { demo: true }, actor, nowMs: atMs });
  let users = 0;
  for (const department of DEMO_DEPARTMENTS) {
    await addDepartment(db, request('dept add', startMs), { name: department.name, costCenter: department.costCenter });
    for (const user of department.users) {
      await addUser(db, request('user add', startMs), { email: `${user}@demo.example`, department: department.name });
      users += 1;
    }
  }
  await buyCredits(db, request('buy', startMs + DAY_MS), { quote: quotePackage('enterprise', 'card'), accountName: 'org' });
  await buyCredits(db, request('buy', nowMs - 2 * DAY_MS), { quote: quotePackage('team', 'sepa'), accountName: 'org' });
  let transfers = 0;
  for (const department of DEMO_DEPARTMENTS) {
    await transferCredits(db, request('transfer', startMs + 2 * DAY_MS), {
      from: 'org',
      to: department.name,
      millicredits: department.allocation * 1000,
      reason: 'quarterly budget',
    });
    transfers += 1;
  }
  return { departments: DEMO_DEPARTMENTS.length, users, purchases: 2, transfers };
}
