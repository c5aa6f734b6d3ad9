/**
 * Compressed record batches on the real broker. The Java client (Kafka's own ConsoleProducer) writes
 * batches with each of Kafka's four codecs and the kafkajs consumer, with phi-gate's codecs, must read
 * them exactly. Then phi-gate end to end: zstd-compressed input, zstd-compressed output
 * (`PHIGATE_COMPRESSION=zstd`) — the destination topic is smaller on the broker's disk than the
 * records it holds, and everything still decodes and decrypts.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import kafkajs from 'kafkajs';
import { kafkaToolArgs } from '../../../deploy/local/kafka-tools.ts';
import { registerCodecs } from '../../../src/kafka/kafkajs/compression.ts';
import { consumeAll } from '../../helpers/consume.ts';
import {
  containsCanary,
  EventProducer,
  makeKeys,
  pipelineTopics,
  segmentEvent,
  writePolicy,
} from '../../helpers/pipeline.ts';
import { Service } from '../../helpers/service.ts';
import { BROKERS, registry, requireStack, TestTopics, uniqueName } from '../../helpers/stack.ts';

const { CompressionTypes } = kafkajs;

/** Runs a Kafka tool with `stdin`; resolves its stdout, rejects with its output on failure. */
async function kafkaTool(main: string, args: string[], stdin = ''): Promise<string> {
  const child = spawn('java', kafkaToolArgs(main, args), { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stdin.end(stdin);
  const [code] = await once(child, 'exit');
  if (code !== 0) throw new Error(`${main} exited with ${code}:\n${out.slice(-2000)}`);
  return out;
}

/** Bytes a topic takes in the broker's log directories (DescribeLogDirs, via Kafka's LogDirsCommand). */
async function topicBytes(topic: string): Promise<number> {
  const out = await kafkaTool('LogDirsCommand', [
    '--describe',
    '--bootstrap-server',
    BROKERS.join(','),
    '--topic-list',
    topic,
  ]);
  const json = JSON.parse(out.slice(out.indexOf('{"brokers"')).split('\n')[0] as string) as {
    brokers: { logDirs: { partitions: { partition: string; size: number }[] }[] }[];
  };
  return json.brokers
    .flatMap((b) => b.logDirs)
    .flatMap((d) => d.partitions)
    .reduce((n, p) => n + p.size, 0);
}

describe('compressed record batches', () => {
  const topics = new TestTopics();

  before(async () => {
    await requireStack();
    registerCodecs();
  });

  after(async () => {
    await topics.cleanup();
  });

  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd']) {
    test(`batches the Java client compressed with ${codec} are read back exactly`, async () => {
      const topic = await topics.create(`compressed-${codec}`);
      // 300 lines in a few large batches: repetitive, so every codec really compresses
      const lines = Array.from(
        { length: 300 },
        (_, i) => `event ${i} for user-${i % 7} ${'x'.repeat(i % 50)}`,
      );
      await kafkaTool(
        'ConsoleProducer',
        [
          '--bootstrap-server',
          BROKERS.join(','),
          '--topic',
          topic,
          '--compression-codec',
          codec,
          '--producer-property',
          'linger.ms=50',
        ],
        `${lines.join('\n')}\n`,
      );
      const received = await consumeAll(topic, { count: lines.length, timeoutMs: 30_000 });
      const values = received
        .sort((a, b) => Number(BigInt(a.message.offset) - BigInt(b.message.offset)))
        .map((r) => r.message.value?.toString());
      assert.deepEqual(values, lines);
    });
  }

  test('phi-gate reads zstd-compressed input and writes zstd-compressed output (PHIGATE_COMPRESSION)', async () => {
    const keys = await makeKeys();
    const names = await pipelineTopics(topics, 'compressed');
    const policyFile = await writePolicy(keys, names);
    const producer = new EventProducer(names.input, { compression: CompressionTypes.ZSTD });
    await producer.connect();
    const service = await Service.start({
      ...names,
      groupId: uniqueName('compressed-group'),
      policyFile,
      env: { PHIGATE_COMPRESSION: 'zstd' },
    });
    try {
      await service.waitReady();
      const events = Array.from({ length: 60 }, (_, i) => segmentEvent('rx', i));
      await producer.send(events);
      const warehouse = await consumeAll(names.warehouse, { count: events.length, settleMs: 300 });
      assert.equal(warehouse.length, events.length, 'every event reached the warehouse');
      const reg = registry();
      let valueBytes = 0;
      for (const r of warehouse) {
        assert.equal(containsCanary(r.message.value), null);
        const value = await reg.decode(r.message.value as Buffer);
        assert.equal(value.properties.mrn.split('.').length, 5, 'the MRN is a JWE');
        valueBytes += (r.message.value as Buffer).length;
      }
      // the JWEs of one content key share their header and encrypted key: zstd takes most of it away
      const onDisk = await topicBytes(names.warehouse);
      assert.ok(onDisk < valueBytes / 2, `warehouse topic ${onDisk} B on disk for ${valueBytes} B of values`);
    } finally {
      await service.stop();
      await producer.disconnect();
    }
  });
});
