/**
 * Temporary directories of a test file, removed when its process exits (node --test runs each file
 * in a process of its own): a test that fails or times out leaves nothing behind in the machine's
 * temp dir either. Key files and policies written there are made-up test data, but they should not
 * pile up.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

process.once('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A new empty directory named `phigate-<purpose>-XXXXXX` under the temp dir. */
export function tempDir(purpose: string): string {
  const dir = mkdtempSync(join(tmpdir(), `phigate-${purpose}-`));
  made.push(dir);
  return dir;
}
