/**
 * A Kafka-protocol-aware TCP proxy in front of a test's own broker (broker.ts advertises the proxy's
 * port, so every client connection — and the broker's own inter-broker traffic — passes through it).
 * It forwards bytes unchanged, except that a test can arm it to rewrite the error code of the next
 * responses to one request type: the broker did the work, the client is told it failed. That is the
 * fault a transaction commit whose reply is lost or garbled makes: its outcome is unknown to the
 * client, and only the committed offset says whether it happened.
 *
 * Only responses whose body starts `throttle_time_ms int32, error_code int16` can be rewritten
 * (EndTxn, Heartbeat from v1, AddOffsetsToTxn, InitProducerId and the like); the request header says which is which.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

/** Kafka API keys the tests arm traps on. */
export const API = { Heartbeat: 12, InitProducerId: 22, EndTxn: 26 } as const;

/** The first version of each trapped API with a flexible (tagged-field) response header. */
const FLEXIBLE_FROM: Readonly<Record<number, number>> = {
  [API.Heartbeat]: 4,
  [API.InitProducerId]: 2,
  [API.EndTxn]: 3,
};

interface Trap {
  readonly apiKey: number;
  readonly errorCode: number;
  remaining: number;
  /** Called, in the proxy's own data handler, once the trap's last response was rewritten. */
  readonly then?: () => void;
}

export class KafkaProxy {
  readonly port: number;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #traps: Trap[] = [];
  readonly #rewritten = new Map<number, number>();

  private constructor(server: Server, port: number) {
    this.#server = server;
    this.port = port;
  }

  /** Listens on `port` (127.0.0.1) and forwards each connection to the broker at `upstream`. */
  static async start(port: number, upstream: number): Promise<KafkaProxy> {
    const server = createServer();
    const proxy = new KafkaProxy(server, port);
    server.on('connection', (client) => proxy.#pipe(client, upstream));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  /**
   * The next `count` responses to `apiKey` carry `errorCode` instead of what the broker answered.
   * `then` runs as the last of them is rewritten, before the client reads it: it can arm the next
   * trap with no window for another response to slip through.
   */
  failResponses(apiKey: number, errorCode: number, count = 1, then?: () => void): void {
    this.#traps.push({ apiKey, errorCode, remaining: count, then });
  }

  /** Disarms every trap on `apiKey`: its responses pass unchanged again (no `then` runs). */
  stopFailing(apiKey: number): void {
    for (const trap of this.#traps) if (trap.apiKey === apiKey) trap.remaining = 0;
  }

  /** Responses to `apiKey` rewritten so far. */
  rewritten(apiKey: number): number {
    return this.#rewritten.get(apiKey) ?? 0;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #pipe(client: Socket, upstream: number): void {
    const broker = connect(upstream, '127.0.0.1');
    for (const s of [client, broker]) {
      this.#sockets.add(s);
      s.setNoDelay(true);
      s.on('close', () => {
        this.#sockets.delete(s);
        client.destroy();
        broker.destroy();
      });
      s.on('error', () => undefined); // the close handler ends the pair
    }
    /** correlation id → [api key, api version] of the requests in flight on this connection. */
    const inFlight = new Map<number, readonly [number, number]>();
    frames(client, (frame) => {
      inFlight.set(frame.readInt32BE(8), [frame.readInt16BE(4), frame.readInt16BE(6)]);
      broker.write(frame);
    });
    frames(broker, (frame) => {
      const correlation = frame.readInt32BE(4);
      const request = inFlight.get(correlation);
      inFlight.delete(correlation);
      if (request !== undefined) this.#rewrite(frame, request[0], request[1]);
      client.write(frame);
    });
  }

  #rewrite(frame: Buffer, apiKey: number, version: number): void {
    const trap = this.#traps.find((t) => t.apiKey === apiKey && t.remaining > 0);
    if (trap === undefined) return;
    const flexible = version >= (FLEXIBLE_FROM[apiKey] ?? Number.POSITIVE_INFINITY);
    // size, correlation id, (tagged fields: an empty set is one 0 byte), throttle_time_ms, error_code
    const at = 4 + 4 + (flexible ? 1 : 0) + 4;
    frame.writeInt16BE(trap.errorCode, at);
    trap.remaining -= 1;
    this.#rewritten.set(apiKey, this.rewritten(apiKey) + 1);
    if (trap.remaining === 0) trap.then?.();
  }
}

/** Calls `onFrame` with each whole size-prefixed frame (the 4-byte size included) read from `socket`. */
function frames(socket: Socket, onFrame: (frame: Buffer) => void): void {
  let pending: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const end = 4 + pending.readInt32BE(0);
      if (pending.length < end) break;
      onFrame(Buffer.from(pending.subarray(0, end)));
      pending = pending.subarray(end);
    }
  });
}
