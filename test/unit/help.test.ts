import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram, COMMAND_GROUPS, GLOBAL_OPTIONS } from '../../src/cli/program.js';
import { closest } from '../../src/core/suggest.js';
import { COMMANDS } from '../../src/cli/commands.js';

/** What `credits COMMAND --help` shows a person, for every command in the registry. */

function programTree(): Command {
  return buildProgram(COMMANDS, '0.0.0-test', { writeOut: () => undefined, writeErr: () => undefined }, () => undefined);
}

function commandAt(program: Command, path: string): Command {
  let command = program;
  for (const part of path.split(' ')) {
    const child = command.commands.find((candidate) => candidate.name() === part);
    if (!child) throw new Error(`no command ${path}`);
    command = child;
  }
  return command;
}

/** commander prints "after" help text through the help event; collect it like a terminal would. */
function fullHelp(command: Command): string {
  let text = '';
  command.configureOutput({ writeOut: (chunk) => (text += chunk), writeErr: (chunk) => (text += chunk) });
  command.outputHelp();
  return text;
}

describe('--help of every command', () => {
  const program = programTree();

  it.each(COMMANDS.filter((spec) => !spec.name.startsWith('__')).map((spec) => [spec.name, spec] as const))(
    '%s: a one-line purpose, every flag, defaults and two or more examples',
    (_name, spec) => {
      const help = fullHelp(commandAt(program, spec.name));
      expect(spec.summary.length).toBeGreaterThan(10);
      expect(spec.summary).not.toContain('\n');
      // commander wraps the purpose to the terminal's width.
      expect(help.replace(/\s+/g, ' ')).toContain(spec.summary.replace(/\s+/g, ' '));
      for (const option of spec.options ?? []) {
        const long = /--[a-z0-9-]+/.exec(option.flags)![0];
        expect(help).toContain(long);
        const flat = help.replace(/\s+/g, ' ');
        if (option.defaultValue !== undefined) expect(flat).toContain(`default: ${option.defaultValue}`);
        if (option.choices) for (const choice of option.choices) expect(flat).toContain(choice);
      }
      for (const global of GLOBAL_OPTIONS) expect(help).toContain(/--[a-z-]+/.exec(global.flags)![0]);
      if (spec.mutating) expect(help).toContain('--dry-run');
      expect(spec.examples.length).toBeGreaterThanOrEqual(2);
      const examples = help.slice(help.indexOf('Examples:'));
      for (const example of spec.examples) expect(examples).toContain(`$ ${example}`);
    },
  );

  it('`credits --help` lists every top-level command under its group heading', () => {
    const help = fullHelp(program);
    for (const group of COMMAND_GROUPS) {
      expect(help).toContain(`${group.heading}:`);
    }
    const topLevel = new Set(COMMANDS.filter((spec) => !spec.name.startsWith('__')).map((spec) => spec.name.split(' ')[0]!));
    for (const name of topLevel) expect(help).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
  });

  it('suggests the closest name for a typo, and nothing for a word far from every name', () => {
    const names = COMMANDS.map((spec) => spec.name.split(' ')[0]!);
    expect(closest('tranfer', names)).toBe('transfer');
    expect(closest('balanse', names)).toBe('balance');
    expect(closest('forcast', names)).toBe('forecast');
    expect(closest('xyzzyq', names)).toBeUndefined();
  });
});
