/**
 * phi-gate's patches of librdkafka (deploy/local/librdkafka-*.patch): each one fits the librdkafka
 * that the installed Kafka client ships — it applies, or it is applied already (a cold set-up
 * patches the sources in place; a warm one reinstalls them pristine and copies the cached build) —
 * so a client upgrade whose librdkafka moved under a patch fails here, before any build. The
 * set-up and the image take every patch by the same name pattern.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DEPLOY, REPO } from './helpers/paths.ts';

const LOCAL = join(DEPLOY, 'local');
const LIBRDKAFKA = join(REPO, 'node_modules', '@confluentinc', 'kafka-javascript', 'deps', 'librdkafka');
const patches = readdirSync(LOCAL)
  .filter((f) => /^librdkafka-.*\.patch$/.test(f))
  .sort();

function dryRun(patch: string, reverse: boolean): boolean {
  const args = ['--dry-run', '--silent', '-d', LIBRDKAFKA, '-p1', '-i', join(LOCAL, patch)];
  return spawnSync('patch', reverse ? ['-R', ...args] : ['--forward', ...args]).status === 0;
}

describe("phi-gate's librdkafka patches", () => {
  test('there are the inflation bound and the commit flush', () => {
    assert.deepEqual(patches, ['librdkafka-flush.patch', 'librdkafka-inflation.patch']);
  });

  for (const patch of patches) {
    test(`${patch} fits the installed client's librdkafka`, () => {
      assert.ok(
        dryRun(patch, false) || dryRun(patch, true),
        `${patch} neither applies to nor is applied in ${LIBRDKAFKA}`,
      );
    });
  }

  test('the set-up and the image apply every patch by the same pattern', () => {
    const deps = readFileSync(join(LOCAL, 'deps.sh'), 'utf8');
    assert.match(deps, /patches=\("\$here"\/librdkafka-\*\.patch\)/);
    const dockerfile = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8');
    assert.match(dockerfile, /^COPY deploy\/local\/librdkafka-\*\.patch \.\/$/m);
    assert.match(dockerfile, /for p in librdkafka-\*\.patch; do/);
  });
});
