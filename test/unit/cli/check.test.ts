import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { check } from '../../../src/cli/check.ts';
import { EXIT } from '../../../src/cli/io.ts';
import { runCommand } from '../../helpers/cli.ts';
import { tempDir } from '../../helpers/temp.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');

async function run(
  argv: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  const r = await runCommand(check, argv, { cwd: ROOT, env });
  return { code: r.code, out: r.stdout, err: r.stderr };
}

function tempPolicy(yaml: string): string {
  const dir = tempDir('check');
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
    const dir = tempDir('check');
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
      /- destinations\.d\.fields\["x"\]: unknown action "shred"/,
      /- destinations\.d\.hashKey: missing/,
    ]) {
      assert.match(r.err, line);
    }
    assert.equal(r.out, '');
  });

  test('transport warnings of the environment it runs in: SASL without TLS', async () => {
    const env = {
      KAFKA_BROKERS: 'kafka:9092',
      KAFKA_SASL_MECHANISM: 'plain',
      KAFKA_SASL_USERNAME: 'phigate',
      KAFKA_SASL_PASSWORD: 'made-up-password-1',
    };
    const r = await run(['--policy', 'deploy/examples/policy.yaml'], env);
    assert.equal(r.code, EXIT.ok, r.err);
    assert.match(r.err, /^warning: transport: KAFKA_SASL_MECHANISM=plain without KAFKA_SSL=true/m);
    assert.doesNotMatch(r.err + r.out, /made-up-password-1/);
    const secure = await run(['--policy', 'deploy/examples/policy.yaml'], { ...env, KAFKA_SSL: 'true' });
    assert.doesNotMatch(secure.err, /warning: transport/);
    const broken = await run(['--policy', 'deploy/examples/policy.yaml'], {
      KAFKA_BROKERS: 'kafka:9092',
      KAFKA_SASL_MECHANISM: 'plain',
    });
    assert.equal(broken.code, EXIT.invalid);
    assert.match(broken.err, /KAFKA_SASL_USERNAME: is required/);
  });

  test("a destination on phi-gate's own topics (as the environment names them) is a problem", async () => {
    const file = tempPolicy(
      'version: 1\ndestinations:\n  d:\n    key: drop\n    topic: events.raw\n    fields: { userId: drop, anonymousId: drop }\n',
    );
    const r = await run(['--policy', file]);
    assert.equal(r.code, EXIT.invalid);
    assert.match(
      r.err,
      /destinations\.d\.topic: topic 'events\.raw' is the input topic \(PHIGATE_INPUT_TOPIC\)/,
    );
    const moved = await run(['--policy', file], {
      PHIGATE_INPUT_TOPIC: 'events.in',
      PHIGATE_DLQ_TOPIC: 'events.raw',
    });
    assert.equal(moved.code, EXIT.invalid);
    assert.match(moved.err, /is the dead-letter topic \(PHIGATE_DLQ_TOPIC\)/);
    const elsewhere = await run(['--policy', file], { PHIGATE_INPUT_TOPIC: 'events.in' });
    assert.equal(elsewhere.code, EXIT.ok, elsewhere.err);
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
