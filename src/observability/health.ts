/**
 * The operations HTTP server: GET|HEAD /healthz (liveness), /readyz (readiness), /metrics
 * (Prometheus). node:http only — three fixed routes do not need a framework. The app decides what
 * live and ready mean; this file only answers for it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { PhiGateError } from '../errors.ts';

export interface HealthServer {
  /** The bound port once started (the real one when 0 was asked for); the configured port before. */
  readonly port: number;
  /** Binds and listens. Idempotent; rejects with the bind error (e.g. EADDRINUSE) or PHIGATE_ERR_CLOSED. */
  start(): Promise<void>;
  /** Stops accepting, ends open (keep-alive) connections. Idempotent; safe before start. */
  close(): Promise<void>;
}

export interface HealthServerOptions {
  readonly host: string;
  readonly port: number;
  readonly registry: Registry;
  /** /healthz: false means "restart me" (the event loop runs but processing cannot recover). */
  readonly isLive: () => boolean;
  /** /readyz: true once joined to the group with the registry reachable. */
  readonly isReady: () => boolean | Promise<boolean>;
  readonly logger: Logger;
}

type Check = () => boolean | Promise<boolean>;

// Probe bodies are constant: built once.
const OK = Buffer.from('{"status":"ok"}');
const UNAVAILABLE = Buffer.from('{"status":"unavailable"}');
const NOT_FOUND = Buffer.from('{"status":"not found"}');
const NOT_ALLOWED = Buffer.from('{"status":"method not allowed"}');
const METRICS_FAILED = Buffer.from('metrics collection failed\n');
const JSON_TYPE = 'application/json; charset=utf-8';

/** Probes and scrapes are tiny: a client slower than this is stuck, not busy. */
const HEADERS_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 10_000;

function send(res: ServerResponse, status: number, contentType: string, body: Buffer | string): void {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': bytes.length,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  // Node sends no body for HEAD, but keeps Content-Length: HEAD answers as GET would.
  res.end(bytes);
}

export function createHealthServer(options: HealthServerOptions): HealthServer {
  const { host, registry, logger } = options;
  const log = logger.child({ component: 'health' });

  async function probe(res: ServerResponse, check: Check, name: string): Promise<void> {
    let healthy = false;
    try {
      healthy = await check();
    } catch (err) {
      // A failing check means "not healthy", never a 500: probes only understand 200 vs not.
      log.warn({ err, probe: name }, 'health check threw');
    }
    send(res, healthy ? 200 : 503, JSON_TYPE, healthy ? OK : UNAVAILABLE);
  }

  async function metrics(res: ServerResponse): Promise<void> {
    try {
      const text = await registry.metrics();
      send(res, 200, registry.contentType, text);
    } catch (err) {
      log.error({ err }, 'metrics collection failed');
      send(res, 500, 'text/plain; charset=utf-8', METRICS_FAILED);
    }
  }

  const routes = new Map<string, (res: ServerResponse) => Promise<void>>([
    ['/healthz', (res) => probe(res, options.isLive, 'live')],
    ['/readyz', (res) => probe(res, options.isReady, 'ready')],
    ['/metrics', metrics],
  ]);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const route = routes.get(query < 0 ? url : url.slice(0, query)); // the query string is ignored
    if (route === undefined) return send(res, 404, JSON_TYPE, NOT_FOUND);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, JSON_TYPE, NOT_ALLOWED);
    }
    return route(res);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error({ err }, 'health server request failed');
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else res.destroy();
    });
  });
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;

  let boundPort: number | undefined;
  let starting: Promise<void> | undefined;
  let closing: Promise<void> | undefined;

  function listen(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      server.once('error', onError);
      server.listen(options.port, host, () => {
        server.off('error', onError);
        // After a successful bind, errors are per connection; log rather than crash.
        server.on('error', (err) => log.error({ err }, 'health server error'));
        boundPort = (server.address() as AddressInfo).port;
        log.info({ host, port: boundPort }, 'health and metrics server listening');
        resolve();
      });
    });
  }

  async function shutdown(): Promise<void> {
    await starting?.catch(() => undefined); // close during start: let the bind settle first
    if (!server.listening) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // close() alone waits for keep-alive connections (Prometheus keeps them) to time out.
      server.closeAllConnections();
    });
    log.info('health and metrics server closed');
  }

  return {
    get port() {
      return boundPort ?? options.port;
    },
    start() {
      if (closing !== undefined) {
        return Promise.reject(new PhiGateError('PHIGATE_ERR_CLOSED', 'health server is closed'));
      }
      starting ??= listen();
      return starting;
    },
    close() {
      closing ??= shutdown();
      return closing;
    },
  };
}
