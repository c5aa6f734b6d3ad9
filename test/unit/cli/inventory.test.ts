import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { inventory } from '../../../src/cli/inventory.ts';
import { EXIT } from '../../../src/cli/io.ts';
import { runCommand } from '../../helpers/cli.ts';
import { tempDir } from '../../helpers/temp.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const POLICY = 'deploy/examples/policy.yaml';

async function run(argv: string[], env: Record<string, string> = {}) {
  return runCommand(inventory, argv, { cwd: ROOT, env });
}

describe('phi-gate inventory', () => {
  test('table (default): one row per field, a column per destination, the Segment schema by default', async () => {
    const r = await run(['--policy', POLICY]);
    assert.equal(r.code, EXIT.ok, r.stderr);
    const lines = r.stdout.split('\n');
    assert.match(lines[0] ?? '', /schemas\/segment-event\.avsc$/);
    assert.match(lines[1] ?? '', /^path\s+type\s+matcher\s+google-ads\s+mixpanel\s+warehouse$/);
    const row = lines.find((l) => l.startsWith('properties.email '));
    assert.match(
      row ?? '',
      /^properties\.email\s+null\|string\s+email\s+drop \(pii\)\s+drop \(pii\)\s+encrypt \(pii\)$/,
    );
    assert.match(r.stdout, /^context\.library\.version\s.*allow \(explicit: context\.library\)/m);
    assert.match(r.stdout, /^cells: action/m);
    assert.equal(r.stderr, '');
  });

  test('json: the entries as they are, parseable', async () => {
    const r = await run(['--policy', POLICY, '--format', 'json']);
    assert.equal(r.code, EXIT.ok, r.stderr);
    const entries = JSON.parse(r.stdout);
    const email = entries.find((e: { path: string }) => e.path === 'traits.email');
    assert.deepEqual(email.destinations['google-ads'], {
      action: 'sha256:email',
      rule: 'explicit',
      rulePath: 'traits.email',
      unreviewed: false,
    });
    assert.deepEqual(email.classification, { matcher: 'email', source: 'builtin' });
    assert.equal(email.schemaId, null);
  });

  test('markdown: a table per schema, pipes inside cells escaped', async () => {
    const r = await run(['--policy', POLICY, '--format', 'markdown']);
    assert.equal(r.code, EXIT.ok, r.stderr);
    assert.match(r.stdout, /^### .*segment-event\.avsc$/m);
    assert.match(r.stdout, /^\| path \| type \| matcher \| google-ads \| mixpanel \| warehouse \|$/m);
    assert.match(r.stdout, /^\| event \| null\\\|string \| {2}\| allow \(envelope\) \|/m);
  });

  test('--schema: any writer schema', async () => {
    const dir = tempDir('inventory');
    const file = join(dir, 's.avsc');
    writeFileSync(
      file,
      JSON.stringify({
        type: 'record',
        name: 'E',
        fields: [
          { name: 'messageId', type: 'string' },
          { name: 'labs', type: { type: 'map', values: { type: 'array', items: 'double' } } },
        ],
      }),
    );
    const r = await run(['--policy', POLICY, '--schema', file, '--format', 'json']);
    assert.equal(r.code, EXIT.ok, r.stderr);
    assert.deepEqual(
      JSON.parse(r.stdout).map((e: { path: string; avroType: string }) => [e.path, e.avroType]),
      [
        ['messageId', 'string'],
        ['labs.*[]', 'double'],
      ],
    );
  });

  test('usage and input errors', async () => {
    assert.equal((await run([])).code, EXIT.usage);
    const fmt = await run(['--policy', POLICY, '--format', 'csv']);
    assert.equal(fmt.code, EXIT.usage);
    assert.match(fmt.stderr, /--format must be one of: table, json, markdown/);
    assert.equal((await run(['--policy', POLICY, '--schema', 'x.avsc', '--registry'])).code, EXIT.usage);
    assert.equal((await run(['--policy', POLICY, '--subject', 's'])).code, EXIT.usage);
    assert.equal((await run(['--policy', POLICY, '--schema', 'package.json'])).code, EXIT.invalid);
    const noRegistry = await run(['--policy', POLICY, '--registry']);
    assert.equal(noRegistry.code, EXIT.invalid);
    assert.match(noRegistry.stderr, /SCHEMA_REGISTRY_URL: is required/);
    const dir = tempDir('inventory');
    writeFileSync(join(dir, 'bad.yaml'), 'version: 1\ndestinations: {}\n');
    assert.equal((await run(['--policy', join(dir, 'bad.yaml')])).code, EXIT.invalid);
  });
});
