#!/usr/bin/env node
// Checks the import directions of DESIGN.md: {cli, server} -> app -> {store, core}; store -> core;
// render -> core (and app's result types); core -> nothing outside core. Root files (main.ts,
// config.ts) wire the layers together and may import any of them. Every relative import,
// static or dynamic, type-only included, is an edge: a type import still ties two layers' code.
// Exits 1 and names each wrong import, so `npm test` fails on it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'src');

/** Which layers each layer may import (itself always). `root` is src/*.ts. */
export const ALLOWED = {
  core: [],
  store: ['core'],
  notify: ['core', 'store'],
  app: ['core', 'store', 'notify', 'config'],
  render: ['core', 'app'],
  cli: ['app', 'render', 'core', 'config'],
  server: ['app', 'render', 'core', 'store', 'config'],
  config: ['core'],
  root: ['core', 'store', 'notify', 'app', 'render', 'cli', 'server', 'config'],
};

/**
 * Known exceptions, each with its reason, to be removed as the code moves; a new wrong import is
 * never added here without one. Keys are "from-file -> to-file" (paths below src/).
 */
export const EXCEPTIONS = {};

function sourceFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

function layerOf(path) {
  const parts = relative(srcDir, path).split('/');
  if (parts.length > 1) return parts[0];
  return parts[0] === 'config.ts' ? 'config' : 'root';
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;

export function violations() {
  const found = [];
  for (const file of sourceFiles(srcDir)) {
    const from = layerOf(file);
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(IMPORT)) {
      const target = resolve(dirname(file), match[1]).replace(/\.js$/, '.ts');
      if (!target.startsWith(srcDir)) continue;
      const to = layerOf(target);
      if (to === from || !(from in ALLOWED) || ALLOWED[from].includes(to)) continue;
      const key = `${relative(srcDir, file)} -> ${relative(srcDir, target)}`;
      if (key in EXCEPTIONS) continue;
      const line = text.slice(0, match.index).split('\n').length;
      found.push(`src/${relative(srcDir, file)}:${line}: ${from}/ may not import ${to}/ (${match[1]})`);
    }
    if (!(from in ALLOWED)) found.push(`src/${relative(srcDir, file)}: folder ${from}/ has no import rule in scripts/check-imports.mjs`);
  }
  return found;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const found = violations();
  const unused = Object.keys(EXCEPTIONS).filter((key) => !existsEdge(key));
  for (const line of found) process.stderr.write(`${line}\n`);
  for (const key of unused) process.stderr.write(`scripts/check-imports.mjs: exception "${key}" no longer occurs: remove it\n`);
  if (found.length + unused.length > 0) process.exit(1);
  process.stdout.write('imports: every layer imports only what DESIGN.md allows\n');
}

function existsEdge(key) {
  const [fromFile, toFile] = key.split(' -> ');
  const file = join(srcDir, fromFile);
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return false;
  }
  return [...text.matchAll(IMPORT)].some((match) => relative(srcDir, resolve(dirname(file), match[1]).replace(/\.js$/, '.ts')) === toFile);
}
