import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { startOperationsServer } from '../../runtime/operations-server.js';
import { Watchdog } from '../../runtime/watchdog.js';
import { silentLogger, type Stage } from '../../stages/stage.js';
import type { ObjectStore } from '../../store/object-store.js';

/** A clock the test moves by hand. */
function handClock() {
  let now = 0;
  return { clock: () => now, pass: (ms: number) => (now += ms) };
}

const never = <T>() => new Promise<T>(() => {});
const context = { log: silentLogger, signal: new AbortController().signal };

/** A store whose requests never answer, as a server that accepts a connection and says nothing. */
const hungStore: ObjectStore = {
  url: 's3://hung',
  list: () => ({ [Symbol.asyncIterator]: () => ({ next: never }) }),
  head: never,
  get: never,
  put: never,
  delete: never,
};

describe('the watchdog', () => {
  it('is alive while each wait moves within the limit, however long the work as a whole takes', () => {
    const { clock, pass } = handClock();
    const watchdog = new Watchdog({ stallMs: 1000, clock });
    const run = watchdog.begin('training run r (its next step)');
    for (let step = 0; step < 10; step++) {
      pass(900);
      run.moved();
    }
    assert.deepEqual(watchdog.check(), { alive: true });
    run.end();
  });

  it('names the wait that has not moved, and for how long, once past the limit', () => {
    const { clock, pass } = handClock();
    const watchdog = new Watchdog({ stallMs: 1000, clock });
    const moving = watchdog.begin('stage encode');
    pass(600);
    watchdog.begin('stage publish');
    pass(600);
    moving.moved();
    pass(500);
    assert.deepEqual(watchdog.check(), { alive: false, reason: 'stalled: stage publish has not moved for 1 s (limit 1 s)' });
    pass(3000);
    assert.equal(watchdog.secondsWithoutProgress(), 4.1);
    assert.match((watchdog.check() as { reason: string }).reason, /publish has not moved for 4 s/);
  });

  it('with nothing in flight, is alive however long without an idle limit (the trainer between runs), and stalled past one (a polling consumer that stopped looking)', () => {
    const { clock, pass } = handClock();
    const trainer = new Watchdog({ stallMs: 1000, clock });
    const consumer = new Watchdog({ stallMs: 1000, idleMs: 1500, clock });
    consumer.begin('source store: list s3://b/k').end();
    pass(1400);
    assert.deepEqual(consumer.check(), { alive: true });
    consumer.begin('source store: list s3://b/k').end();
    pass(1400);
    assert.deepEqual(consumer.check(), { alive: true }, 'each look that ends is a heartbeat');
    pass(200);
    assert.deepEqual(consumer.check(), { alive: false, reason: 'stalled: nothing in flight and nothing has moved for 2 s (limit 1.5 s)' });
    pass(86_400_000);
    assert.deepEqual(trainer.check(), { alive: true });
    assert.equal(trainer.secondsWithoutProgress(), 0);
  });

  it("holds a store's requests that are no heartbeat (the model store's) to the limit, but their ending is no look for new analyses", () => {
    const { clock, pass } = handClock();
    const consumer = new Watchdog({ stallMs: 1000, idleMs: 1500, clock });
    const models = consumer.store(hungStore, 'model', { heartbeat: false });
    consumer.begin('source store: list s3://b/k').end();
    for (let read = 0; read < 4; read++) {
      const pointer = consumer.begin('model store: get s3://m/promoted.json', { heartbeat: false });
      pass(400);
      pointer.end();
    }
    assert.deepEqual(consumer.check(), { alive: false, reason: 'stalled: nothing in flight and nothing has moved for 2 s (limit 1.5 s)' }, 'the follower reading the model store does not stand for a consumer looking for analyses');
    assert.equal(consumer.secondsWithoutProgress(), 1.6);
    consumer.begin('source store: list s3://b/k').end();
    void models.get('promoted.json');
    pass(1001);
    assert.deepEqual(consumer.check(), { alive: false, reason: 'stalled: model store: get s3://hung/promoted.json has not moved for 1 s (limit 1 s)' });
    pass(600);
    assert.match((consumer.check() as { reason: string }).reason, /^stalled: model store: get s3:\/\/hung\/promoted\.json has not moved for 2 s/, 'the request that hangs is named before the idle limit');
  });

  it("names a store request that never answers by its store's role, operation and key", async () => {
    const { clock, pass } = handClock();
    const watchdog = new Watchdog({ stallMs: 1000, clock });
    const source = watchdog.store(hungStore, 'source');
    void source.get('hrrr.20190920/conus/hrrr.t00z.wrfsfcf00.grib2');
    pass(1001);
    assert.deepEqual(watchdog.check(), { alive: false, reason: 'stalled: source store: get s3://hung/hrrr.20190920/conus/hrrr.t00z.wrfsfcf00.grib2 has not moved for 1 s (limit 1 s)' });
    const state = new Watchdog({ stallMs: 1000, clock });
    void state.store(hungStore, 'state').list('progress/')[Symbol.asyncIterator]().next();
    pass(2000);
    assert.match((state.check() as { reason: string }).reason, /^stalled: state store: list s3:\/\/hung\/progress\/ has not moved for 2 s/);
  });

  it('names a stage and the store request inside it that hangs, oldest first, and waits on the same thing once, with how many', () => {
    const { clock, pass } = handClock();
    const watchdog = new Watchdog({ stallMs: 1000, clock });
    watchdog.begin('stage fetch');
    pass(100);
    watchdog.begin('source store: get s3://b/k');
    for (let field = 0; field < 8; field++) watchdog.begin('stage encode');
    pass(950);
    assert.deepEqual(watchdog.check(), { alive: false, reason: 'stalled: stage fetch has not moved for 1 s (limit 1 s)' }, 'only those past the limit');
    pass(100);
    assert.deepEqual(watchdog.check(), { alive: false, reason: 'stalled: stage fetch has not moved for 1 s; source store: get s3://b/k has not moved for 1 s; stage encode (8 at once) has not moved for 1 s (limit 1 s)' });
  });

  it("names a stage whose next output never comes, but not a stage whose caller holds its output", async () => {
    const { clock, pass } = handClock();
    const watchdog = new Watchdog({ stallMs: 1000, clock });
    const twoThenHang: Stage<number, number> = {
      name: 'encode',
      async *process(input) {
        yield input;
        yield input + 1;
        await never();
      },
    };
    const outputs = watchdog.instrument(twoThenHang).process(1, context)[Symbol.asyncIterator]();
    assert.deepEqual(await outputs.next(), { value: 1, done: false });
    pass(5000);
    assert.deepEqual(watchdog.check(), { alive: true }, 'the caller working on an output is not the stage waiting');
    assert.deepEqual(await outputs.next(), { value: 2, done: false });
    void outputs.next();
    pass(1500);
    assert.deepEqual(watchdog.check(), { alive: false, reason: 'stalled: stage encode has not moved for 2 s (limit 1 s)' });
  });

  it('answers /healthz 503 with the reason once stalled, and serves the seconds without progress and whether it is stalled as gauges', async () => {
    const { clock, pass } = handClock();
    const watchdog = new Watchdog({ stallMs: 1000, clock });
    const registry = new Registry();
    watchdog.registerGauges(registry, 'hrrr_embed');
    const server = await startOperationsServer({ host: '127.0.0.1', port: 0, registry, readiness: { check: () => ({ ready: true }) }, liveness: watchdog });
    try {
      const healthz = async () => {
        const response = await fetch(`${server.url}/healthz`);
        return { status: response.status, text: await response.text() };
      };
      watchdog.begin('state store: put file:///state/progress/run.json');
      pass(500);
      assert.deepEqual(await healthz(), { status: 200, text: 'alive\n' });
      assert.match(await (await fetch(`${server.url}/metrics`)).text(), /^hrrr_embed_stalled 0$/m);
      pass(1500);
      assert.deepEqual(await healthz(), { status: 503, text: 'stalled: state store: put file:///state/progress/run.json has not moved for 2 s (limit 1 s)\n' });
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      assert.match(metrics, /^hrrr_embed_seconds_without_progress 2$/m);
      assert.match(metrics, /^hrrr_embed_stalled 1$/m);
    } finally {
      await server.close();
    }
  });
});
