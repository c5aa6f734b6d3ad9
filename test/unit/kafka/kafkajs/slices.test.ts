import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { recordSize, slices } from '../../../../src/kafka/kafkajs/transactions.ts';

const msg = (n: number, tag: string) => ({ key: tag, value: Buffer.alloc(n) });

describe('request slicing (kafkajs never splits a partition batch by size)', () => {
  test('keeps every record, in order, and no slice above the limit unless one record alone is', () => {
    const outputs = [
      { topic: 'a', messages: [msg(400, 'a1'), msg(400, 'a2'), msg(400, 'a3')] },
      { topic: 'b', messages: [msg(100, 'b1'), msg(2000, 'b2'), msg(100, 'b3')] },
    ];
    const limit = 1000;
    const result = [...slices(outputs, limit)];
    const flat = result.flatMap((s) => s.flatMap((t) => t.messages.map((m) => `${t.topic}:${m.key}`)));
    assert.deepEqual(flat, ['a:a1', 'a:a2', 'a:a3', 'b:b1', 'b:b2', 'b:b3']);
    for (const s of result) {
      const bytes = s.reduce((n, t) => n + t.messages.reduce((k, m) => k + recordSize(m), 0), 0);
      const single = s.length === 1 && s[0]?.messages.length === 1;
      assert.ok(bytes <= limit || single, `slice of ${bytes} bytes`);
    }
    assert.ok(result.length >= 3);
  });

  test('small outputs stay one request; empty outputs send nothing', () => {
    assert.equal([...slices([{ topic: 'a', messages: [msg(10, 'x'), msg(10, 'y')] }], 1000)].length, 1);
    assert.equal([...slices([], 1000)].length, 0);
  });
});
