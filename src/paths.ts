/**
 * Files shipped beside the code (schemas/). Resolved from the package root, found by walking up from
 * this module to package.json, so the same code works from src/ (tests) and from dist/src/ (built).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'schemas'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`phi-gate: no package root with schemas/ above ${start}`);
    dir = parent;
  }
}

export const PACKAGE_ROOT = findPackageRoot(dirname(fileURLToPath(import.meta.url)));
export const SCHEMAS_DIR = join(PACKAGE_ROOT, 'schemas');
