import assert from 'node:assert/strict';
import { request } from 'node:http';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { Gauge, Registry } from 'prom-client';
import { isPhiGateError } from '../../../src/errors.ts';
import { createHealthServer, type HealthServerOptions } from '../../../src/observability/health.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import { createMetrics } from '../../../src/observability/metrics.ts';

function silentLogger(lines: string[] = []) {
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  return createLogger({ level: 'debug', destination });
}

function server(overrides: Partial<HealthServerOptions> = {}) {
  const registry = new Registry();
  createMetrics(registry, { defaultMetrics: false });
  return createHealthServer({
    host: '127.0.0.1',
    port: 0,
    registry,
    isLive: () => true,
    isReady: () => true,
    logger: silentLogger(),
    ...overrides,
  });
}

/** One request on a fresh connection (no pooling), so each test controls its sockets. */
function call(port: number, method: string, path: string) {
  return new Promise<{
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: string;
  }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('createHealthServer', () => {
  test('port 0 binds an ephemeral port; /healthz, /readyz and /metrics answer GET', async () => {
    const s = server();
    assert.equal(s.port, 0, 'before start: the configured port');
    await s.start();
    try {
      assert.ok(s.port > 0);
      const live = await call(s.port, 'GET', '/healthz');
      assert.equal(live.status, 200);
      assert.deepEqual(JSON.parse(live.body), { status: 'ok' });
      assert.equal(live.headers['content-type'], 'application/json; charset=utf-8');
      assert.equal(live.headers['cache-control'], 'no-store');

      const ready = await call(s.port, 'GET', '/readyz?verbose=1');
      assert.equal(ready.status, 200, 'the query string is ignored');

      const metrics = await call(s.port, 'GET', '/metrics');
      assert.equal(metrics.status, 200);
      assert.match(String(metrics.headers['content-type']), /^text\/plain; version=0\.0\.4/);
      assert.match(metrics.body, /# TYPE phigate_events_consumed_total counter/);
    } finally {
      await s.close();
    }
  });

  test('liveness and readiness follow the app, sync or async; a throwing check is 503', async () => {
    let live = true;
    let ready: boolean | Error = false;
    const logLines: string[] = [];
    const s = server({
      isLive: () => live,
      isReady: async () => {
        if (ready instanceof Error) throw ready;
        return ready;
      },
      logger: silentLogger(logLines),
    });
    await s.start();
    try {
      const notReady = await call(s.port, 'GET', '/readyz');
      assert.equal(notReady.status, 503);
      assert.deepEqual(JSON.parse(notReady.body), { status: 'unavailable' });
      ready = true;
      assert.equal((await call(s.port, 'GET', '/readyz')).status, 200);
      ready = new Error('registry probe exploded');
      assert.equal((await call(s.port, 'GET', '/readyz')).status, 503);
      assert.match(logLines.join(''), /"msg":"health check threw"/);
      live = false;
      assert.equal((await call(s.port, 'GET', '/healthz')).status, 503);
      live = true;
      assert.equal((await call(s.port, 'GET', '/healthz')).status, 200);
    } finally {
      await s.close();
    }
  });

  test('HEAD answers like GET without a body; other methods 405; other paths 404', async () => {
    const s = server();
    await s.start();
    try {
      const head = await call(s.port, 'HEAD', '/metrics');
      assert.equal(head.status, 200);
      assert.equal(head.body, '');
      assert.ok(Number(head.headers['content-length']) > 0);
      assert.equal((await call(s.port, 'HEAD', '/healthz')).status, 200);

      const post = await call(s.port, 'POST', '/metrics');
      assert.equal(post.status, 405);
      assert.equal(post.headers.allow, 'GET, HEAD');
      assert.equal((await call(s.port, 'DELETE', '/healthz')).status, 405);

      for (const path of ['/', '/metrics/', '/health', '/healthz/x', '/favicon.ico']) {
        assert.equal((await call(s.port, 'GET', path)).status, 404, path);
      }
    } finally {
      await s.close();
    }
  });

  test('a failing metrics collection is a 500, logged', async () => {
    const registry = new Registry();
    new Gauge({
      name: 'broken',
      help: 'collect throws',
      registers: [registry],
      collect() {
        throw new Error('collector failed');
      },
    });
    const logLines: string[] = [];
    const s = server({ registry, logger: silentLogger(logLines) });
    await s.start();
    try {
      assert.equal((await call(s.port, 'GET', '/metrics')).status, 500);
      assert.match(logLines.join(''), /metrics collection failed/);
    } finally {
      await s.close();
    }
  });

  test('close is idempotent, ends keep-alive connections, and refuses a later start', async () => {
    const s = server();
    await s.start();
    const port = s.port;
    // fetch keeps its connection alive in a pool: close must not wait for it to idle out.
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(res.status, 200);
    await res.text();
    const started = Date.now();
    await Promise.all([s.close(), s.close()]);
    await s.close();
    assert.ok(Date.now() - started < 1000, 'close did not wait for keep-alive sockets');
    await assert.rejects(call(port, 'GET', '/healthz'), /ECONNREFUSED/);
    await assert.rejects(s.start(), (err) => isPhiGateError(err, 'PHIGATE_ERR_CLOSED'));
    assert.equal(s.port, port, 'the port stays readable after close');
  });

  test('close before start resolves; start twice binds once', async () => {
    await server().close();
    const s = server();
    await Promise.all([s.start(), s.start()]);
    assert.ok(s.port > 0);
    await s.close();
  });

  test('a port in use rejects start with the bind error', async () => {
    const first = server();
    await first.start();
    const second = server({ port: first.port });
    try {
      await assert.rejects(second.start(), { code: 'EADDRINUSE' });
    } finally {
      await second.close();
      await first.close();
    }
  });
});
