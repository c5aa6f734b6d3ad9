/**
 * The librdkafka pass-through: the native client's ceiling for phi-gate's job, through phi-gate's
 * own librdkafka engine (src/kafka/rdkafka/engine.ts) with a batch step that copies every record
 * unchanged to three topics — no decoding, no policy. The same consume batches, transactions and
 * offsets as `phi-gate run` on the default engine. Run as a child process by
 * bench/pipeline.bench.ts (configured by environment variables, prints "joined" once in the group).
 */

import { Registry } from 'prom-client';
import { loadConfig } from '../src/config/index.ts';
import { RdkafkaEngine } from '../src/kafka/rdkafka/engine.ts';
import { createLogger } from '../src/observability/logger.ts';
import { createMetrics } from '../src/observability/metrics.ts';
import type { OutMessage, TopicMessages } from '../src/pipeline/records.ts';
import type { PartitionBatch } from '../src/pipeline/step.ts';

const env = (name: string): string => {
  const v = process.env[name];
  if (v === undefined) throw new Error(`${name} is not set`);
  return v;
};
const outputs = env('BENCH_OUTPUTS').split(',');
const config = loadConfig({
  KAFKA_BROKERS: env('KAFKA_BROKERS'),
  SCHEMA_REGISTRY_URL: 'http://127.0.0.1:1/unused',
  PHIGATE_POLICY_FILE: env('BENCH_POLICY_FILE'), // required by the loader, not read
  PHIGATE_INPUT_TOPIC: env('BENCH_INPUT'),
  PHIGATE_AUDIT_TOPIC: `${env('BENCH_INPUT')}.unused-audit`,
  PHIGATE_DLQ_TOPIC: `${env('BENCH_INPUT')}.unused-dlq`,
  PHIGATE_GROUP_ID: env('BENCH_GROUP'),
  PHIGATE_TRANSACTIONAL_ID_PREFIX: env('BENCH_GROUP'),
  PHIGATE_BATCH_MAX_RECORDS: env('BENCH_BATCH_MAX_RECORDS'),
  PHIGATE_BATCH_MAX_MS: env('BENCH_BATCH_MAX_MS'),
  PHIGATE_COMPRESSION: env('BENCH_COMPRESSION'),
  PHIGATE_LOG_LEVEL: 'info',
});
const logger = createLogger({ level: 'warn' });
const engine = new RdkafkaEngine({
  config,
  logger,
  metrics: createMetrics(new Registry()),
  hooks: {
    onFatal: (err) => {
      console.error(`fatal: ${err.code}: ${err.message}`);
      process.exit(1);
    },
  },
});

/** Every record of every partition, unchanged, to each output topic. */
async function copy(batches: readonly PartitionBatch[]) {
  const out: TopicMessages[] = outputs.map((topic) => ({ topic, messages: [] as OutMessage[] }));
  for (const { records } of batches)
    for (const r of records) for (const t of out) t.messages.push({ key: r.key, value: r.value });
  return { outputs: out, committed: () => undefined, abandoned: () => undefined };
}

await engine.start(copy);
const poll = setInterval(() => {
  if (engine.joined) {
    console.log('joined');
    clearInterval(poll);
  }
}, 50);
process.on('SIGTERM', () => {
  void engine.close().then(() => process.exit(0));
});
