/**
 * `make demo`: phi-gate on the local stack with the example policy (deploy/examples/).
 *
 * Creates the input topic, registers the Segment-spec schema, produces the sample events, runs the
 * built service (`dist/src/main.js run`) as a child process, then prints for each event the raw
 * event beside what each destination received (or why it got nothing: its event filter, or the
 * person's consent), the audit entries, the data inventory the service published to events.inventory
 * (as a table), and a few metrics; finally it
 * stops the service with SIGTERM, as Kubernetes would. The stack itself is started and stopped by
 * deploy/local/with-stack.sh around this script.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { once } from 'node:events';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { Kafka, logLevel } from 'kafkajs';
import { formatInventory } from '../../src/cli/inventory-format.ts';
import { decryptValue } from '../../src/crypto/index.ts';
import { fromNaturalJson, loadPolicy } from '../../src/policy/index.ts';
import { type InventoryEntry, inventoryOf } from '../../src/policy/inventory.ts';
import { compileType } from '../../src/registry/schemas.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const examples = join(root, 'deploy/examples');
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const registryUrl = process.env.SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7';
const metricsPort = Number(process.env.PHIGATE_METRICS_PORT ?? 9464);
const input = 'events.raw';
const audit = 'events.audit';
const inventory = 'events.inventory';

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);

function step(text: string): void {
  console.log(`\n${bold(`== ${text}`)}`);
}

async function main(): Promise<number> {
  const kafka = new Kafka({ clientId: 'phi-gate-demo', brokers, logLevel: logLevel.NOTHING });
  const registry = new SchemaRegistry({ host: registryUrl });
  const admin = kafka.admin();
  await admin.connect();

  step(`input topic ${input} and the Segment-spec schema`);
  if (!(await admin.listTopics()).includes(input)) {
    await admin.createTopics({
      topics: [{ topic: input, numPartitions: 3, replicationFactor: 1 }],
      waitForLeaders: true,
    });
  }
  const schema = await readFile(join(root, 'schemas/segment-event.avsc'), 'utf8');
  const { id: schemaId } = await registry.register(
    { type: SchemaType.AVRO, schema },
    { subject: `${input}-value` },
  );
  console.log(`registered ${input}-value as schema id ${schemaId}`);

  // the sample events are natural JSON (ISO dates, plain unions): convert them as `preview` does
  const writerSchema = JSON.parse(schema);
  const writerType = compileType(writerSchema);
  const eventFiles = (await readdir(join(examples, 'events'))).filter((f) => f.endsWith('.json')).sort();
  const runTag = Date.now().toString(36);
  const events = await Promise.all(
    eventFiles.map(async (f) => {
      const event = JSON.parse(await readFile(join(examples, 'events', f), 'utf8'));
      // a fresh messageId per run, so that a re-run against a reused stack shows its own events
      return {
        file: f,
        event: { ...event, messageId: `${event.messageId ?? f}-${runTag}`, timestamp: Date.now() },
      };
    }),
  );

  step('phi-gate run (deploy/examples/policy.yaml)');
  const service = startService();
  // whatever happens from here on, the child must not outlive the demo
  process.once('exit', () => service.kill('SIGKILL'));
  await waitReady(service);
  console.log(`ready: metrics on http://127.0.0.1:${metricsPort}/metrics`);

  step(`producing ${events.length} sample events to ${input}`);
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic: input,
    messages: await Promise.all(
      events.map(async ({ event }) => ({
        key: String(event.userId ?? event.anonymousId ?? ''),
        value: await registry.encode(schemaId, fromNaturalJson(writerType, event, writerSchema)),
      })),
    ),
  });
  await producer.disconnect();

  const policy = await loadPolicy(join(examples, 'policy.yaml'), { env: process.env });
  const destinations = policy.destinations.map((d) => d.name);
  const topicOf = (name: string) => policy.destinations.find((d) => d.name === name)?.topic as string;
  const ids = new Set(events.map((e) => e.event.messageId as string));
  const expectedAudit = events.length * destinations.length;
  const outputs = await readBack(
    kafka,
    registry,
    [...destinations.map(topicOf), audit, inventory],
    ids,
    expectedAudit,
    schemaId,
  );
  const privateKeys = await loadDemoPrivateKeys();

  for (const { file, event } of events) {
    step(`${file}: ${event.type}${event.event ? ` "${event.event}"` : ''}`);
    console.log(dim('raw (events.raw):'));
    console.log(indent(JSON.stringify(event, null, 2)));
    for (const d of destinations) {
      const got = outputs.get(topicOf(d))?.get(event.messageId as string);
      console.log(dim(`${d} (${topicOf(d)}):`));
      const outcome = outputs.get(audit)?.get(`${d}/${event.messageId}`)?.value;
      const why =
        outcome?.outcome === 'filtered_consent'
          ? `nothing — filtered_consent: ${Object.entries(outcome.fields ?? {})
              .filter(([, a]) => String(a).startsWith('consent:'))
              .map(([path, a]) => `${path} ${String(a).slice('consent:'.length)}`)
              .join(', ')}`
          : `nothing — ${outcome?.outcome ?? 'filtered'} by its policy`;
      console.log(indent(got ? JSON.stringify(display(got.value), null, 2) : why));
      const jwe = got ? findJwe(got.value) : undefined;
      if (jwe && privateKeys.length > 0) {
        const plain = await decryptWithAny(jwe.value, privateKeys);
        if (plain !== undefined)
          console.log(dim(`  ${jwe.path} decrypted with the destination's private key: ${plain}`));
      }
    }
  }

  step(`audit entries (${audit}, compacted) for the first event`);
  const firstId = events[0]?.event.messageId as string;
  for (const entry of outputs.get(audit)?.values() ?? []) {
    if (entry.value.messageId !== firstId) continue;
    console.log(`${entry.key}: ${JSON.stringify(entry.value)}`);
  }

  const consentFiltered = [...(outputs.get(audit)?.values() ?? [])].filter(
    (e) => e.value.outcome === 'filtered_consent',
  );
  step(`consent: ${consentFiltered.length} event(s) filtered because the person did not consent`);
  for (const entry of consentFiltered) console.log(`${entry.key}: ${JSON.stringify(entry.value)}`);

  // the service published one entry per (schema id, field path); shown in schema order
  const published = [...(outputs.get(inventory)?.values() ?? [])].map((e) => e.value as InventoryEntry);
  step(`data inventory: ${published.length} entries for schema id ${schemaId} in ${inventory} (compacted)`);
  const order = new Map(
    inventoryOf(policy, { type: writerType, schema: writerSchema }).map((e, i) => [e.path, i]),
  );
  published.sort((a, b) => (order.get(a.path) ?? 1e9) - (order.get(b.path) ?? 1e9));
  const label = `${published[0]?.subject ?? `${input}-value`} version ${published[0]?.version ?? '?'} (schema id ${schemaId})`;
  process.stdout.write(formatInventory([{ label, entries: published }], 'table'));

  step('a few metrics');
  const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  for (const line of metrics.split('\n')) {
    if (
      /^phigate_(events_consumed_total|destination_events_total|dlq_records_total|transactions_total|policy_info|inventory_unreviewed_fields)\{/.test(
        line,
      )
    ) {
      console.log(line);
    }
  }

  step('stopping phi-gate with SIGTERM');
  service.kill('SIGTERM');
  const [code] = await once(service, 'exit');
  console.log(`phi-gate exited with code ${code}`);
  await admin.disconnect();
  return code === 0 ? 0 : 1;
}

function startService(): ChildProcess {
  const env = {
    ...process.env,
    PHIGATE_POLICY_FILE: join(examples, 'policy.yaml'),
    PHIGATE_INPUT_TOPIC: input,
    PHIGATE_AUDIT_TOPIC: audit,
    PHIGATE_DLQ_TOPIC: 'events.dlq',
    PHIGATE_INVENTORY_TOPIC: inventory,
    PHIGATE_GROUP_ID: 'phi-gate-demo',
    PHIGATE_TOPIC_PARTITIONS: '3',
    PHIGATE_TOPIC_REPLICATION: '1',
    PHIGATE_METRICS_HOST: '127.0.0.1',
    PHIGATE_METRICS_PORT: String(metricsPort),
    PHIGATE_LOG_LEVEL: process.env.PHIGATE_LOG_LEVEL ?? 'warn',
    KAFKA_BROKERS: brokers.join(','),
    SCHEMA_REGISTRY_URL: registryUrl,
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
  };
  const child = spawn(process.execPath, [join(root, 'dist/src/main.js'), 'run'], {
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return child;
}

async function waitReady(child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`phi-gate exited with code ${child.exitCode} during start-up`);
    const ok = await fetch(`http://127.0.0.1:${metricsPort}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('phi-gate did not become ready within 60 s');
}

type Decoded = { key: string | null; value: Record<string, any> };

/** Reads every output topic (read_committed) until the demo's events and their audit entries are there. */
async function readBack(
  kafka: Kafka,
  registry: SchemaRegistry,
  topics: string[],
  ids: Set<string>,
  auditCount: number,
  schemaId: number,
) {
  const out = new Map<string, Map<string, Decoded>>(topics.map((t) => [t, new Map()]));
  const consumer = kafka.consumer({
    groupId: `phi-gate-demo-reader-${Date.now()}`,
    readUncommitted: false,
    maxWaitTimeInMs: 100,
  });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      if (!message.value) return;
      const value =
        message.value[0] === 0 ? await registry.decode(message.value) : JSON.parse(message.value.toString());
      const key = message.key?.toString() ?? null;
      if (topic === inventory) {
        // the entries of this run's schema id, latest per key (as compaction keeps them)
        if (key?.startsWith(`${schemaId}/`)) out.get(topic)?.set(key, { key, value });
        return;
      }
      const messageId = value.messageId as string | undefined;
      if (!messageId || !ids.has(messageId)) return;
      out.get(topic)?.set(topic === audit ? (key ?? messageId) : messageId, { key, value });
    },
  });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && (out.get(audit)?.size ?? 0) < auditCount)
    await new Promise((r) => setTimeout(r, 200));
  await new Promise((r) => setTimeout(r, 500));
  await consumer.disconnect();
  return out;
}

async function loadDemoPrivateKeys(): Promise<KeyObject[]> {
  const dir = join(examples, 'keys');
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) =>
    /(private|\.key)\.pem$/.test(f),
  );
  return Promise.all(files.map(async (f) => createPrivateKey(await readFile(join(dir, f)))));
}

function findJwe(value: unknown, path = ''): { path: string; value: string } | undefined {
  if (typeof value === 'string' && value.split('.').length === 5 && value.startsWith('eyJ'))
    return { path, value };
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const found = findJwe(v, path ? `${path}.${k}` : k);
      if (found) return found;
    }
  }
  return undefined;
}

async function decryptWithAny(jwe: string, keys: KeyObject[]): Promise<string | undefined> {
  for (const key of keys) {
    try {
      return decryptValue(jwe, key);
    } catch {
      // not this destination's key
    }
  }
  return undefined;
}

/** For reading: null fields left out, JWE values shortened to their kid and length. */
function display(value: unknown): unknown {
  if (typeof value === 'string' && value.startsWith('eyJ') && value.split('.').length === 5) {
    const header = JSON.parse(Buffer.from(value.split('.')[0] as string, 'base64url').toString());
    return `<JWE kid=${header.kid}, ${value.length} chars>`;
  }
  if (Array.isArray(value)) return value.map(display);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== null)
        .map(([k, v]) => [k, display(v)]),
    );
  }
  return value;
}

function indent(text: string): string {
  return text.replace(/^/gm, '    ');
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`demo failed: ${(err as Error).stack ?? err}`);
    process.exit(1);
  },
);
