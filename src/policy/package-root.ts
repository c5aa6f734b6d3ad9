/**
 * The package root (the directory holding package.json and schemas/), found from this module's
 * location so it works from src/ (type stripping) and from dist/src/ (compiled) alike, whatever
 * the working directory.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function packageRoot(): string {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'schemas'))) {
      cached = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error('phi-gate package root not found (no package.json with schemas/ above this module)');
    dir = parent;
  }
}
