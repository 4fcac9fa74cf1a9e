import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Handoff } from '../../bus/kafka/handoff.js';

describe('handoff from kafkajs to the reader', () => {
  it('put resolves only once the reader has taken the item: the source waits for the reader', async () => {
    const handoff = new Handoff<number>();
    let delivered = false;
    const put = handoff.put(1).then(() => (delivered = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(delivered, false);
    assert.equal(await handoff.take(), 1);
    await put;
    assert.equal(delivered, true);
  });

  it('a take cut short by its signal leaves the next item for the next take', async () => {
    const handoff = new Handoff<string>();
    const aborted = new AbortController();
    const first = handoff.take(aborted.signal);
    aborted.abort();
    assert.equal(await first, undefined);
    const put = handoff.put('kept');
    assert.equal(await handoff.take(), 'kept');
    await put;
  });

  it('close releases waiting sources and ends the reader', async () => {
    const handoff = new Handoff<number>();
    const puts = [handoff.put(1), handoff.put(2)];
    handoff.close();
    await Promise.all(puts);
    assert.equal(await handoff.take(), undefined);
    await handoff.put(3);
  });
});
