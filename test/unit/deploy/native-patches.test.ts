/**
 * phi-gate's patches of the native Kafka engine: of librdkafka (deploy/local/librdkafka-*.patch,
 * applied in the client's deps/librdkafka) and of the client's own binding
 * (deploy/local/kafka-javascript-*.patch, applied in the package). Each one fits the client that is
 * installed — it applies, or it is applied already (a cold set-up patches the sources in place; a
 * warm one reinstalls them pristine and copies the cached build) — so a client upgrade that moved
 * the code under a patch fails here, before any build. The set-up and the image take every patch by
 * the same name patterns.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DEPLOY, REPO } from './helpers/paths.ts';

const LOCAL = join(DEPLOY, 'local');
const CLIENT = join(REPO, 'node_modules', '@confluentinc', 'kafka-javascript');
const sets = [
  { pattern: /^librdkafka-.*\.patch$/, dir: join(CLIENT, 'deps', 'librdkafka') },
  { pattern: /^kafka-javascript-.*\.patch$/, dir: CLIENT },
];
const patchesOf = (pattern: RegExp) =>
  readdirSync(LOCAL)
    .filter((f) => pattern.test(f))
    .sort();

function dryRun(dir: string, patch: string, reverse: boolean): boolean {
  const args = ['--dry-run', '--silent', '-d', dir, '-p1', '-i', join(LOCAL, patch)];
  return spawnSync('patch', reverse ? ['-R', ...args] : ['--forward', ...args]).status === 0;
}

describe("phi-gate's patches of the native Kafka engine", () => {
  test('there are the inflation bound, the commit flush, the consumed messages and the batch produce', () => {
    assert.deepEqual(
      sets.map((s) => patchesOf(s.pattern)),
      [
        ['librdkafka-flush.patch', 'librdkafka-inflation.patch'],
        ['kafka-javascript-consume.patch', 'kafka-javascript-produce.patch'],
      ],
    );
  });

  for (const { pattern, dir } of sets) {
    for (const patch of patchesOf(pattern)) {
      test(`${patch} fits the installed client`, () => {
        assert.ok(
          dryRun(dir, patch, false) || dryRun(dir, patch, true),
          `${patch} neither applies to nor is applied in ${dir}`,
        );
      });
    }
  }

  test('the set-up and the image apply every patch by the same patterns', () => {
    const deps = readFileSync(join(LOCAL, 'deps.sh'), 'utf8');
    assert.match(deps, /patches=\("\$here"\/librdkafka-\*\.patch\)/);
    assert.match(deps, /client_patches=\("\$here"\/kafka-javascript-\*\.patch\)/);
    assert.match(deps, /patch_id=\$\(cat "\$\{patches\[@\]\}" "\$\{client_patches\[@\]\}"/);
    const dockerfile = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8');
    for (const name of ['librdkafka', 'kafka-javascript']) {
      assert.match(dockerfile, new RegExp(`^COPY deploy/local/${name}-\\*\\.patch \\./$`, 'm'));
      assert.match(dockerfile, new RegExp(`for p in ${name}-\\*\\.patch; do`));
    }
  });
});
