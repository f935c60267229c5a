import { describe, expect, it } from 'vitest';
import { renderOutput } from '../../src/render/index.js';
import { fitColumnWidths, visibleWidth } from '../../src/render/style.js';

const RED = '\u001b[31m';
const YELLOW = '\u001b[33m';
const GREEN = '\u001b[32m';

const balances = {
  asOfMs: null,
  totalMillicredits: 12_345_678_500,
  accounts: [
    { account: 'org', kind: 'org', costCenter: null, millicredits: 12_000_000_000, percentLeft: 95 },
    {
      account: 'Research and Development Europe',
      kind: 'department',
      costCenter: 'CC-4711 central research budget of the group',
      millicredits: 345_678_500,
      percentLeft: 10,
    },
    { account: 'Sales', kind: 'department', costCenter: 'CC-1', millicredits: 0, percentLeft: 20 },
    { account: 'Support', kind: 'department', costCenter: null, millicredits: 2_100, percentLeft: 21 },
  ],
};

function lines(text: string): string[] {
  return text.trimEnd().split('\n');
}

/** The column just after `needle` on the line showing it: where a right-aligned cell ends. */
function endOf(text: string, needle: string): number {
  const line = lines(text).find((candidate) => candidate.includes(needle));
  if (line === undefined) throw new Error(`no line shows ${needle}:\n${text}`);
  return line.indexOf(needle) + needle.length;
}

describe('tables for people', () => {
  it('fit a narrow terminal by wrapping text columns, while amounts stay whole, grouped and right-aligned', async () => {
    const text = await renderOutput('balances', balances, { color: false, width: 72, timeZone: 'UTC' });
    for (const line of lines(text)) expect(visibleWidth(line), line).toBeLessThanOrEqual(72);
    expect(text).toContain('Research');
    expect(text).toContain('345,678.5');
    expect(text).toContain('12,000,000.0');
    expect(text).toContain('€120,000.00');
    expect(endOf(text, '345,678.5')).toBe(endOf(text, '12,000,000.0'));
    expect(endOf(text, '2.1')).toBe(endOf(text, '12,345,678.5'));
  });

  it('keep one line per row when the terminal is wide enough', async () => {
    const text = await renderOutput('balances', balances, { color: false, width: 200, timeZone: 'UTC' });
    // Top border, header, four accounts, the total, bottom border.
    expect(lines(text)).toHaveLength(8);
    expect(lines(text).find((line) => line.includes('Research'))).toContain('CC-4711 central research budget of the group');
    expect(fitColumnWidths([{ header: 'A' }, { header: 'B', align: 'right' }], [['x', '1']], 200)).toBeNull();
  });

  it('colour the share left: red at or under 10%, yellow at or under 20%, green above', async () => {
    const text = await renderOutput('balances', balances, { color: true, width: 200, timeZone: 'UTC' });
    expect(text).toContain(`${RED}10.0%`);
    expect(text).toContain(`${YELLOW}20.0%`);
    expect(text).toContain(`${GREEN}21.0%`);
    expect(text).toContain(`${GREEN}95.0%`);
  });

  it('carry no escape codes at all without colour', async () => {
    const text = await renderOutput('balances', balances, { color: false, width: 72, timeZone: 'UTC' });
    expect(text).not.toContain('\u001b');
  });
});
