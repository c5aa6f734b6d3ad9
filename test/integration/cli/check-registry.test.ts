/**
 * `phi-gate check --registry` against the real registry: the policy compiled against every
 * registered version of the input subject, and each derived schema tested the way the pipeline
 * registers it — a policy change the registry would refuse is a problem before deployment.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { check } from '../../../src/cli/check.ts';
import { EXIT } from '../../../src/cli/io.ts';
import { loadPolicy } from '../../../src/policy/index.ts';
import { RegistryClient } from '../../../src/registry/client.ts';
import { compileType } from '../../../src/registry/schemas.ts';
import { runCommand } from '../../helpers/cli.ts';
import { deleteSubject, REGISTRY_URL, requireStack, uniqueName } from '../../helpers/stack.ts';
import { tempDir } from '../../helpers/temp.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const SEGMENT = readFileSync(join(ROOT, 'schemas', 'segment-event.avsc'), 'utf8');
const ENV = { SCHEMA_REGISTRY_URL: REGISTRY_URL, HK: 'k'.repeat(32) };

describe('phi-gate check --registry', () => {
  const client = new RegistryClient({ url: REGISTRY_URL, auth: null, timeoutMs: 5000 });
  const input = `${uniqueName('check-in')}-value`;
  const topic = uniqueName('check-dest');
  const dir = tempDir('check-registry');

  /** A one-destination policy on `topic`; `revenue` is the rule under test. */
  const policyFile = (name: string, revenue: string, specialty = 'allow', extra = ''): string => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(
      file,
      `version: 1\ndestinations:\n  d:\n    topic: ${topic}\n    key: drop\n    hashKey: { env: HK }\n` +
        `    fields: { userId: drop, anonymousId: drop, properties.revenue: ${revenue}, properties.specialty: ${specialty}${extra} }\n`,
    );
    return file;
  };
  const run = (file: string, extra: string[] = ['--subject', input]) =>
    runCommand(check, ['--policy', file, '--registry', ...extra], { cwd: ROOT, env: ENV });

  before(async () => {
    await requireStack();
    await client.register(input, SEGMENT);
  });
  after(() => Promise.all([deleteSubject(input), deleteSubject(`${topic}-value`)]));

  test('nothing registered for the destination yet: valid, and says what it tested', async () => {
    const r = await run(policyFile('first', 'allow'));
    assert.equal(r.code, EXIT.ok, r.stderr);
    assert.match(r.stdout, new RegExp(`1 version\\(s\\) of ${input}, 1 derived schema\\(s\\) tested`));
  });

  test('registry basic auth over http:// is a transport warning; the password is never printed', async () => {
    const r = await runCommand(
      check,
      ['--policy', policyFile('auth', 'allow'), '--registry', '--subject', input],
      {
        cwd: ROOT,
        env: { ...ENV, SCHEMA_REGISTRY_USERNAME: 'reader', SCHEMA_REGISTRY_PASSWORD: 'made-up-password-2' },
      },
    );
    assert.equal(r.code, EXIT.ok, r.stderr);
    assert.match(r.stderr, /^warning: transport: registry basic auth over http:\/\//m);
    assert.doesNotMatch(r.stderr + r.stdout, /made-up-password-2/);
  });

  test('a change the registry would refuse is a problem; a compatible one is not', async () => {
    // What the pipeline registers for the first policy, under BACKWARD compatibility.
    const policy = await loadPolicy(policyFile('registered', 'allow'), { env: ENV });
    const plan = policy.destinations[0]?.compile(compileType(JSON.parse(SEGMENT)), {
      writerSchema: JSON.parse(SEGMENT),
    });
    assert.ok(plan);
    await client.register(`${topic}-value`, JSON.stringify(plan.schema));
    const res = await fetch(`${REGISTRY_URL}/config/${encodeURIComponent(`${topic}-value`)}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ compatibility: 'BACKWARD' }),
    });
    assert.ok(res.ok, `set compatibility: HTTP ${res.status}`);

    // revenue: a double allowed → a hashed string. Readers of the new schema cannot read old data.
    const hashed = await run(policyFile('hashed', 'hash'));
    assert.equal(hashed.code, EXIT.invalid, hashed.stdout);
    assert.match(
      hashed.stderr,
      new RegExp(
        `- destinations\\.d: the derived schema for ${input} version 1 is not compatible with what ${topic}-value holds`,
      ),
    );

    // Dropping a field keeps every derived field optional: compatible.
    const dropped = await run(policyFile('dropped', 'allow', 'drop'));
    assert.equal(dropped.code, EXIT.ok, dropped.stderr);
  });

  test('every registered version of the input is checked', async () => {
    const v2 = JSON.parse(SEGMENT) as { fields: { name: string }[] };
    v2.fields.push({ name: 'channel', type: ['null', 'string'], default: null } as never);
    await client.register(input, JSON.stringify(v2));
    // Identical derived schemas are tested once: v2's new field is dropped by default-deny…
    const same = await run(policyFile('same', 'allow'));
    assert.equal(same.code, EXIT.ok, same.stderr);
    assert.match(same.stdout, new RegExp(`2 version\\(s\\) of ${input}, 1 derived schema\\(s\\) tested`));
    // …and allowed, it makes a second one (an added optional field: compatible).
    const r = await run(policyFile('two', 'allow', 'allow', ', channel: allow'));
    assert.equal(r.code, EXIT.ok, r.stderr);
    assert.match(r.stdout, new RegExp(`2 version\\(s\\) of ${input}, 2 derived schema\\(s\\) tested`));
  });

  test('an input subject with nothing registered, or no registry: a clear error', async () => {
    const none = await run(policyFile('none', 'allow'), ['--subject', `${uniqueName('absent')}-value`]);
    assert.equal(none.code, EXIT.invalid);
    assert.match(none.stderr, /has no registered schema: nothing to check the policy against/);
    const down = await runCommand(check, ['--policy', policyFile('down', 'allow'), '--registry'], {
      cwd: ROOT,
      env: { ...ENV, SCHEMA_REGISTRY_URL: 'http://127.0.0.1:9' },
    });
    assert.equal(down.code, EXIT.failure);
    assert.match(down.stderr, /PHIGATE_ERR_REGISTRY_UNAVAILABLE/);
  });
});
