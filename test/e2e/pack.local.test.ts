import { execa } from 'execa';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `npm pack` makes the tarball people install. It must hold what the CLI needs at run time and
 * nothing of the source tree, and the bin inside it must run with `npx` from a folder that knows
 * nothing of this checkout. Installing its dependencies compiles better-sqlite3 (minutes), so
 * here they are linked from this checkout's node_modules; `npm run test:stress` installs the
 * tarball for real with `npm install`.
 */

const ROOT = resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string> };

describe('the npm package', () => {
  let dir: string;
  let tarball: string;
  let files: string[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'credits-pack-'));
    // --ignore-scripts: `prepare` would rebuild dist/ under the other tests' feet; the suite built it.
    const packed = await execa('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT });
    const report = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    tarball = join(dir, report[0]!.filename);
    files = report[0]!.files.map((file) => file.path).sort();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('holds the bin, the built CLI, migrations, fonts, completions, the reference, the man page, the systemd units and README, and no sources, tests, benchmarks or source maps', () => {
    for (const needed of [
      'bin/credits.js',
      'dist/credits.js',
      'migrations/meta/_journal.json',
      'assets/fonts/DejaVuSans.ttf',
      'completions/credits.bash',
      'completions/_credits',
      'completions/credits.fish',
      'docs/commands.md',
      'man/credits.1',
      'deploy/credits-serve.service',
      'deploy/README.md',
      'README.md',
      'package.json',
    ]) {
      expect(files).toContain(needed);
    }
    expect(files.some((file) => /^migrations\/\d{4}_.*\.sql$/.test(file))).toBe(true);
    expect(files.filter((file) => /^(src|test|bench|scripts|\.ci)\//.test(file) || file.endsWith('.map') || file.endsWith('.ts'))).toEqual([]);
  });

  it('runs with npx from a fresh folder: init --demo, then balance', async () => {
    const fresh = join(dir, 'fresh');
    const installed = join(fresh, 'node_modules', pkg.name);
    mkdirSync(installed, { recursive: true });
    await execa('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1']);
    for (const dependency of Object.keys(pkg.dependencies)) {
      const target = join(fresh, 'node_modules', dependency);
      mkdirSync(join(target, '..'), { recursive: true });
      symlinkSync(join(ROOT, 'node_modules', dependency), target);
    }
    mkdirSync(join(fresh, 'node_modules', '.bin'));
    symlinkSync(join('..', pkg.name, 'bin', 'credits.js'), join(fresh, 'node_modules', '.bin', 'credits'));
    writeFileSync(join(fresh, 'package.json'), JSON.stringify({ name: 'fresh', private: true, dependencies: { [pkg.name]: pkg.version } }));

    const env = { CI: '1', NO_COLOR: '1', CREDITS_DB: join(fresh, 'ledger.db') };
    const version = await execa('npx', ['--no', '--', 'credits', '--version'], { cwd: fresh, env, reject: false });
    expect(version.stdout.trim()).toBe(pkg.version);
    const init = await execa('npx', ['--no', '--', 'credits', 'init', '--demo', '--json'], { cwd: fresh, env, reject: false });
    expect(init.exitCode).toBe(0);
    const balance = await execa('npx', ['--no', '--', 'credits', 'balance', '--json'], { cwd: fresh, env, reject: false });
    expect(balance.exitCode).toBe(0);
    const accounts = (JSON.parse(balance.stdout) as { accounts: { account: string; millicredits: number }[] }).accounts;
    expect(accounts.map((account) => account.account)).toContain('org');
    expect(accounts.length).toBeGreaterThan(2);
    // A statement needs the fonts and pdfkit from inside the package.
    const statement = await execa('npx', ['--no', '--', 'credits', 'statement', '--format', 'pdf', '--output', join(fresh, 'statement.pdf'), '--json'], {
      cwd: fresh,
      env,
      reject: false,
    });
    expect(statement.exitCode).toBe(0);
    expect(readFileSync(join(fresh, 'statement.pdf')).subarray(0, 5).toString()).toBe('%PDF-');
  });
});
