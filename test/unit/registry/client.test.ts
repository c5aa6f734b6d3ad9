/**
 * RegistryClient's classification of 404 answers and its memory of unknown ids, against a tiny
 * local HTTP server that answers as a registry (or as something that is not one) would.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { isPhiGateError } from '../../../src/errors.ts';
import { RegistryClient } from '../../../src/registry/client.ts';
import { WriterTypes } from '../../../src/registry/schemas.ts';

interface Answer {
  readonly status: number;
  readonly body: string;
}

const json = (status: number, body: unknown): Answer => ({ status, body: JSON.stringify(body) });
const SCHEMA = JSON.stringify({ type: 'record', name: 'R', fields: [{ name: 'a', type: 'string' }] });

describe('registry client: 404 answers', () => {
  let server: Server;
  let base = '';
  const hits: string[] = [];
  /** path → answer; unlisted paths get an ingress-style HTML 404. */
  const answers = new Map<string, Answer>();

  before(async () => {
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      const path = (req.url ?? '').replace(/^\/api/, '');
      const a = answers.get(path) ?? { status: 404, body: '<html><body>404 page not found</body></html>' };
      // a slow answer, so that concurrent loads overlap
      setTimeout(() => res.writeHead(a.status, { 'Content-Type': 'application/json' }).end(a.body), 20);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    answers.set('/schemas/ids/7', json(404, { error_code: 40403, message: 'Schema 7 not found' }));
    answers.set('/schemas/ids/8', json(404, { error_code: 40401, message: 'Subject not found' }));
    answers.set('/schemas/ids/9', json(404, { message: 'not found' }));
    answers.set('/schemas/ids/10', json(200, { schema: SCHEMA }));
    answers.set('/subjects/s-value/versions', json(404, { error_code: 40401, message: 'Subject not found' }));
    answers.set('/subjects/t-value/versions', json(404, { error_code: 40403, message: '?' }));
    answers.set(
      '/subjects/s-value/versions/1',
      json(404, { error_code: 40402, message: 'Version not found' }),
    );
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const client = (options: { ttl?: number; path?: string } = {}) =>
    new RegistryClient({
      url: `${base}${options.path ?? '/api'}`,
      auth: null,
      timeoutMs: 2000,
      ...(options.ttl === undefined ? {} : { unknownSchemaTtlMs: options.ttl }),
    });
  const unavailable = (err: unknown) =>
    isPhiGateError(err, 'PHIGATE_ERR_REGISTRY_UNAVAILABLE') && err.disposition === 'pause' && err.retryable;
  const unknown = (err: unknown) =>
    isPhiGateError(err, 'PHIGATE_ERR_UNKNOWN_SCHEMA') && err.disposition === 'dlq';

  test('only error code 40403 on an id is an unknown schema (dead letter)', async () => {
    await assert.rejects(client().getSchema(7), unknown);
  });
  test('any other 404 on an id is the registry unavailable (pause and retry)', async () => {
    await assert.rejects(client().getSchema(8), unavailable); // 40401 makes no sense for an id
    await assert.rejects(client().getSchema(9), unavailable); // JSON without a code
    await assert.rejects(client().getSchema(11), unavailable); // an HTML 404 page
    await assert.rejects(client({ path: '/apis/nope' }).getSchema(7), (err) => {
      assert.ok(unavailable(err));
      assert.match((err as Error).message, /HTTP 404 with no Confluent error code .*SCHEMA_REGISTRY_URL/);
      return true;
    });
  });
  test('subject lookups: 40401 / 40402 mean "not there"; other 404s are unavailable', async () => {
    const c = client();
    assert.deepEqual(await c.subjectVersions('s-value'), []);
    await assert.rejects(c.subjectVersions('t-value'), unavailable);
    await assert.rejects(c.subjectVersions('u-value'), unavailable);
    await assert.rejects(c.subjectSchema('s-value', 1), unknown);
    await assert.rejects(c.subjectSchema('u-value', 1), unavailable);
    await assert.rejects(c.isCompatible('u-value', SCHEMA), unavailable);
  });
  test('an unknown id is remembered: one request, however many records ask', async () => {
    const c = client();
    hits.length = 0;
    for (let i = 0; i < 5; i++) await assert.rejects(c.getSchema(7), unknown);
    assert.equal(hits.length, 1);
    const types = new WriterTypes(c);
    await Promise.all(Array.from({ length: 10 }, () => assert.rejects(types.load(7), unknown)));
    assert.equal(hits.length, 1);
  });
  test('concurrent loads of an unknown id share one request; the memory expires', async () => {
    const c = client({ ttl: 50 });
    const types = new WriterTypes(c);
    hits.length = 0;
    await Promise.all(Array.from({ length: 10 }, () => assert.rejects(types.load(7), unknown)));
    assert.equal(hits.length, 1);
    await new Promise((r) => setTimeout(r, 60));
    await assert.rejects(c.getSchema(7), unknown);
    assert.equal(hits.length, 2);
  });
  test('an unavailable answer is not remembered (the next record asks again)', async () => {
    const c = client();
    hits.length = 0;
    await assert.rejects(c.getSchema(9), unavailable);
    await assert.rejects(c.getSchema(9), unavailable);
    assert.equal(hits.length, 2);
    assert.equal(JSON.parse((await c.getSchema(10)).schema).name, 'R');
  });
});
