import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreditsError } from '../../core/errors.js';

/**
 * The PDFs embed DejaVu Sans (it has €, umlauts and ß; the PDF standard fonts do not encode €
 * reliably). The files live in assets/fonts/ at the package root. This module runs from
 * src/render/pdf/ in the repository and from dist/ or dist/chunks/ once bundled, so the root is
 * found by walking up to the nearest folder holding assets/fonts/ rather than by a fixed relative
 * path (not to the nearest package.json: dist/ and bin/ hold one of their own, marking CommonJS).
 */
export const FONT_FILES = { regular: 'DejaVuSans.ttf', bold: 'DejaVuSans-Bold.ttf' } as const;

export type FontPaths = { regular: string; bold: string };

let cached: FontPaths | undefined;

export function packageRoot(fromUrl: string = import.meta.url): string {
  let directory = dirname(fileURLToPath(fromUrl));
  for (;;) {
    if (existsSync(join(directory, 'assets', 'fonts', FONT_FILES.regular))) return directory;
    const parent = dirname(directory);
    if (parent === directory) {
      throw new CreditsError('INTERNAL', `cannot find the credits package root above ${dirname(fileURLToPath(fromUrl))}`);
    }
    directory = parent;
  }
}

export function fontPaths(): FontPaths {
  if (cached) return cached;
  const directory = join(packageRoot(), 'assets', 'fonts');
  const paths = { regular: join(directory, FONT_FILES.regular), bold: join(directory, FONT_FILES.bold) };
  for (const path of Object.values(paths)) {
    if (!existsSync(path)) {
      throw new CreditsError('INTERNAL', `the font for PDF output is missing: ${path}`, {
        hint: 'the credits package must ship assets/fonts/; reinstall it',
      });
    }
  }
  cached = paths;
  return paths;
}
