import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder of the package this code runs from: the nearest one above this file with a
 * package.json. The same from the sources (runtime/), compiled (dist/runtime/) and bundled (the
 * device bundle's folder, which carries a package.json for it).
 */
export function packageRoot(): string {
  let folder = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(folder, 'package.json'))) {
    const parent = dirname(folder);
    if (parent === folder) throw new Error(`no package.json above ${dirname(fileURLToPath(import.meta.url))}: where is the package's root?`);
    folder = parent;
  }
  return folder;
}
