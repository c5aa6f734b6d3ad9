/**
 * Reads a topic from the beginning until `count` distinct records arrived or the deadline passed.
 * A record is identified by (topic, partition, offset): a reader that rejoins its group re-delivers
 * offsets it already saw, which is the reader's business — a duplicate OUTPUT is the same payload at
 * two different offsets, and that is what the tests look for.
 */
import type { KafkaMessage } from 'kafkajs';
import { kafka, uniqueName } from './stack.ts';

export interface Received {
  readonly topic: string;
  readonly partition: number;
  readonly message: KafkaMessage;
}

export async function consumeAll(
  topic: string | readonly string[],
  options: {
    count: number;
    timeoutMs?: number;
    readUncommitted?: boolean;
    settleMs?: number;
    /** Default: the shared broker (KAFKA_BROKERS). */
    brokers?: readonly string[];
  },
): Promise<Received[]> {
  const topics = typeof topic === 'string' ? [topic] : [...topic];
  const consumer = kafka('phi-gate-test-reader', options.brokers).consumer({
    groupId: uniqueName('reader'),
    readUncommitted: options.readUncommitted ?? false,
    maxWaitTimeInMs: 100,
  });
  const received: Received[] = [];
  const seen = new Set<string>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    const deadline = Date.now() + (options.timeoutMs ?? 20_000);
    let reachedAt = 0;
    await consumer.run({
      eachMessage: async ({ topic: t, partition, message }) => {
        const id = `${t}/${partition}/${message.offset}`;
        if (seen.has(id)) return;
        seen.add(id);
        received.push({ topic: t, partition, message });
      },
    });
    // After reaching the count, wait `settleMs` more so that duplicates would show up too.
    while (Date.now() < deadline) {
      if (received.length >= options.count) {
        if (reachedAt === 0) reachedAt = Date.now();
        if (Date.now() - reachedAt >= (options.settleMs ?? 0)) break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await consumer.disconnect();
  }
  return received;
}
