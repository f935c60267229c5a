import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXIT_CODE_BY_ERROR_CODE } from '../../src/core/errors.js';

// The README's table is the contract scripts rely on: every error code, under its exit code.
describe('README exit and error codes', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const documented = new Map<string, number>();
  for (const line of readme.split('\n')) {
    const row = /^\| (\d) \| [^|]+\| (.*) \|$/.exec(line);
    if (!row) continue;
    for (const code of row[2]!.matchAll(/`([A-Z_]+)`/g)) documented.set(code[1]!, Number(row[1]));
  }

  it('lists every error code under the exit code the program uses', () => {
    for (const [code, exit] of Object.entries(EXIT_CODE_BY_ERROR_CODE)) {
      expect({ code, exit: documented.get(code) }).toEqual({ code, exit });
    }
  });

  it('lists no code the program does not have', () => {
    for (const code of documented.keys()) expect(Object.keys(EXIT_CODE_BY_ERROR_CODE)).toContain(code);
  });
});
