// globalSetup of the e2e-local project (vitest.config.ts): the seeded ledger file seededLedger() copies.
export { setupLocalTemplate as default } from './seedTemplate.js';
