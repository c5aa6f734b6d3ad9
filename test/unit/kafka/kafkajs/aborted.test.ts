/**
 * hideAborted: which fetched records belong to aborted transactions, decided as the Java consumer
 * decides it — whatever order the fetch lists the aborted transactions in.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type FetchedRecord, hideAborted } from '../../../../src/kafka/kafkajs/aborted.ts';

const ABORT = Buffer.from([0, 0, 0, 0]);
const COMMIT = Buffer.from([0, 0, 0, 1]);

function data(offset: number, producerId: string, inTransaction = true): FetchedRecord {
  return {
    offset: String(offset),
    key: Buffer.from('k'),
    isControlRecord: false,
    batchContext: { producerId, inTransaction },
  };
}

function marker(offset: number, producerId: string, key: Buffer): FetchedRecord {
  return {
    offset: String(offset),
    key,
    isControlRecord: true,
    batchContext: { producerId, inTransaction: true },
  };
}

/** The offsets of the records an application is handed (kafkajs drops control records). */
function delivered(records: readonly FetchedRecord[]): number[] {
  return records.filter((r) => !r.isControlRecord).map((r) => Number(r.offset));
}

describe('hideAborted', () => {
  test('two interleaved transactions, the later-begun one aborted first: both hidden', () => {
    // A begins at 0, B at 1; B's abort marker (3) precedes A's (4): the fetch lists B first
    const records = [
      data(0, 'A'),
      data(1, 'B'),
      data(2, 'A'),
      marker(3, 'B', ABORT),
      marker(4, 'A', ABORT),
      data(5, 'C', false),
    ];
    const aborted = [
      { producerId: 'B', firstOffset: '1' },
      { producerId: 'A', firstOffset: '0' },
    ];
    assert.deepEqual(delivered(hideAborted(records, aborted)), [5]);
  });

  test('a fetch that starts inside two aborted transactions hides the records of both', () => {
    const records = [
      data(10, 'B'),
      data(11, 'A'),
      marker(12, 'A', ABORT),
      marker(13, 'B', ABORT),
      data(14, 'A'),
    ];
    const aborted = [
      { producerId: 'A', firstOffset: '2' },
      { producerId: 'B', firstOffset: '5' },
    ];
    // 14 is A's next transaction, after its abort marker: not aborted (not in the list)
    assert.deepEqual(delivered(hideAborted(records, aborted)), [14]);
  });

  test('committed transactions and records outside transactions pass; a commit marker closes nothing', () => {
    const records = [
      data(0, 'A'),
      marker(1, 'A', COMMIT),
      data(2, 'B'),
      data(3, 'X', false),
      data(4, 'B'),
      marker(5, 'B', ABORT),
      data(6, 'X', false),
    ];
    assert.deepEqual(delivered(hideAborted(records, [{ producerId: 'B', firstOffset: '2' }])), [0, 3, 6]);
  });

  test("a producer id in the list is hidden only from its transaction's first offset on", () => {
    const records = [data(0, 'A'), marker(1, 'A', COMMIT), data(2, 'A'), marker(3, 'A', ABORT)];
    assert.deepEqual(delivered(hideAborted(records, [{ producerId: 'A', firstOffset: '2' }])), [0]);
  });

  test('hidden records keep their offsets (kafkajs still moves past them), and nothing listed changes nothing', () => {
    const records = [data(7, 'A'), marker(8, 'A', ABORT)];
    const out = hideAborted(records, [{ producerId: 'A', firstOffset: '7' }]);
    assert.deepEqual(
      out.map((r) => r.offset),
      ['7', '8'],
    );
    assert.equal(hideAborted(records, []), records);
  });
});
