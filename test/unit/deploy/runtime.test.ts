/**
 * The runtime settings phi-gate ships with (the image's node flags, the deployment's NODE_OPTIONS),
 * as the benchmark reads them (bench/lib/deployed.ts): they parse, and this Node accepts them where
 * they are given — a flag Node refuses would stop every pod at start.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { deployedRuntime, entrypointNodeFlags } from '../../../bench/lib/deployed.ts';
import { REPO } from './helpers/paths.ts';

describe('the shipped runtime settings', () => {
  const runtime = deployedRuntime(REPO);

  test('the image gives node its V8 heap-growing flag, and the deployment caps the heap and sizes the worker pool', () => {
    assert.ok(
      runtime.nodeFlags.some((f) => /^--heap-growing-percent=\d+$/.test(f)),
      String(runtime.nodeFlags),
    );
    assert.match(runtime.env.NODE_OPTIONS ?? '', /--max-old-space-size=\d+/);
    // V8's worker pool no larger than the pod's CPU limit minus the JavaScript thread (Node's default: 4)
    assert.match(runtime.env.NODE_OPTIONS ?? '', /--v8-pool-size=1\b/);
  });

  test('Node accepts the image flags on its command line and NODE_OPTIONS in the environment', () => {
    const run = spawnSync(process.execPath, [...runtime.nodeFlags, '-e', 'process.exit(0)'], {
      env: { ...process.env, NODE_OPTIONS: runtime.env.NODE_OPTIONS ?? '' },
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
  });

  test('an ENTRYPOINT of another shape is refused, not misread', () => {
    assert.deepEqual(entrypointNodeFlags('ENTRYPOINT ["/nodejs/bin/node", "/app/dist/src/main.js"]\n'), []);
    assert.throws(() => entrypointNodeFlags('ENTRYPOINT /nodejs/bin/node main.js\n'), /exec form|JSON/);
    assert.throws(() => entrypointNodeFlags('FROM x\n'), /one ENTRYPOINT/);
    assert.throws(
      () => entrypointNodeFlags('ENTRYPOINT ["/nodejs/bin/node", "-r", "x", "/app/main.js"]\n'),
      /not "node \[--flags\] main.js"/,
    );
  });
});
