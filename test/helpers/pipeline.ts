/**
 * Fixtures for end-to-end pipeline tests: a key directory, a three-destination policy whose topics are
 * unique to the test, and a producer of Segment-spec events (made-up people) carrying PHI canaries —
 * strings that must never appear in any destination topic's bytes.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SchemaType } from '@kafkajs/confluent-schema-registry';
import type { CompressionTypes, Producer } from 'kafkajs';
import { generateKeyPair } from '../../src/crypto/index.ts';
import { kafka, registry, type TestTopics } from './stack.ts';
import { tempDir } from './temp.ts';

export const SEGMENT_SCHEMA = new URL('../../schemas/segment-event.avsc', import.meta.url);

/** PHI canaries: each is unique enough that finding it in bytes means it leaked. */
export const CANARY = {
  email: 'ada.canary.7731@example.org',
  phone: '+1 415 555 0142',
  firstname: 'Adaline-Canary',
  lastname: 'Quenby-Canary',
  dob: '1984-03-09',
  mrn: 'MRN-CANARY-99120',
  diagnosis: 'canary-diagnosis-E11.9',
  notes: 'patient canary-note-4401 asked about dosage',
  street: '12 Canary Lane',
  userId: 'user-canary-5512',
} as const;

export interface Keys {
  readonly dir: string;
  readonly hmac: Record<'mixpanel' | 'ads' | 'warehouse' | 'audit', Buffer>;
  readonly kid: string;
  readonly privateKeyPath: string;
}

export async function makeKeys(): Promise<Keys> {
  const dir = tempDir('keys');
  // Hex text: a binary key ending in 0x0a (one in 256) would lose that byte as a newline.
  const textKey = () => Buffer.from(randomBytes(32).toString('hex'));
  const hmac = { mixpanel: textKey(), ads: textKey(), warehouse: textKey(), audit: textKey() };
  for (const [name, key] of Object.entries(hmac))
    await writeFile(join(dir, `${name}.hmac`), key, { mode: 0o600 });
  const pair = await generateKeyPair(dir, 'warehouse-test-1');
  return { dir, hmac, kid: pair.kid, privateKeyPath: pair.privateKeyPath };
}

export interface DestinationTopics {
  readonly mixpanel: string;
  readonly ads: string;
  readonly warehouse: string;
}

/** The three-destination policy used by the pipeline tests; `variant` lets reload tests change it. */
export function policyYaml(
  keys: Keys,
  topics: DestinationTopics,
  variant: { mixpanelExtra?: string } = {},
): string {
  return `version: 1
audit:
  hashKey: { file: ${keys.dir}/audit.hmac }
destinations:
  mixpanel:
    topic: ${topics.mixpanel}
    mode: allowlist
    events:
      allow: ["Provider Search", "Appointment Booked", page, identify]
      drop: ["Prescription Filled"]
    key: hash
    fields:
      properties.specialty: allow
      properties.searchQuery: allow
      properties.dob: { generalize: birthyear }
      properties.zip: { generalize: zip3 }
      properties.email: hash
      "properties.items[].sku": allow
      context.page.url: { url: { keepQuery: [utm_source, utm_campaign], keepPath: false } }
      context.locale: allow${variant.mixpanelExtra ?? ''}
    hashKey: { file: ${keys.dir}/mixpanel.hmac }
  ads:
    topic: ${topics.ads}
    mode: allowlist
    events:
      allow: ["Appointment Booked"]
    key: drop
    fields:
      traits.email: { sha256: email }
      properties.email: { sha256: email }
      properties.revenue: allow
      properties.currency: allow
    hashKey: { file: ${keys.dir}/ads.hmac }
  warehouse:
    topic: ${topics.warehouse}
    mode: blocklist
    key: keep
    headers: keep
    pii: encrypt
    fields:
      properties.diagnosis: encrypt
      properties.notes: encrypt
      properties.mrn: encrypt
      context.page.url: { url: { keepQuery: [utm_source], keepPath: false } }
    hashKey: { file: ${keys.dir}/warehouse.hmac }
    encryption:
      scheme: jwe
      active: ${keys.kid}
      keys:
        - kid: ${keys.kid}
          publicKey: { file: ${keys.dir}/${keys.kid}.pub.pem }
`;
}

export async function writePolicy(
  keys: Keys,
  topics: DestinationTopics,
  variant?: { mixpanelExtra?: string },
): Promise<string> {
  const file = join(keys.dir, 'policy.yaml');
  await writeFile(file, policyYaml(keys, topics, variant));
  return file;
}

/** The topics of one `phi-gate run` under test, by role, and one per destination. */
export type ServiceTopics<D extends string> = {
  readonly input: string;
  readonly audit: string;
  readonly dlq: string;
  readonly inventory: string;
} & Readonly<Record<D, string>>;

/**
 * Topics for one test of `phi-gate run`: the input, and beside it the audit, DLQ and inventory
 * topics and one per destination (`<input>.dest.<name>`) — all unique, all cleaned up.
 */
export async function serviceTopics<const D extends string>(
  topics: TestTopics,
  prefix: string,
  destinations: readonly D[],
  input: { partitions?: number; config?: Record<string, string> } = {},
): Promise<ServiceTopics<D>> {
  const name = await topics.create(`${prefix}-raw`, {
    partitions: input.partitions ?? 2,
    ...(input.config ? { config: input.config } : {}),
  });
  const beside: Record<string, string> = {
    audit: `${name}.audit`,
    dlq: `${name}.dlq`,
    inventory: `${name}.inventory`,
  };
  for (const d of destinations) beside[d] = `${name}.dest.${d}`;
  for (const t of Object.values(beside)) topics.track(t);
  return { input: name, ...beside } as ServiceTopics<D>;
}

/** Topics for one pipeline test with the three destinations of `writePolicy`. */
export function pipelineTopics(
  topics: TestTopics,
  prefix: string,
  inputPartitions = 2,
  inputConfig?: Record<string, string>,
) {
  return serviceTopics(topics, prefix, ['mixpanel', 'ads', 'warehouse'], {
    partitions: inputPartitions,
    ...(inputConfig ? { config: inputConfig } : {}),
  });
}

let counter = 0;

/** A made-up Segment event; `kind` picks its shape. Every PHI field carries a canary. */
export interface TestEvent {
  readonly messageId: string;
  readonly userId?: string;
  readonly [field: string]: unknown;
}

export function segmentEvent(
  kind: 'search' | 'booked' | 'rx' | 'identify' | 'page',
  userNo: number,
): TestEvent {
  counter += 1;
  const base = {
    // underscores, not dashes: no run of digits and dashes long enough for the value detectors
    // (a card number passes Luhn one time in ten; `msg-mws0k413-1240-557933` was redacted)
    messageId: `msg_${Date.now().toString(36)}_${counter}_${randomBytes(3).toString('hex')}`,
    userId: `${CANARY.userId}-${userNo}`,
    timestamp: Date.now(),
  };
  const phiProperties = {
    email: CANARY.email,
    firstname: CANARY.firstname,
    lastname: CANARY.lastname,
    dob: CANARY.dob,
    zip: '94110',
    mrn: CANARY.mrn,
    diagnosis: CANARY.diagnosis,
    notes: CANARY.notes,
    items: [{ sku: 'SKU-1', name: 'consult', price: 120, quantity: 1 }],
    extras: { favoriteColor: 'teal', email: CANARY.email },
  };
  switch (kind) {
    case 'search':
      return {
        ...base,
        type: 'track',
        event: 'Provider Search',
        properties: { ...phiProperties, specialty: 'cardiology', searchQuery: 'cardiologist near me' },
      };
    case 'booked':
      return {
        ...base,
        type: 'track',
        event: 'Appointment Booked',
        properties: { ...phiProperties, specialty: 'dermatology', revenue: 120.5, currency: 'USD' },
        traits: { email: CANARY.email },
      };
    case 'rx':
      return {
        ...base,
        type: 'track',
        event: 'Prescription Filled',
        properties: { ...phiProperties, specialty: 'endocrinology' },
      };
    case 'identify':
      return {
        ...base,
        type: 'identify',
        traits: {
          email: CANARY.email,
          phone: CANARY.phone,
          firstName: CANARY.firstname,
          lastName: CANARY.lastname,
          birthday: CANARY.dob,
          address: {
            street: CANARY.street,
            city: 'San Francisco',
            state: 'CA',
            postalCode: '94110',
            country: 'US',
          },
          plan: 'gold',
        },
      };
    case 'page':
      return {
        ...base,
        type: 'page',
        name: 'Find a Doctor',
        context: {
          locale: 'en-US',
          ip: '203.0.113.77',
          page: {
            path: '/doctors',
            url: `https://clinic.example/doctors/${CANARY.mrn}?utm_source=news&email=${CANARY.email}`,
            title: 'Find a Doctor',
          },
        },
      };
  }
}

/** Produces Avro events (Confluent wire format, Segment schema registered for the input topic). */
export class EventProducer {
  readonly #topic: string;
  readonly #compression: CompressionTypes | undefined;
  readonly #brokers: readonly string[] | undefined;
  #producer: Producer | undefined;
  #schemaId = 0;

  /**
   * `compression`: a kafkajs codec id for the record batches (register the codecs first);
   * `brokers`: a test's own broker instead of the shared one.
   */
  constructor(topic: string, options: { compression?: CompressionTypes; brokers?: readonly string[] } = {}) {
    this.#topic = topic;
    this.#compression = options.compression;
    this.#brokers = options.brokers;
  }

  get schemaId(): number {
    return this.#schemaId;
  }

  async connect(schemaText?: string): Promise<void> {
    const schema = schemaText ?? (await readFile(SEGMENT_SCHEMA, 'utf8'));
    this.#schemaId = (
      await registry().register({ type: SchemaType.AVRO, schema }, { subject: `${this.#topic}-value` })
    ).id;
    this.#producer = kafka('phi-gate-test-producer', this.#brokers).producer();
    await this.#producer.connect();
  }

  /** Registers another writer schema (evolution) and uses it from now on. */
  async useSchema(schemaText: string): Promise<void> {
    this.#schemaId = (
      await registry().register(
        { type: SchemaType.AVRO, schema: schemaText },
        { subject: `${this.#topic}-value` },
      )
    ).id;
  }

  async send(events: readonly Record<string, unknown>[]): Promise<void> {
    await this.sendRaw(await this.encode(events));
  }

  /** Encodes with the current schema (needs the registry); send later with sendRaw. */
  async encode(events: readonly Record<string, unknown>[]): Promise<{ key: string; value: Buffer }[]> {
    const reg = registry();
    return Promise.all(
      events.map(async (e) => ({
        key: String(e.userId ?? e.anonymousId ?? ''),
        value: await reg.encode(this.#schemaId, e),
      })),
    );
  }

  async sendRaw(messages: { key: string | null; value: Buffer | null }[]): Promise<void> {
    await this.#producer?.send({ topic: this.#topic, messages, compression: this.#compression });
  }

  async disconnect(): Promise<void> {
    await this.#producer?.disconnect();
  }
}

/** True when any canary occurs in the bytes. */
export function containsCanary(...buffers: (Buffer | string | null | undefined)[]): string | null {
  for (const b of buffers) {
    if (!b) continue;
    const text = Buffer.isBuffer(b) ? b.toString('latin1') : b;
    for (const c of Object.values(CANARY)) if (text.includes(c)) return c;
  }
  return null;
}
