import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { check } from '../../../src/cli/check.ts';
import { EXIT } from '../../../src/cli/io.ts';
import { runCommand } from '../../helpers/cli.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');

async function run(
  argv: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  const r = await runCommand(check, argv, { cwd: ROOT, env });
  return { code: r.code, out: r.stdout, err: r.stderr };
}

function tempPolicy(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'phigate-check-'));
  const file = join(dir, 'policy.yaml');
  writeFileSync(file, yaml);
  return file;
}

describe('phi-gate check', () => {
  test('the example policy is valid; its warnings are printed; exit 0', async () => {
    const r = await run(['--policy', 'deploy/examples/policy.yaml']);
    assert.equal(r.code, EXIT.ok);
    assert.match(r.out, /is valid \(version [0-9a-f]{16}\)/);
    assert.match(r.out, /mixpanel: topic events\.dest\.mixpanel/);
    assert.match(r.err, /^warning: destinations\.mixpanel\.fields\["name"\]: .*'name' matcher/m);
  });

  test('with --schema: every destination compiles; rules matching nothing are warnings', async () => {
    const file = tempPolicy(
      'version: 1\ndestinations:\n  d:\n    key: drop\n    fields: { userId: drop, anonymousId: drop, properties.nosuch: allow }\n',
    );
    const r = await run(['--policy', file, '--schema', 'schemas/segment-event.avsc']);
    assert.equal(r.code, EXIT.ok);
    assert.match(
      r.err,
      /warning: destinations\.d\.fields\["properties\.nosuch"\]: matches no field of the schema/,
    );
  });

  test('with --schema: consent the schema cannot satisfy is a warning; non-boolean preferences a problem', async () => {
    const file = tempPolicy(
      'version: 1\ndestinations:\n  d:\n    key: drop\n    fields: { userId: drop, anonymousId: drop }\n    consent: { categories: [Advertising] }\n',
    );
    const dir = mkdtempSync(join(tmpdir(), 'phigate-check-'));
    const bare = join(dir, 'bare.avsc');
    writeFileSync(
      bare,
      JSON.stringify({ type: 'record', name: 'E', fields: [{ name: 'messageId', type: 'string' }] }),
    );
    const warned = await run(['--policy', file, '--schema', bare]);
    assert.equal(warned.code, EXIT.ok, warned.err);
    assert.match(
      warned.err,
      /warning: destinations\.d: .*bare\.avsc: the writer schema has no context\.consent\.categoryPreferences/,
    );

    const strings = join(dir, 'strings.avsc');
    const ctx = {
      type: 'record',
      name: 'Ctx',
      fields: [
        {
          name: 'consent',
          type: {
            type: 'record',
            name: 'C',
            fields: [{ name: 'categoryPreferences', type: { type: 'map', values: 'string' } }],
          },
        },
      ],
    };
    writeFileSync(
      strings,
      JSON.stringify({ type: 'record', name: 'E', fields: [{ name: 'context', type: ctx }] }),
    );
    const bad = await run(['--policy', file, '--schema', strings]);
    assert.equal(bad.code, EXIT.invalid);
    assert.match(bad.err, /- destinations\.d: .*PHIGATE_ERR_PLAN: consent: .*maps them to string/);
  });

  test('an invalid policy: every problem on stderr with its path, EXIT.invalid', async () => {
    const file = tempPolicy(
      'version: 2\ndestinations:\n  d:\n    mode: strict\n    fields: { "a..b": allow, x: shred }\n',
    );
    const r = await run(['--policy', file]);
    assert.equal(r.code, EXIT.invalid);
    for (const line of [
      /- version: must be 1/,
      /- destinations\.d\.mode: must be one of: allowlist, blocklist/,
      /- destinations\.d\.fields\["a\.\.b"\]: bad path/,
      /- destinations\.d\.fields\["x"\]: must be one of/,
      /- destinations\.d\.hashKey: missing/,
    ]) {
      assert.match(r.err, line);
    }
    assert.equal(r.out, '');
  });

  test('usage errors', async () => {
    assert.equal((await run([])).code, EXIT.usage);
    assert.equal((await run(['--policy'])).code, EXIT.usage);
    assert.equal((await run(['--policy', 'x', '--bogus'])).code, EXIT.usage);
    const both = await run(['--policy', 'x', '--schema', 's.avsc', '--registry']);
    assert.equal(both.code, EXIT.usage);
    assert.match(both.err, /--schema and --registry exclude each other/);
    assert.equal((await run(['--policy', 'x', '--subject', 'events.raw-value'])).code, EXIT.usage);
  });

  test('--registry without SCHEMA_REGISTRY_URL: the missing setting is named, EXIT.invalid', async () => {
    const r = await run(['--policy', 'deploy/examples/policy.yaml', '--registry']);
    assert.equal(r.code, EXIT.invalid);
    assert.match(r.err, /SCHEMA_REGISTRY_URL: is required/);
  });

  test('an unusable schema file is reported', async () => {
    const r = await run(['--policy', 'deploy/examples/policy.yaml', '--schema', 'package.json']);
    assert.equal(r.code, EXIT.invalid);
    assert.match(r.err, /not a usable Avro schema/);
  });
});
