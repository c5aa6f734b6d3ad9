/**
 * Step 4c: the data inventory of the running service. When a batch first compiles routes for a
 * writer schema id (and again for every known id once the policy version changes), the batch's
 * transaction also carries one entry per (schema id, field path) for the compacted inventory topic
 * (key `<schema id>/<path>`, value Avro: schemas/inventory-entry.avsc, registered under
 * `<topic>-value`). Entries are read off the same compiled plans the pipeline runs
 * (src/policy/inventory.ts) and hold names, types and decisions only, never a value.
 *
 * Like the policy audit entries (PolicySource.claimAudit), the entries of an id are claimed by one
 * transaction at a time; `written` marks them done once it commits, `abandoned` returns them so that
 * a later batch writes them. The registry is asked once per id for the subject versions it is
 * registered as (so entries carry subject + version and `newSinceReview` can be told), and once per
 * reviewed version for its field paths; a registry that does not answer pauses the batch.
 *
 * `phigate_inventory_unreviewed_fields{destination}` follows the latest schema id seen; a policy
 * swap resets it (the new policy's entries set it again).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type avro from 'avsc';
import type { Logger } from 'pino';
import { type AvroCodec, codecFor } from '../avro/codec.ts';
import { isPhiGateError } from '../errors.ts';
import type { Metrics } from '../observability/metrics.ts';
import { SCHEMAS_DIR } from '../paths.ts';
import type { Policy } from '../policy/index.ts';
import {
  fieldPaths,
  type InventoryEntry,
  inventoryKey,
  inventoryOf,
  type ReviewedBaseline,
  unreviewedCounts,
  type WriterSource,
} from '../policy/inventory.ts';
import type { RegistryClient } from '../registry/client.ts';
import { compileType, valueSubject, writerOf } from '../registry/schemas.ts';
import type { OutMessage } from './records.ts';
import { encodeFramed, frameHeader, HEADER_SIZE } from './wire.ts';

/** The entries one transaction carries: write `messages` to `topic`, then report the outcome. */
export interface InventoryClaim {
  readonly topic: string;
  readonly policyVersion: string;
  readonly ids: readonly number[];
  readonly messages: readonly OutMessage[];
}

/** What the batch step needs of the inventory (InventoryPublisher). */
export interface InventoryView {
  /** A batch compiled a route for this writer schema id. Synchronous and cheap: once per route. */
  note(schemaId: number): void;
  /** Entries due under `policy` and claimed for one transaction (none: `messages` empty). */
  claim(policy: Policy): Promise<InventoryClaim>;
  written(claim: InventoryClaim): void;
  abandoned(claim: InventoryClaim): void;
}

export class InventoryEncoder {
  readonly #codec: AvroCodec;
  readonly #header: Buffer;

  private constructor(parsed: unknown, schemaId: number) {
    this.#codec = codecFor(compileType(parsed));
    this.#header = frameHeader(schemaId);
  }

  static readSchema(): string {
    return readFileSync(join(SCHEMAS_DIR, 'inventory-entry.avsc'), 'utf8');
  }

  /** Registers the entry schema under `<topic>-value` and returns an encoder bound to its id. */
  static async create(client: RegistryClient, topic: string): Promise<InventoryEncoder> {
    const parsed: unknown = JSON.parse(InventoryEncoder.readSchema());
    const id = await client.register(valueSubject(topic), JSON.stringify(parsed));
    return new InventoryEncoder(parsed, id);
  }

  encode(entry: InventoryEntry): OutMessage {
    return { key: inventoryKey(entry), value: encodeFramed(this.#codec, this.#header, entry) };
  }

  decode(value: Buffer): InventoryEntry {
    return this.#codec.decode(value.subarray(HEADER_SIZE)) as InventoryEntry;
  }
}

export interface InventoryPublisherOptions {
  readonly topic: string;
  readonly encoder: InventoryEncoder;
  readonly client: Pick<RegistryClient, 'schemaVersions' | 'subjectSchema'>;
  /** The loaded writer schema of an id (WriterTypes): its compiled Type and parsed JSON. */
  readonly writer: (schemaId: number) => { type: avro.Type; schema: unknown } | undefined;
  /** `<input topic>-value`: preferred when an id is registered under several subjects. */
  readonly inputSubject: string;
  readonly metrics: Metrics;
  readonly logger: Logger;
}

export class InventoryPublisher implements InventoryView {
  readonly #o: InventoryPublisherOptions;
  /** Every id noted, in the order first seen. */
  readonly #known = new Set<number>();
  /** id → the policy version whose entries of it committed. */
  readonly #written = new Map<number, string>();
  readonly #claimed = new Set<number>();
  /** id → its encoded entries under #policyVersion. */
  #prepared = new Map<number, readonly OutMessage[]>();
  #policyVersion: string | undefined;
  #latest: number | undefined;
  readonly #sources = new Map<number, WriterSource>();
  readonly #baselines = new Map<string, ReviewedBaseline | null>();

  constructor(options: InventoryPublisherOptions) {
    this.#o = options;
  }

  note(schemaId: number): void {
    if (this.#known.has(schemaId)) return;
    this.#known.add(schemaId);
    this.#latest = schemaId;
  }

  async claim(policy: Policy): Promise<InventoryClaim> {
    if (policy.version !== this.#policyVersion) {
      this.#policyVersion = policy.version;
      this.#prepared = new Map();
      this.#o.metrics.inventoryUnreviewed.reset();
    }
    const due = (id: number) => this.#written.get(id) !== policy.version && !this.#claimed.has(id);
    for (const id of this.#known) {
      if (due(id) && !this.#prepared.has(id)) await this.#prepare(policy, id);
    }
    // claimed after the awaits, synchronously: a concurrent batch may have claimed some meanwhile
    const ids: number[] = [];
    const messages: OutMessage[] = [];
    if (policy.version === this.#policyVersion) {
      for (const [id, entries] of this.#prepared) {
        if (!due(id)) continue;
        this.#claimed.add(id);
        ids.push(id);
        for (const m of entries) messages.push(m);
      }
    }
    return { topic: this.#o.topic, policyVersion: policy.version, ids, messages };
  }

  written(claim: InventoryClaim): void {
    for (const id of claim.ids) {
      this.#claimed.delete(id);
      this.#written.set(id, claim.policyVersion);
    }
  }

  abandoned(claim: InventoryClaim): void {
    for (const id of claim.ids) this.#claimed.delete(id);
  }

  async #prepare(policy: Policy, id: number): Promise<void> {
    const writer = this.#o.writer(id);
    if (writer === undefined) return; // noted ids are decoded ones: loaded
    const source = await this.#sourceOf(id);
    const baseline =
      source.subject === null || source.subject === undefined
        ? null
        : await this.#baselineOf(policy, source.subject);
    const entries = inventoryOf(policy, { ...writer, ...source, schemaId: id }, baseline);
    if (policy.version !== this.#policyVersion) return; // swapped while the registry answered
    this.#prepared.set(
      id,
      entries.map((e) => this.#o.encoder.encode(e)),
    );
    if (id === this.#latest) {
      for (const [destination, n] of unreviewedCounts(policy, entries))
        this.#o.metrics.inventoryUnreviewed.set({ destination }, n);
    }
  }

  async #sourceOf(id: number): Promise<WriterSource> {
    const cached = this.#sources.get(id);
    if (cached) return cached;
    const versions = await this.#o.client.schemaVersions(id);
    const preferred = versions.filter((v) => v.subject === this.#o.inputSubject);
    const pick = (preferred.length > 0 ? preferred : versions).sort((a, b) => a.version - b.version)[0];
    const source: WriterSource = { subject: pick?.subject ?? null, version: pick?.version ?? null };
    this.#sources.set(id, source);
    return source;
  }

  async #baselineOf(policy: Policy, subject: string): Promise<ReviewedBaseline | null> {
    const version = policy.reviewedSchemaVersion(subject);
    if (version === null) return null;
    const key = `${subject}\u0000${version}`;
    const cached = this.#baselines.get(key);
    if (cached !== undefined) return cached;
    let baseline: ReviewedBaseline | null = null;
    try {
      const registered = await this.#o.client.subjectSchema(subject, version);
      const { schema, type } = writerOf(registered, `${subject} version ${version}`);
      baseline = { version, paths: fieldPaths(type, schema) };
    } catch (err) {
      if (!isPhiGateError(err) || err.disposition === 'pause') throw err;
      this.#o.logger.warn(
        { subject, version, code: err.code },
        'reviewedSchemaVersions names a version the registry cannot give: unreviewed fields cannot be told',
      );
    }
    this.#baselines.set(key, baseline);
    return baseline;
  }
}
