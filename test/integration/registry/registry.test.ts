/**
 * The registry client and its caches against the real registry: one request per schema id however
 * many records ask at once, errors classified for the DLQ / fail-closed / pause decisions.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { isPhiGateError } from '../../../src/errors.ts';
import { Decoder } from '../../../src/pipeline/decode.ts';
import { RegistryClient } from '../../../src/registry/client.ts';
import { DerivedSchemas, WriterTypes } from '../../../src/registry/schemas.ts';
import { REGISTRY_URL, requireStack, TestTopics, uniqueName } from '../../helpers/stack.ts';

const segment = new URL('../../../schemas/segment-event.avsc', import.meta.url);

describe('registry client', () => {
  const topics = new TestTopics();
  const requests: string[] = [];
  const client = new RegistryClient({
    url: REGISTRY_URL,
    auth: null,
    timeoutMs: 5000,
    onRequest: (op, outcome) => requests.push(`${op}:${outcome}`),
  });

  before(requireStack);
  after(() => topics.cleanup());

  test('concurrent misses for one id share a single registry request', async () => {
    const subject = uniqueName('registry-test');
    topics.track(subject);
    const id = await client.register(`${subject}-value`, await readFile(segment, 'utf8'));
    const types = new WriterTypes(client);
    requests.length = 0;
    const loaded = await Promise.all(Array.from({ length: 20 }, () => types.load(id)));
    assert.equal(requests.filter((r) => r.startsWith('get_schema')).length, 1);
    assert.ok(
      loaded.every((t) => t === loaded[0]),
      'one compiled Type shared',
    );
    assert.equal(types.peek(id), loaded[0]);
    assert.equal((loaded[0] as { name?: string }).name, 'dev.phigate.example.SegmentEvent');
  });

  test('the parsed writer schema is kept beside the Type: it carries the logical types plans need', async () => {
    const subject = uniqueName('registry-schema');
    topics.track(subject);
    const text = await readFile(segment, 'utf8');
    const id = await client.register(`${subject}-value`, text);
    const types = new WriterTypes(client);
    assert.equal(types.schema(id), undefined, 'nothing before load');
    await types.load(id);
    assert.deepEqual(types.schema(id), JSON.parse(text));
    assert.match(JSON.stringify(types.schema(id)), /"logicalType":"timestamp-millis"/);
  });

  test('an unknown id is PHIGATE_ERR_UNKNOWN_SCHEMA (DLQ), not a retry', async () => {
    const types = new WriterTypes(client);
    await assert.rejects(
      types.load(2_000_000_000),
      (err) => isPhiGateError(err, 'PHIGATE_ERR_UNKNOWN_SCHEMA') && err.disposition === 'dlq',
    );
  });

  test('the registry answers an unknown id with 40403: the record is dead-lettered, and the miss remembered', async () => {
    const res = await fetch(`${REGISTRY_URL}/schemas/ids/2000000001`);
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { error_code?: unknown }).error_code, 40403);
    const fresh = new RegistryClient({
      url: REGISTRY_URL,
      auth: null,
      timeoutMs: 5000,
      onRequest: (op, outcome) => requests.push(`${op}:${outcome}`),
    });
    const decoder = new Decoder(new WriterTypes(fresh));
    const framed = Buffer.from([0, 0x77, 0x35, 0x94, 0x01, 0x02]); // id 2000000001
    requests.length = 0;
    for (let i = 0; i < 5; i++) {
      const out = await decoder.decode(framed);
      assert.equal(out.ok, false);
      assert.ok(!out.ok && isPhiGateError(out.error, 'PHIGATE_ERR_UNKNOWN_SCHEMA'));
      assert.equal(!out.ok && out.error.disposition, 'dlq');
    }
    assert.deepEqual(requests, ['get_schema:not_found'], 'one registry request for five records');
  });

  test('a wrong base path (404 without 40403) is PHIGATE_ERR_REGISTRY_UNAVAILABLE: pause, never DLQ', async () => {
    const wrong = new RegistryClient({
      url: new URL('/apis/nope', REGISTRY_URL).toString(),
      auth: null,
      timeoutMs: 5000,
    });
    await assert.rejects(
      wrong.getSchema(1),
      (err) => isPhiGateError(err, 'PHIGATE_ERR_REGISTRY_UNAVAILABLE') && err.disposition === 'pause',
    );
    const decoder = new Decoder(new WriterTypes(wrong));
    await assert.rejects(
      async () => decoder.decode(Buffer.from([0, 0, 0, 0, 1, 0])),
      (err) => isPhiGateError(err, 'PHIGATE_ERR_REGISTRY_UNAVAILABLE'),
      'the decoder throws (the batch pauses) instead of returning a dead letter',
    );
    await assert.rejects(wrong.subjectVersions('events.raw-value'), (err) =>
      isPhiGateError(err, 'PHIGATE_ERR_REGISTRY_UNAVAILABLE'),
    );
  });

  test('subject lookups of a missing subject (40401): no versions, compatible with anything', async () => {
    const subject = `${uniqueName('missing')}-value`;
    assert.deepEqual(await client.subjectVersions(subject), []);
    assert.equal(await client.isCompatible(subject, JSON.stringify({ type: 'string' })), true);
    await assert.rejects(client.subjectSchema(subject, 1), (err) =>
      isPhiGateError(err, 'PHIGATE_ERR_UNKNOWN_SCHEMA'),
    );
  });

  test('an unreachable registry is PHIGATE_ERR_REGISTRY_UNAVAILABLE (pause and retry)', async () => {
    const down = new RegistryClient({
      url: 'http://127.0.0.1:1/apis/ccompat/v7',
      auth: null,
      timeoutMs: 1000,
    });
    await assert.rejects(
      down.getSchema(1),
      (err) => isPhiGateError(err, 'PHIGATE_ERR_REGISTRY_UNAVAILABLE') && err.retryable,
    );
    assert.equal(await down.ping(), false);
  });

  test('an incompatible derived schema is PHIGATE_ERR_REGISTRY_REJECTED (fail closed), remembered for a while', async () => {
    const subject = `${uniqueName('derived')}-value`;
    await client.register(
      subject,
      JSON.stringify({ type: 'record', name: 'R', fields: [{ name: 'a', type: 'int' }] }),
    );
    const res = await fetch(`${REGISTRY_URL}/config/${encodeURIComponent(subject)}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ compatibility: 'BACKWARD' }),
    });
    assert.ok(res.ok, `set compatibility: HTTP ${res.status}`);
    const derived = new DerivedSchemas(client);
    const incompatible = JSON.stringify({
      type: 'record',
      name: 'R',
      fields: [{ name: 'a', type: 'string' }],
    });
    await assert.rejects(derived.register(subject, incompatible), (err) =>
      isPhiGateError(err, 'PHIGATE_ERR_REGISTRY_REJECTED'),
    );
    requests.length = 0;
    await assert.rejects(derived.register(subject, incompatible), (err) =>
      isPhiGateError(err, 'PHIGATE_ERR_REGISTRY_REJECTED'),
    );
    assert.equal(requests.length, 0, 'the rejection is cached; no second request');
    await fetch(`${REGISTRY_URL}/subjects/${encodeURIComponent(subject)}`, { method: 'DELETE' });
    await fetch(`${REGISTRY_URL}/subjects/${encodeURIComponent(subject)}?permanent=true`, {
      method: 'DELETE',
    });
  });
});
