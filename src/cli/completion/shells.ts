/** The shells `credits completion` writes scripts for; its own module so the command spec can import it without the generator. */
export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

export function isShell(text: string): text is Shell {
  return (SHELLS as readonly string[]).includes(text);
}
