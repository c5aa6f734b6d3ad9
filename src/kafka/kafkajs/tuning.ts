/**
 * kafkajs (2.2.4, its last release) patched where the profile and the request counts showed it
 * wasting time. Applied at start by the service (and by the benchmark's pass-through, so that the
 * two are compared with the same client). Idempotent.
 *
 * 1. Coordinator lookups. Every transactional step — adding partitions, adding offsets, committing
 *    offsets, ending the transaction — asked the cluster anew which broker coordinates the
 *    transaction or the group: four FindCoordinator round trips per transaction, measured at a 45 ms
 *    average transaction. Answers are now reused for `COORDINATOR_TTL_MS` per client. A coordinator
 *    that moves is found again at most that long after; requests sent to the old one meanwhile fail
 *    as NOT_COORDINATOR and are retried by kafkajs, as they would be anyway.
 *
 * 2. `writeUVarInt` built a JavaScript array and a Buffer from it for every varint (several per
 *    record). The replacement writes the bytes in place; it produces byte-identical requests
 *    (test/unit/kafka/kafkajs/tuning.test.ts checks random write sequences against kafkajs's own
 *    method). It makes room with kafkajs's own `ensureAvailable` and writes every byte it claims.
 *
 * Removed: an earlier `ensureAvailable` that grew buffers with `Buffer.allocUnsafe`. Any encoder
 * path that skipped a byte would then have sent uninitialised heap memory — which can hold PHI —
 * to the broker; proving that no path of kafkajs's protocol encoders ever skips one is not worth
 * its share of the ~8 % of CPU the two encoder patches saved together. kafkajs's zero-filling growth is used again.
 */
import { createRequire } from 'node:module';

interface EncoderInstance {
  buf: Buffer;
  offset: number;
  ensureAvailable(length: number): void;
  writeUVarInt(value: number): EncoderInstance;
}

interface EncoderClass {
  prototype: EncoderInstance;
}

interface CoordinatorQuery {
  readonly groupId: string;
  readonly coordinatorType?: number;
}

type CoordinatorLookup = (this: object, query: CoordinatorQuery) => Promise<unknown>;

const require = createRequire(import.meta.url);
const Encoder = require('kafkajs/src/protocol/encoder.js') as EncoderClass;
const Cluster = require('kafkajs/src/cluster/index.js') as {
  prototype: { findGroupCoordinatorMetadata: CoordinatorLookup };
};

/** How long one client reuses a coordinator lookup. */
export const COORDINATOR_TTL_MS = 1000;

/**
 * `lookup` with its answers reused per client (`this`) and (group or transactional id, coordinator
 * type) for `ttlMs`. Concurrent callers share one request; a failed lookup is not kept.
 */
export function reuseCoordinatorLookups(
  lookup: CoordinatorLookup,
  ttlMs = COORDINATOR_TTL_MS,
  now: () => number = Date.now,
): CoordinatorLookup {
  const caches = new WeakMap<object, Map<string, { at: number; answer: Promise<unknown> }>>();
  return function (this: object, query: CoordinatorQuery): Promise<unknown> {
    let cache = caches.get(this);
    if (cache === undefined) {
      cache = new Map();
      caches.set(this, cache);
    }
    const key = `${query.coordinatorType ?? 0}/${query.groupId}`;
    const hit = cache.get(key);
    if (hit !== undefined && now() - hit.at < ttlMs) return hit.answer;
    const answer = lookup.call(this, query);
    const entry = { at: now(), answer };
    cache.set(key, entry);
    answer.catch(() => {
      if (cache.get(key) === entry) cache.delete(key);
    });
    return answer;
  };
}

const originalLookup = Cluster.prototype.findGroupCoordinatorMetadata;
const reusedLookup = reuseCoordinatorLookups(originalLookup);

/** kafkajs's own method, for `restoreKafkajs`. */
const originalWriteUVarInt = Encoder.prototype.writeUVarInt;

/** Unsigned LEB128 of a 32-bit value (what kafkajs writes: `value` is treated as uint32). */
function writeUVarInt(this: EncoderInstance, value: number): EncoderInstance {
  let v = value >>> 0;
  this.ensureAvailable(5);
  const buf = this.buf;
  let offset = this.offset;
  while (v > 0x7f) {
    buf[offset++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[offset++] = v;
  this.offset = offset;
  return this;
}

export function tuneKafkajs(): void {
  Cluster.prototype.findGroupCoordinatorMetadata = reusedLookup;
  Encoder.prototype.writeUVarInt = writeUVarInt;
}

/** Puts kafkajs's own methods back (tests). */
export function restoreKafkajs(): void {
  Cluster.prototype.findGroupCoordinatorMetadata = originalLookup;
  Encoder.prototype.writeUVarInt = originalWriteUVarInt;
}
