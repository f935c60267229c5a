import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMPLETION_FILES, programTree } from '../../src/cli/completion/index.js';
import type { CompletionNode } from '../../src/cli/completion/tree.js';
import { generatedFiles } from '../../src/cli/generatedFiles.js';
import { REFERENCE_FILE } from '../../src/cli/reference.js';
import { COMMANDS } from '../../src/cli/commands.js';

const ROOT = new URL('../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, ROOT), 'utf8');
const tree = programTree();
const nodes = tree.nodes;
const quotedFish = (text: string): string => `\\'${text}\\'`;

describe('generated files (completions/, docs/)', () => {
  it('are what `npm run generate` writes from the current registry', () => {
    for (const file of generatedFiles()) {
      // On failure: run `npm run generate` and commit the result.
      expect({ path: file.path, current: read(file.path) === file.content }).toEqual({ path: file.path, current: true });
    }
  });

  it('cover every registered command', () => {
    const paths = nodes.filter((node) => node.isCommand).map((node) => node.path);
    expect(paths.sort()).toEqual(COMMANDS.map((spec) => spec.name).sort());
    expect(paths).toContain('completion');
  });
});

/** Lines of one function of a generated script, from its header to the closing brace or `end`. */
function functionBody(script: string, header: string, closing: string): string[] {
  const lines = script.split('\n');
  const start = lines.findIndex((line) => line.startsWith(header));
  expect(start, header).toBeGreaterThanOrEqual(0);
  const end = lines.findIndex((line, index) => index > start && line === closing);
  return lines.slice(start, end + 1);
}

/** Single quotes on a line pair up once the escaped forms are taken out. */
function quotesBalanced(line: string, escapes: RegExp): boolean {
  return (line.replace(escapes, '').match(/'/g)?.length ?? 0) % 2 === 0;
}

function ownFlagNames(node: CompletionNode): string[] {
  return node.flags.flatMap((flag) => flag.names);
}

describe('zsh script (zsh is not installed here: checked by its structure)', () => {
  const script = read(COMPLETION_FILES.zsh);
  const subs = functionBody(script, '_credits_subs()', '}');
  const flags = functionBody(script, '_credits_flags()', '}');
  const values = functionBody(script, '_credits_value()', '}');

  it('is a #compdef function for credits that calls itself', () => {
    expect(script.split('\n')[0]).toBe('#compdef credits');
    expect(script.trimEnd().endsWith('_credits "$@"')).toBe(true);
  });

  it('is plausible zsh: braces, case/esac and quotes pair up', () => {
    const code = script.split('\n').filter((line) => !line.trimStart().startsWith('#'));
    const text = code.join('\n').replace(/'([^']|'\\'')*'/g, "''");
    expect((text.match(/\{/g) ?? []).length).toBe((text.match(/\}/g) ?? []).length);
    expect((text.match(/\bcase\b/g) ?? []).length).toBe((text.match(/\besac\b/g) ?? []).length);
    for (const line of code) expect({ line, balanced: quotesBalanced(line, /'\\''/g) }).toEqual({ line, balanced: true });
  });

  it('offers every subcommand of every command path, with its summary', () => {
    for (const node of nodes.filter((entry) => entry.subcommands.length > 0)) {
      const arm = subs.find((line) => line.startsWith(`    '${node.path}') reply=(`));
      expect(arm, node.path).toBeDefined();
      for (const sub of node.subcommands) expect(arm, `${node.path} ${sub.name}`).toContain(`'${sub.name}:`);
    }
  });

  it('offers every flag of every command and the global flags', () => {
    for (const node of nodes.filter((entry) => entry.flags.length > 0)) {
      const arm = flags.find((line) => line.startsWith(`    '${node.path}') reply=(`));
      expect(arm, node.path).toBeDefined();
      for (const name of ownFlagNames(node)) expect(arm, `${node.path} ${name}`).toContain(`'${name}:`);
    }
    const globalLine = flags.find((line) => line.trimStart().startsWith('reply+=('));
    for (const name of tree.globalFlags.flatMap((flag) => flag.names)) expect(globalLine).toContain(`'${name}:`);
  });

  it('offers the choices of enumerated flags and names from the ledger', () => {
    expect(values).toContain("    'buy|--method') compadd -- card paypal sepa invoice ;;");
    expect(values).toContain("    'report|--by') compadd -- user dept model feature day ;;");
    expect(values).toContain("    'transfer|--to') _credits_dynamic accounts ;;");
    expect(values).toContain("    *'|--db') _files ;;");
    expect(script).toContain('__complete $1');
  });
});

describe('fish script (fish is not installed here: checked by its structure)', () => {
  const script = read(COMPLETION_FILES.fish);
  const lines = script.split('\n');

  it('is plausible fish: every block has its end, quotes pair up', () => {
    const code = lines.filter((line) => !line.trimStart().startsWith('#'));
    const openers = code.filter((line) => /^\s*(function|switch|for|while|if)\b/.test(line)).length;
    expect(openers).toBe(code.filter((line) => line.trim() === 'end').length);
    for (const line of code) expect({ line, balanced: quotesBalanced(line, /\\\\|\\'/g) }).toEqual({ line, balanced: true });
    // Anything else than these statements at the top level would be a generator bug.
    const topLevel = code.filter((line) => line !== '' && !line.startsWith(' ') && line !== 'end');
    for (const line of topLevel) expect(line).toMatch(/^(function __credits_\w+|complete -c credits )/);
  });

  it('offers every subcommand of every command path', () => {
    for (const node of nodes.filter((entry) => entry.subcommands.length > 0)) {
      for (const sub of node.subcommands) {
        expect(
          lines.some((line) => line.startsWith(`complete -c credits -n '__credits_at 0 ${quotedFish(node.path)}' -a ${sub.name} -d `)),
          `${node.path} ${sub.name}`,
        ).toBe(true);
      }
    }
  });

  it('offers every flag of every command and the global flags', () => {
    for (const node of nodes) {
      for (const flag of node.flags) {
        const long = flag.long.slice(2);
        expect(
          lines.some((line) => line.startsWith(`complete -c credits -n '__credits_at any ${quotedFish(node.path)}'`) && line.includes(` -l ${long} `)),
          `${node.path} --${long}`,
        ).toBe(true);
      }
    }
    for (const flag of tree.globalFlags)
      expect(lines.some((line) => line.startsWith(`complete -c credits -l ${flag.long.slice(2)} `) || line.includes(` -l ${flag.long.slice(2)} `))).toBe(true);
  });

  it('offers the choices of enumerated flags and names from the ledger', () => {
    const method = lines.find((line) => line.startsWith(`complete -c credits -n '__credits_at any ${quotedFish('buy')}' -l method `));
    expect(method).toContain("-x -a 'card paypal sepa invoice'");
    const to = lines.find((line) => line.startsWith(`complete -c credits -n '__credits_at any ${quotedFish('transfer')}' -l to `));
    expect(to).toContain("-x -a '(__credits_names accounts)'");
    expect(lines).toContain(`complete -c credits -n '__credits_at 0 ${quotedFish('completion')}' -a 'bash zsh fish' -d 'bash, zsh or fish'`);
  });
});

describe('docs/commands.md', () => {
  const reference = read(REFERENCE_FILE);

  it('has a section for every command with its summary and examples', () => {
    for (const spec of COMMANDS) {
      const start = reference.indexOf(`### \`credits ${spec.name}\`\n`);
      expect(start, spec.name).toBeGreaterThanOrEqual(0);
      const end = reference.indexOf('\n### ', start + 1);
      const section = reference.slice(start, end === -1 ? undefined : end);
      expect(section).toContain(spec.summary);
      for (const example of spec.examples) expect(section).toContain(example);
    }
  });

  it('lists every flag with its default and choices', () => {
    const section = (path: string): string => {
      const start = reference.indexOf(`### \`credits ${path}\`\n`);
      return reference.slice(start, reference.indexOf('\n### ', start + 1));
    };
    expect(section('buy')).toMatch(/\| `--method <method>` \| [^|]+\| +\| `card`, `paypal`, `sepa`, `invoice` \|/);
    expect(section('buy')).toMatch(/\| `--for <account>` \| [^|]+\| `org` \| accounts in the ledger \|/);
    for (const node of nodes.filter((entry) => entry.path !== '')) {
      for (const flag of node.flags) expect(section(node.path), `${node.path} ${flag.long}`).toContain(`\`${flag.names.join(', ')}`);
    }
    // `credits` itself: the global flags and --version, in the table at the top.
    const globals = reference.slice(reference.indexOf('## Global flags'), reference.indexOf('\n### '));
    for (const flag of [...tree.globalFlags, ...nodes.find((node) => node.path === '')!.flags]) expect(globals).toContain(`| \`${flag.names.join(', ')}`);
  });
});
