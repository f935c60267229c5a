import { COMPLETION_FILES, SHELLS, completionScript, programTree } from './completion/index.js';
import { MAN_PAGE_FILE, manPage } from './manPage.js';
import { REFERENCE_FILE, referenceMarkdown } from './reference.js';

/**
 * Every file generated from the command registry, by path relative to the repository root:
 * scripts/generate.mjs writes them, and a test fails when the committed ones differ.
 */
export function generatedFiles(): { path: string; content: string }[] {
  const tree = programTree();
  return [
    ...SHELLS.map((shell) => ({ path: COMPLETION_FILES[shell], content: completionScript(shell, tree) })),
    { path: REFERENCE_FILE, content: referenceMarkdown(tree) },
    { path: MAN_PAGE_FILE, content: manPage(tree) },
  ];
}
