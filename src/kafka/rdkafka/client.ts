/**
 * What both uses of librdkafka share — the engine and the read-only reader of `phi-gate diff`:
 * its callback API as promises, connecting with a clear failure, and its messages as the
 * pipeline's input records.
 */
import type { EventEmitter } from 'node:events';
import type { KafkaConsumer, Message, Producer } from '@confluentinc/kafka-javascript';
import type { InputRecord, RecordHeaders } from '../../pipeline/records.ts';
import { connectFailure } from './errors.ts';

/** A node-style callback API as a promise. */
export function call<T = void>(start: (cb: (err: unknown, value?: T) => void) => unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    start((err, value) => (err ? reject(err) : resolve(value as T)));
  });
}

/**
 * Connects a client: reaches a broker and reads the cluster's metadata, within the connection
 * timeout. A refused password or certificate only shows as the timeout here (librdkafka retries
 * it for ever); the client's last error event names it (errors.ts `connectFailure`).
 */
export async function connectClient(client: Producer | KafkaConsumer, timeout: number): Promise<void> {
  // both clients are EventEmitters; their typings overload `on` per client
  const events = client as unknown as EventEmitter & { lastError?: unknown };
  let lastFailure: string | undefined;
  const onLog = (event: { fac?: string; message?: string }) => {
    if (event.fac === 'FAIL' && event.message !== undefined) lastFailure = event.message;
  };
  events.on('event.log', onLog);
  try {
    await call<unknown>((cb) => client.connect({ timeout }, cb));
  } catch (err) {
    await new Promise((resolve) => setImmediate(resolve)); // events queued before the callback
    throw connectFailure(err, events.lastError, lastFailure);
  } finally {
    events.off('event.log', onLog);
  }
}

/** A consumed message as the pipeline's input record (its key and value buffers are not copied). */
export function toRecord(m: Message): InputRecord {
  const record: { -readonly [K in keyof InputRecord]: InputRecord[K] } = {
    key: m.key === undefined || m.key === null ? null : Buffer.isBuffer(m.key) ? m.key : Buffer.from(m.key),
    value: m.value,
    offset: String(m.offset),
    timestamp: String(m.timestamp ?? Date.now()),
  };
  if (m.headers !== undefined && m.headers.length > 0) record.headers = headersOf(m.headers);
  return record;
}

/** librdkafka's header list (one object per header, names may repeat) → name → value(s). */
function headersOf(list: readonly Record<string, string | Buffer>[]): RecordHeaders {
  const out: Record<string, Buffer | string | (Buffer | string)[]> = {};
  for (const header of list) {
    for (const [name, value] of Object.entries(header)) {
      const existing = out[name];
      if (existing === undefined) out[name] = value;
      else if (Array.isArray(existing)) existing.push(value);
      else out[name] = [existing, value];
    }
  }
  return out;
}
