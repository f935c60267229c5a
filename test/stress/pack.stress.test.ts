import { execa } from 'execa';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The whole way a person takes: `npm pack`, then `npm install` of the tarball in an empty folder
 * (which compiles better-sqlite3, minutes here), then `npx credits`. test:stress builds dist/ first. The quick version in
 * test/e2e/pack.local.test.ts links the dependencies instead of installing them.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };

describe('the npm package, installed for real', () => {
  const dir = mkdtempSync(join(tmpdir(), 'credits-install-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('installs from its tarball into an empty folder and runs with npx', async () => {
    const packed = await execa('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT });
    const tarball = join(dir, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename);
    const fresh = join(dir, 'fresh');
    mkdirSync(fresh);
    // npm 11 runs a dependency's install script only when the project allows it.
    writeFileSync(join(fresh, 'package.json'), JSON.stringify({ name: 'fresh', private: true, allowScripts: { 'better-sqlite3': true } }));
    const install = await execa('npm', ['install', '--no-audit', '--no-fund', tarball], { cwd: fresh, reject: false, timeout: 600_000 });
    expect(install.exitCode, install.stderr).toBe(0);

    const env = { CI: '1', NO_COLOR: '1', CREDITS_DB: join(fresh, 'ledger.db') };
    const version = await execa('npx', ['--no', '--', 'credits', '--version'], { cwd: fresh, env });
    expect(version.stdout.trim()).toBe(pkg.version);
    await execa('npx', ['--no', '--', 'credits', 'init', '--demo'], { cwd: fresh, env });
    const balance = await execa('npx', ['--no', '--', 'credits', 'balance', '--json'], { cwd: fresh, env });
    expect((JSON.parse(balance.stdout) as { accounts: { account: string }[] }).accounts.map((account) => account.account)).toContain('Engineering');
    const verify = await execa('npx', ['--no', '--', 'credits', 'verify', '--json'], { cwd: fresh, env, reject: false });
    expect(verify.exitCode).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true });
  });
});
