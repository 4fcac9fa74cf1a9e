import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConsumedRecord } from '../../bus/bus.js';
import type { BusTransaction } from '../../bus/kafka/kafka-bus.js';
import { committedOffset } from '../../pipelines/consume-events.js';

/** A transaction whose reads of the group's offset answer `answers` in turn (the last for good), on a partition whose oldest record is at 0. */
function transactionAnswering(answers: Array<number | null>): BusTransaction & { reads: () => number } {
  let reads = 0;
  return {
    produce: async () => {},
    commitConsumed: async () => {},
    committedOffset: async () => answers[Math.min(reads++, answers.length - 1)]!,
    oldestOffset: async () => 0,
    reads: () => reads,
  };
}

const record = (offset: number) => ({ topic: 'objects', partition: 0, offset }) as ConsumedRecord;

describe("the events consumer's reading of its group's offset inside a transaction", () => {
  it("asks again when the last transaction's commit is not readable yet, rather than take the topic for one created again", async () => {
    const transaction = transactionAnswering([null, null, 1]);
    assert.equal(await committedOffset(transaction, 'embedders', record(1)), 1);
    assert.equal(transaction.reads(), 3);
  });

  it('takes none at the oldest record kept as a group that begins there, at once', async () => {
    const transaction = transactionAnswering([null]);
    assert.equal(await committedOffset(transaction, 'embedders', record(0)), null);
    assert.equal(transaction.reads(), 1);
  });
});
