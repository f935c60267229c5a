// globalSetup of the e2e-remote project (vitest.config.ts): the seeded sqld folder seededLedger() copies.
export { setupRemoteTemplate as default } from './seedTemplate.js';
