/** A POSIX single-quoted word, for bash and zsh. */
export function singleQuoted(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** fish single quotes: only \\ and \' are special inside them. */
export function fishQuoted(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Command paths, flags and choices become case patterns and words: refuse anything a shell would read as syntax. */
export function plainWord(text: string, what: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._@+-]*$/.test(text) && !/^--?[A-Za-z0-9][A-Za-z0-9-]*$/.test(text)) {
    throw new Error(`${what} "${text}" cannot go into a completion script as a plain word`);
  }
  return text;
}

/** One line of description: the first sentence-ish part, no newlines. */
export function oneLine(text: string, max = 100): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1).trimEnd()}…`;
}
