/**
 * An in-process driver of the pipeline for unit tests, after Kafka Streams' TopologyTestDriver: the
 * batch step of src/pipeline/ with a real policy, real codecs and real metrics, on records held in
 * memory. No broker, no registry: schemas live in a MemorySchemaStore (which checks no
 * compatibility). Integration tests keep the real broker and registry; this is for unit tests only.
 *
 * The pieces are built as src/app.ts builds them (WriterTypes, DerivedSchemas, Routes, Decoder,
 * AuditEncoder, BatchStep); the policy is a PolicySource that is never started, so it stays the one
 * it was opened with. `run()` plays the kafkajs engine: each partition's records from its committed
 * offset, in chunks of at most `maxRecords` (src/kafka/chunks.ts, the engine's own split), one
 * transaction per chunk, `committed()` after it. `abandonNext()` makes a transaction fail instead:
 * its outputs are discarded, `abandoned()` is called and the run stops; the next `run()` processes
 * the same records again, as the partition's next owner would.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type avro from 'avsc';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { PhiGateError } from '../../src/errors.ts';
import { chunksOf } from '../../src/kafka/chunks.ts';
import { createMetrics, type Metrics } from '../../src/observability/metrics.ts';
import { AuditEncoder } from '../../src/pipeline/audit.ts';
import { Decoder } from '../../src/pipeline/decode.ts';
import { PolicySource } from '../../src/pipeline/policy-source.ts';
import {
  type InputRecord,
  type OutMessage,
  type RecordHeaders,
  unreadableRecord,
} from '../../src/pipeline/records.ts';
import { createRoutes } from '../../src/pipeline/routes.ts';
import { BatchStep, type StepResult } from '../../src/pipeline/step.ts';
import { frame, frameHeader, unframe } from '../../src/pipeline/wire.ts';
import {
  type Destination,
  fromNaturalJson,
  type Policy,
  type RuntimeTopics,
} from '../../src/policy/index.ts';
import { compileType, valueSubject } from '../../src/registry/schemas.ts';
import { MemorySchemaStore } from './memory-registry.ts';
import { tempDir } from './temp.ts';

export const SEGMENT_SCHEMA_FILE = new URL('../../schemas/segment-event.avsc', import.meta.url);

/** 2026-01-01T00:00:00Z: the driver's clock unless told otherwise, so that outputs are reproducible. */
export const DRIVER_EPOCH_MS = 1_767_225_600_000;

export interface DriverOptions {
  /** Policy YAML text, or a policy file. Relative key paths in text resolve against a temporary directory. */
  readonly policy: string | { readonly file: string };
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly topics?: RuntimeTopics;
  /** Partition counts of the topics phi-gate writes (default 1): where keyless destination records go. */
  readonly partitions?: Readonly<Record<string, number>>;
  /** Most records per step call (PHIGATE_BATCH_MAX_RECORDS; default 1000, as the service's). */
  readonly maxRecords?: number;
  /** The step's clock (audit `processedAt`); a fixed instant by default. */
  readonly now?: () => number;
}

export interface PipeOptions {
  /** The record key; a function of the item and its index; default the event's userId / anonymousId (raw values: none). */
  readonly key?: Buffer | string | null | ((item: PipeItem, index: number) => Buffer | string | null);
  readonly headers?: RecordHeaders;
  /** Writer schema id events are encoded with; default the last one `registerInput` returned. */
  readonly schemaId?: number;
}

/** An event (natural JSON, encoded with a registered input schema), raw value bytes, or a tombstone. */
export type PipeItem = Readonly<Record<string, unknown>> | Buffer | null;

export interface RunSummary {
  /** Step calls whose transaction committed. */
  readonly committed: number;
  /** Step calls whose transaction was abandoned (at most one: the run stops there). */
  readonly abandoned: number;
  /** Input records of the committed transactions. */
  readonly records: number;
}

export interface AuditRecord {
  readonly key: string;
  readonly entry: Record<string, unknown>;
}

const DEFAULT_TOPICS: RuntimeTopics = { input: 'events.raw', audit: 'events.audit', dlq: 'events.dlq' };

export class PipelineDriver {
  readonly store: MemorySchemaStore;
  readonly metrics: Metrics;
  readonly registry: Registry;
  readonly topics: RuntimeTopics;
  readonly #source: PolicySource;
  readonly #audit: AuditEncoder;
  readonly #step: BatchStep;
  readonly #maxRecords: number;
  readonly #now: () => number;
  readonly #tmp: string | undefined;
  /** The input topic: partition → its records, offset = index. */
  readonly #log = new Map<number, InputRecord[]>();
  /** partition → the next offset to process (last committed + 1). */
  readonly #committed = new Map<number, number>();
  readonly #outputs = new Map<string, OutMessage[]>();
  readonly #inputTypes = new Map<number, { schema: unknown; type: avro.Type }>();
  readonly #readTypes = new Map<number, avro.Type>();
  #inputId: number | undefined;
  #abandon = 0;

  private constructor(parts: {
    store: MemorySchemaStore;
    metrics: Metrics;
    registry: Registry;
    topics: RuntimeTopics;
    source: PolicySource;
    audit: AuditEncoder;
    step: BatchStep;
    maxRecords: number;
    now: () => number;
    tmp: string | undefined;
  }) {
    this.store = parts.store;
    this.metrics = parts.metrics;
    this.registry = parts.registry;
    this.topics = parts.topics;
    this.#source = parts.source;
    this.#audit = parts.audit;
    this.#step = parts.step;
    this.#maxRecords = parts.maxRecords;
    this.#now = parts.now;
    this.#tmp = parts.tmp;
  }

  static async create(options: DriverOptions): Promise<PipelineDriver> {
    const topics = options.topics ?? DEFAULT_TOPICS;
    const maxRecords = options.maxRecords ?? 1000;
    if (!Number.isInteger(maxRecords) || maxRecords < 1) throw new RangeError(`maxRecords ${maxRecords}`);
    const now = options.now ?? (() => DRIVER_EPOCH_MS);
    let file: string;
    let tmp: string | undefined;
    if (typeof options.policy === 'string') {
      tmp = tempDir('driver'); // removed by close(), or at the latest when the test process exits
      file = join(tmp, 'policy.yaml');
      await writeFile(file, options.policy);
    } else {
      file = options.policy.file;
    }

    // as src/app.ts wires them
    const store = new MemorySchemaStore();
    const registry = new Registry();
    const metrics = createMetrics(registry, { defaultMetrics: false });
    const { types, routes } = createRoutes(store, metrics);
    let source: PolicySource;
    try {
      source = await PolicySource.open({
        file,
        env: options.env ?? {},
        topics,
        pollMs: 60_000,
        logger: pino({ level: 'silent' }),
        metrics,
        onSwap: (next) => routes.retain(next.destinations),
      });
    } catch (err) {
      if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
      throw err;
    }
    const audit = await AuditEncoder.create(store, topics.audit);
    const written = new Set([topics.audit, topics.dlq, ...source.current.destinations.map((d) => d.topic)]);
    const step = new BatchStep(
      {
        decoder: new Decoder(types),
        routes,
        audit,
        metrics,
        dlqTopic: topics.dlq,
        auditTopic: topics.audit,
        partitionsOf: (topic) => options.partitions?.[topic] ?? (written.has(topic) ? 1 : undefined),
        now,
      },
      source,
    );
    return new PipelineDriver({
      store,
      metrics,
      registry,
      topics,
      source,
      audit,
      step,
      maxRecords,
      now,
      tmp,
    });
  }

  get policy(): Policy {
    return this.#source.current;
  }

  destination(name: string): Destination {
    const d = this.policy.destinations.find((x) => x.name === name);
    if (d === undefined) throw new Error(`the policy has no destination ${name}`);
    return d;
  }

  /** Registers a writer schema of the input topic (default schemas/segment-event.avsc); events are piped with it from now on. */
  async registerInput(schema?: string | object): Promise<number> {
    const text = schema ?? (await readFile(SEGMENT_SCHEMA_FILE, 'utf8'));
    const parsed: unknown = typeof text === 'string' ? JSON.parse(text) : text;
    const id = this.store.add(valueSubject(this.topics.input), JSON.stringify(parsed));
    this.#inputTypes.set(id, { schema: parsed, type: compileType(parsed) });
    this.#inputId = id;
    return id;
  }

  /** An event in the Confluent wire format, as a producer would write it (natural JSON in). */
  encode(event: unknown, schemaId = this.#inputId): Buffer {
    const writer = schemaId === undefined ? undefined : this.#inputTypes.get(schemaId);
    if (schemaId === undefined || writer === undefined)
      throw new Error('encode: register the input schema first (registerInput)');
    const value = fromNaturalJson(writer.type, event, writer.schema);
    return frame(frameHeader(schemaId), writer.type.toBuffer(value));
  }

  /** Appends records to a partition of the input topic; returns their offsets. */
  pipe(partition: number, items: readonly PipeItem[], options: PipeOptions = {}): string[] {
    let log = this.#log.get(partition);
    if (log === undefined) {
      log = [];
      this.#log.set(partition, log);
    }
    const offsets: string[] = [];
    const timestamp = String(this.#now());
    for (const [i, item] of items.entries()) {
      const offset = String(log.length);
      const value = item === null || Buffer.isBuffer(item) ? item : this.encode(item, options.schemaId);
      const key = keyOf(item, i, options.key);
      log.push({
        key: key === null ? null : Buffer.from(key),
        value,
        offset,
        timestamp,
        ...(options.headers ? { headers: options.headers } : {}),
      });
      offsets.push(offset);
    }
    return offsets;
  }

  /**
   * Appends a record the engine's client could not read (a corrupt or over-limit compressed batch),
   * as an engine hands it to the step: no key, no value, the error that says why. Returns its offset.
   */
  pipeUnreadable(partition: number, error: PhiGateError): string {
    let log = this.#log.get(partition);
    if (log === undefined) {
      log = [];
      this.#log.set(partition, log);
    }
    const offset = String(log.length);
    log.push(unreadableRecord(offset, String(this.#now()), error));
    return offset;
  }

  /** Abandons the next `count` transactions instead of committing them. */
  abandonNext(count = 1): void {
    this.#abandon += count;
  }

  /**
   * Processes every record not yet committed, partition by partition, in chunks of `maxRecords`.
   * A step that throws (a `pause` error) rejects the run; what committed before stays committed.
   */
  async run(): Promise<RunSummary> {
    let committed = 0;
    let records = 0;
    const input = this.topics.input;
    for (const partition of [...this.#log.keys()].sort((a, b) => a - b)) {
      const log = this.#log.get(partition) ?? [];
      const from = this.#committed.get(partition) ?? 0;
      for (const chunk of chunksOf(log.slice(from), this.#maxRecords)) {
        const result = await this.#step.run([{ topic: input, partition, records: chunk }]);
        if (this.#abandon > 0) {
          this.#abandon -= 1;
          result.abandoned();
          return { committed, abandoned: 1, records };
        }
        this.#write(result);
        result.committed();
        const last = chunk[chunk.length - 1] as InputRecord;
        this.#committed.set(partition, Number(last.offset) + 1);
        committed += 1;
        records += chunk.length;
      }
    }
    return { committed, abandoned: 0, records };
  }

  /**
   * The step on records [from, to) of a partition's log, as an engine runs it ahead of its
   * transaction: the result is returned as it is, nothing is written or committed (settle it).
   */
  step(partition: number, from: number, to: number): Promise<StepResult> {
    const records = (this.#log.get(partition) ?? []).slice(from, to);
    return this.#step.run([{ topic: this.topics.input, partition, records }]);
  }

  /** The next offset of `partition` to process (last committed + 1); undefined before its first commit. */
  committedOffset(partition: number): number | undefined {
    return this.#committed.get(partition);
  }

  /** Records not committed yet, over all partitions. */
  get pending(): number {
    let n = 0;
    for (const [partition, log] of this.#log) n += log.length - (this.#committed.get(partition) ?? 0);
    return n;
  }

  /** Output records of committed transactions written to `topic`, in the order they were written. */
  read(topic: string): readonly OutMessage[] {
    return this.#outputs.get(topic) ?? [];
  }

  /** Topics written so far (committed transactions only). */
  get written(): readonly string[] {
    return [...this.#outputs.keys()];
  }

  /** A destination's records, values decoded: Avro with its derived schema (by the frame's id), or JSON. */
  values(destination: string): Record<string, unknown>[] {
    const d = this.destination(destination);
    return this.read(d.topic).map((m) => this.decodeValue(m.value, d.format));
  }

  decodeValue(value: Buffer | null, format: 'avro' | 'json' = 'avro'): Record<string, unknown> {
    if (value === null) throw new Error('a destination record without a value');
    if (format === 'json') return JSON.parse(value.toString('utf8')) as Record<string, unknown>;
    const { schemaId, body } = unframe(value);
    let type = this.#readTypes.get(schemaId);
    if (type === undefined) {
      type = compileType(JSON.parse(this.store.text(schemaId)));
      this.#readTypes.set(schemaId, type);
    }
    return type.fromBuffer(body) as Record<string, unknown>;
  }

  /** The audit topic's entries, decoded. */
  auditEntries(): AuditRecord[] {
    return this.read(this.topics.audit).map((m) => ({
      key: String(m.key),
      entry: this.#audit.decode(m.value as Buffer),
    }));
  }

  /** The dead-letter topic's records. */
  deadLetters(): readonly OutMessage[] {
    return this.read(this.topics.dlq);
  }

  async close(): Promise<void> {
    this.#source.close();
    if (this.#tmp !== undefined) await rm(this.#tmp, { recursive: true, force: true });
  }

  #write(result: StepResult): void {
    for (const { topic, messages } of result.outputs) {
      let list = this.#outputs.get(topic);
      if (list === undefined) {
        list = [];
        this.#outputs.set(topic, list);
      }
      for (const m of messages) list.push(m);
    }
  }
}

function keyOf(item: PipeItem, index: number, key: PipeOptions['key']): Buffer | string | null {
  if (typeof key === 'function') return key(item, index);
  if (key !== undefined) return key;
  if (item === null || Buffer.isBuffer(item)) return null;
  const id = item.userId ?? item.anonymousId;
  return typeof id === 'string' ? id : null;
}
