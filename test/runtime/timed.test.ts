import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { timed } from '../../runtime/timed.js';
import { silentLogger, type Stage } from '../../stages/stage.js';

const context = { log: silentLogger, signal: new AbortController().signal };

/** A fake clock in milliseconds that the stage and its caller advance by hand. */
function fakeClock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('timed', () => {
  it('observes once per input the time spent inside the stage, not the time its caller spends on each output', async () => {
    const clock = fakeClock();
    const pieces: Stage<number, number> = {
      name: 'pieces',
      async *process(count) {
        for (let i = 0; i < count; i++) {
          clock.advance(5);
          yield i;
        }
        clock.advance(1);
      },
    };
    const seconds: number[] = [];
    const stage = timed(pieces, { observe: (value) => seconds.push(value) }, clock.now);
    const outputs = [];
    for await (const output of stage.process(3, context)) {
      outputs.push(output);
      clock.advance(100);
    }
    assert.deepEqual(outputs, [0, 1, 2]);
    assert.equal(stage.name, 'pieces');
    assert.deepEqual(seconds, [0.016]);
  });

  it('observes an input that fails, and passes the failure on unchanged', async () => {
    const clock = fakeClock();
    const failure = new Error('broken');
    const failing: Stage<number, number> = {
      name: 'failing',
      async *process() {
        clock.advance(7);
        throw failure;
      },
    };
    const seconds: number[] = [];
    const iterate = async () => {
      for await (const _ of timed(failing, { observe: (value) => seconds.push(value) }, clock.now).process(1, context));
    };
    await assert.rejects(iterate, (error) => error === failure);
    assert.deepEqual(seconds, [0.007]);
  });

  it('closes the stage when its caller stops early', async () => {
    let closed = false;
    const endless: Stage<number, number> = {
      name: 'endless',
      async *process() {
        try {
          for (let i = 0; ; i++) yield i;
        } finally {
          closed = true;
        }
      },
    };
    const seconds: number[] = [];
    for await (const output of timed(endless, { observe: (value) => seconds.push(value) }).process(0, context)) if (output === 2) break;
    assert.equal(closed, true);
    assert.equal(seconds.length, 1);
  });
});
