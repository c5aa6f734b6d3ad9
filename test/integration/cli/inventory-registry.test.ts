/**
 * `phi-gate inventory --registry` and the unreviewed fields of `phi-gate check --registry`, against
 * the real registry: two versions of a uniquely named input subject; a field added in version 2 is
 * unreviewed for a policy reviewed against version 1.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { check } from '../../../src/cli/check.ts';
import { inventory } from '../../../src/cli/inventory.ts';
import { EXIT } from '../../../src/cli/io.ts';
import type { InventoryEntry } from '../../../src/policy/inventory.ts';
import { RegistryClient } from '../../../src/registry/client.ts';
import { runCommand } from '../../helpers/cli.ts';
import { deleteSubject, REGISTRY_URL, requireStack, uniqueName } from '../../helpers/stack.ts';
import { tempDir } from '../../helpers/temp.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const SEGMENT = readFileSync(join(ROOT, 'schemas', 'segment-event.avsc'), 'utf8');
const ENV = { SCHEMA_REGISTRY_URL: REGISTRY_URL, HK: 'k'.repeat(32) };

describe('phi-gate inventory --registry', () => {
  const client = new RegistryClient({ url: REGISTRY_URL, auth: null, timeoutMs: 5000 });
  const input = `${uniqueName('inventory-in')}-value`;
  const topic = uniqueName('inventory-dest');
  const dir = tempDir('inventory-registry');
  const policy = join(dir, 'policy.yaml');
  let ids: number[] = [];

  before(async () => {
    await requireStack();
    const v2 = JSON.parse(SEGMENT) as { fields: { name: string; type: unknown }[] };
    const props = v2.fields.find((f) => f.name === 'properties')?.type as [string, { fields: unknown[] }];
    props[1].fields.push(
      { name: 'referralCode', type: ['null', 'string'], default: null },
      { name: 'guardianEmail', type: ['null', 'string'], default: null },
    );
    ids = [await client.register(input, SEGMENT), await client.register(input, JSON.stringify(v2))];
    writeFileSync(
      policy,
      `version: 1\nreviewedSchemaVersions:\n  ${input}: 1\ndestinations:\n  d:\n    topic: ${topic}\n    mode: blocklist\n` +
        '    hashKey: { env: HK }\n    fields: { properties.specialty: allow }\n',
    );
  });
  after(() => Promise.all([deleteSubject(input), deleteSubject(`${topic}-value`)]));

  test('every registered version, with ids and versions; the field added in v2 is unreviewed', async () => {
    const r = await runCommand(
      inventory,
      ['--policy', policy, '--registry', '--subject', input, '--format', 'json'],
      {
        cwd: ROOT,
        env: ENV,
      },
    );
    assert.equal(r.code, EXIT.ok, r.stderr);
    const entries = JSON.parse(r.stdout) as InventoryEntry[];
    assert.deepEqual(
      [...new Set(entries.map((e) => `${e.subject}/${e.version}/${e.schemaId}`))],
      [`${input}/1/${ids[0]}`, `${input}/2/${ids[1]}`],
    );
    const v1 = entries.filter((e) => e.version === 1);
    assert.ok(v1.every((e) => e.newSinceReview === false));
    assert.ok(!v1.some((e) => e.path === 'properties.referralCode'));
    const added = entries.find((e) => e.version === 2 && e.path === 'properties.referralCode');
    assert.equal(added?.newSinceReview, true);
    // blocklist: unreviewed, it passes — exactly what a reviewer must see
    assert.deepEqual(added?.destinations.d, {
      action: 'allow',
      rule: 'mode',
      rulePath: null,
      unreviewed: true,
    });
    const old = entries.find((e) => e.version === 2 && e.path === 'properties.notes');
    assert.equal(old?.newSinceReview, false);
    assert.equal(old?.destinations.d?.unreviewed, false);

    const table = await runCommand(inventory, ['--policy', policy, '--registry', '--subject', input], {
      cwd: ROOT,
      env: ENV,
    });
    assert.equal(table.code, EXIT.ok, table.stderr);
    assert.match(table.stdout, new RegExp(`^${input} version 2 \\(schema id ${ids[1]}\\)$`, 'm'));
    assert.match(
      table.stdout,
      /^properties\.referralCode \[new\]\s+null\|string\s+allow \(mode\) UNREVIEWED$/m,
    );
  });

  test('check --registry lists the unreviewed fields with a suggested rule', async () => {
    const r = await runCommand(check, ['--policy', policy, '--registry', '--subject', input], {
      cwd: ROOT,
      env: ENV,
    });
    assert.equal(r.code, EXIT.ok, r.stderr);
    assert.match(
      r.stderr,
      /^warning: destinations\.d\.fields\["properties\.referralCode"\]: unreviewed: new in .* version 2 \(reviewed against version 1\); no rule names it, so it gets allow \(mode\)\. Suggested rule: properties\.referralCode: drop$/m,
    );
    assert.match(
      r.stderr,
      /^warning: destinations\.d\.fields\["properties\.guardianEmail"\]: unreviewed: .*, the 'email' matcher flags it; no rule names it, so it gets drop \(pii\)\. Suggested rule: properties\.guardianEmail: hash$/m,
    );
    assert.doesNotMatch(r.stderr, /properties\.specialty"\]: unreviewed/);
    assert.match(r.stdout, /reviewed against .* version 1: 2 unreviewed field rule\(s\) suggested/);
  });

  test('a reviewed version that is not registered: a warning, nothing marked', async () => {
    const file = join(dir, 'ahead.yaml');
    writeFileSync(file, readFileSync(policy, 'utf8').replace(`${input}: 1`, `${input}: 9`));
    const r = await runCommand(
      inventory,
      ['--policy', file, '--registry', '--subject', input, '--format', 'json'],
      {
        cwd: ROOT,
        env: ENV,
      },
    );
    assert.equal(r.code, EXIT.ok, r.stderr);
    assert.match(r.stderr, /warning: reviewedSchemaVersions\[".*"\]: version 9 is not registered/);
    assert.ok((JSON.parse(r.stdout) as InventoryEntry[]).every((e) => e.newSinceReview === null));
  });
});
