import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands.js';

const ROOT = resolve(import.meta.dirname, '../..');
const DEPLOY = join(ROOT, 'deploy');
const UNITS = readdirSync(DEPLOY).filter((name) => name.endsWith('.service') || name.endsWith('.timer'));

/** A tool on PATH, or undefined: the checks that need it say so in their names. */
function tool(name: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : undefined;
}

/** A unit file's settings by section, every value of a repeated key kept (as systemd reads them). */
function unitSettings(name: string): Record<string, Record<string, string[]>> {
  const sections: Record<string, Record<string, string[]>> = {};
  let section = '';
  for (const raw of readFileSync(join(DEPLOY, name), 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      sections[section] ??= {};
      continue;
    }
    const setting = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (!setting || section === '') throw new Error(`${name}: "${line}" is no setting of a section`);
    const settings = sections[section]!;
    settings[setting[1]!] = [...(settings[setting[1]!] ?? []), setting[2]!];
  }
  return sections;
}

describe('deploy/: systemd units for credits serve and its jobs', () => {
  it('has the serve service and a timer with its service for notify run, recharge run and the monthly statement', () => {
    expect(UNITS.sort()).toEqual([
      'credits-notify.service',
      'credits-notify.timer',
      'credits-recharge.service',
      'credits-recharge.timer',
      'credits-serve.service',
      'credits-statement.service',
      'credits-statement.timer',
    ]);
    const exec = (unit: string) => unitSettings(unit).Service?.ExecStart?.join(' ') ?? '';
    expect(exec('credits-serve.service')).toMatch(/credits serve --listen/);
    expect(exec('credits-notify.service')).toMatch(/credits notify run/);
    expect(exec('credits-recharge.service')).toMatch(/credits recharge run/);
    expect(exec('credits-statement.service')).toMatch(/credits statement --month "\$\$month" --format pdf --output/);
    expect(unitSettings('credits-statement.timer').Timer?.OnCalendar).toEqual(['*-*-01 06:00:00']);
  });

  it('runs every service hardened, on the ledger folder only, with /etc/credits/env; serve restarts on failure', () => {
    for (const unit of UNITS.filter((name) => name.endsWith('.service'))) {
      const service = unitSettings(unit).Service!;
      expect({ unit, user: service.User, dynamic: service.DynamicUser }).toEqual({ unit, user: ['credits'], dynamic: ['yes'] });
      expect({ unit, protect: service.ProtectSystem, writable: service.ReadWritePaths }).toEqual({
        unit,
        protect: ['strict'],
        writable: ['-/var/lib/credits'],
      });
      expect(service.EnvironmentFile).toEqual(['-/etc/credits/env']);
      expect(service.NoNewPrivileges).toEqual(['yes']);
      // node's JIT writes code it runs: this setting would kill it at start.
      expect(service.MemoryDenyWriteExecute).toBeUndefined();
    }
    expect(unitSettings('credits-serve.service').Service?.Restart).toEqual(['on-failure']);
    for (const timer of UNITS.filter((name) => name.endsWith('.timer'))) {
      expect({ timer, calendar: unitSettings(timer).Timer?.OnCalendar?.length, persistent: unitSettings(timer).Timer?.Persistent }).toEqual({
        timer,
        calendar: 1,
        persistent: ['true'],
      });
    }
  });

  it.runIf(tool('systemd-analyze') !== undefined)('passes `systemd-analyze verify` without a warning (ExecStart through /usr/bin/env, which exists)', () => {
    const result = spawnSync('systemd-analyze', ['verify', '--man=no', ...UNITS], { cwd: DEPLOY, encoding: 'utf8' });
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
  });
});

describe('man/credits.1: the man page from the command registry', () => {
  const page = readFileSync(join(ROOT, 'man', 'credits.1'), 'utf8');

  it('is shipped in the package and names every command', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { man: string[]; files: string[] };
    expect(pkg.man).toEqual(['./man/credits.1']);
    expect(pkg.files).toEqual(expect.arrayContaining(['man/', 'deploy/']));
    for (const spec of COMMANDS) expect(page).toContain(`\\fBcredits ${spec.name.replace(/-/g, '\\-')}\\fR`);
  });

  it.runIf(tool('groff') !== undefined)('renders with groff -man without a warning', () => {
    const result = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z', join(ROOT, 'man', 'credits.1')], { encoding: 'utf8' });
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    const text = execFileSync('groff', ['-man', '-Tascii', join(ROOT, 'man', 'credits.1')], { encoding: 'utf8' }).replace(/.\x08/g, '');
    expect(text).toContain('credits usage import file [flags]');
    expect(text).toContain('CONFIG_INSECURE');
  });
});
