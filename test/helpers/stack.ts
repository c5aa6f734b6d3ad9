/**
 * Integration-test access to the real Kafka broker and schema registry.
 *
 * The endpoints come from KAFKA_BROKERS / SCHEMA_REGISTRY_URL (set by deploy/local/with-stack.sh,
 * or pointing at an existing cluster). When nothing is reachable the tests FAIL with a message that
 * says how to start the stack — they never skip silently.
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { fixAbortedFiltering } from '../../src/kafka/kafkajs/aborted.ts';
import { createTopics } from '../../src/kafka/topics.ts';

// The tests' readers are kafkajs consumers: read_committed as the Java consumer does it, or they see
// records of aborted transactions (a zombie's, fenced) as duplicates (src/kafka/kafkajs/aborted.ts).
fixAbortedFiltering();

export const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((s) => s.trim());
export const REGISTRY_URL = process.env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7';

const HOW_TO_START =
  'start the local stack with `make stack-up` (or run the tests through `make test`), ' +
  'or point KAFKA_BROKERS and SCHEMA_REGISTRY_URL at a running broker and registry';

function tcpReachable(hostPort: string, timeoutMs: number): Promise<boolean> {
  const [host, port] = hostPort.split(':');
  return new Promise((resolve) => {
    const socket = connect({ host: host ?? '127.0.0.1', port: Number(port) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Throws a clear error when the broker or the registry cannot be reached. */
export async function requireStack(): Promise<void> {
  const broker = BROKERS[0] ?? '127.0.0.1:9092';
  if (!(await tcpReachable(broker, 2000))) {
    throw new Error(`integration tests need a Kafka broker, none answers at ${broker}: ${HOW_TO_START}`);
  }
  try {
    const res = await fetch(`${REGISTRY_URL}/subjects`, { signal: AbortSignal.timeout(3000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
  } catch (err) {
    throw new Error(
      `integration tests need a schema registry, none answers at ${REGISTRY_URL} (${(err as Error).message}): ${HOW_TO_START}`,
    );
  }
}

/** A kafkajs client of the shared broker, or of `brokers` (a test's own broker). */
export function kafka(clientId = 'phi-gate-test', brokers: readonly string[] = BROKERS): Kafka {
  return new Kafka({ clientId, brokers: [...brokers], logLevel: logLevel.NOTHING });
}

export function registry(): SchemaRegistry {
  return new SchemaRegistry({ host: REGISTRY_URL });
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/**
 * Creates uniquely named topics for one test file and deletes them (and their registry subjects)
 * when `cleanup` runs. Use from `before` / `after` hooks.
 */
export class TestTopics {
  readonly #admin: Admin;
  readonly #created: string[] = [];
  #connected = false;

  constructor(admin: Admin = kafka('phi-gate-test-admin').admin()) {
    this.#admin = admin;
  }

  async create(
    prefix: string,
    options: { partitions?: number; config?: Record<string, string> } = {},
  ): Promise<string> {
    if (!this.#connected) {
      await this.#admin.connect();
      this.#connected = true;
    }
    const topic = uniqueName(prefix);
    this.#created.push(topic); // cleanup skips it if it never came to exist
    await createTopics(this.#admin, [
      {
        topic,
        numPartitions: options.partitions ?? 1,
        replicationFactor: 1,
        configEntries: Object.entries(options.config ?? {}).map(([name, value]) => ({ name, value })),
      },
    ]);
    return topic;
  }

  /** Remembers a topic created by the code under test, so that cleanup removes it too. */
  track(topic: string): void {
    this.#created.push(topic);
  }

  get admin(): Admin {
    return this.#admin;
  }

  async cleanup(): Promise<void> {
    if (!this.#connected) return;
    const existing = new Set(await this.#admin.listTopics());
    const doomed = this.#created.filter((t) => existing.has(t));
    if (doomed.length > 0) await this.#admin.deleteTopics({ topics: doomed, timeout: 10_000 });
    await Promise.all(this.#created.map((t) => deleteSubject(`${t}-value`)));
    await this.#admin.disconnect();
    this.#connected = false;
  }
}

export async function deleteSubject(subject: string): Promise<void> {
  const url = `${REGISTRY_URL}/subjects/${encodeURIComponent(subject)}`;
  // soft delete, then hard delete; a subject that never existed answers 404, which is fine
  await fetch(url, { method: 'DELETE' }).catch(() => undefined);
  await fetch(`${url}?permanent=true`, { method: 'DELETE' }).catch(() => undefined);
}
