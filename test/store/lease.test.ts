import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { silentLogger } from '../../stages/stage.js';
import { acquireLease, type LeaseRecord } from '../../store/lease.js';
import { ObjectNotFoundError } from '../../store/errors.js';
import type { ObjectStore } from '../../store/object-store.js';
import { runCommandProcess, type CommandResult } from '../support/cli-process.js';
import { storeKinds } from '../support/stores.js';
import type { LeaseTaker, TakerOutcome } from './lease-taker.js';

const setup = await storeKinds();
after(() => setup.stop());

/** Short enough for a test, long enough for moto to answer several times within it. */
const leaseMs = 600;
const HOUR_MS = 3_600_000;
const options = (owner: string, signal?: AbortSignal) => ({ owner, log: silentLogger, leaseMs, ...(signal && { signal }) });

/** A store's calls, as a separate object that can replace some. */
const bound = (store: ObjectStore): ObjectStore => ({
  url: store.url,
  list: (prefix, listOptions) => store.list(prefix, listOptions),
  head: (key, requestOptions) => store.head(key, requestOptions),
  get: (key, getOptions) => store.get(key, getOptions),
  put: (key, body, putOptions) => store.put(key, body, putOptions),
  delete: (key, requestOptions) => store.delete(key, requestOptions),
});

/**
 * Another trainer in a thread of its own (lease-taker.ts), with a lease of `takerLeaseMs`, a wall
 * clock `shiftMs` ahead of this thread's, and (`gated`) its writes held until `letWrite`.
 */
function startTaker(store: ObjectStore, { leaseMs: takerLeaseMs = leaseMs, shiftMs = 0, gated = false } = {}) {
  const flag = () => new Int32Array(new SharedArrayBuffer(4));
  const gate = gated ? { writing: flag(), mayWrite: flag() } : undefined;
  const workerData: LeaseTaker = { url: store.url, endpoint: setup.server.endpoint, leaseMs: takerLeaseMs, taken: flag(), shiftMs, stop: flag(), ...(gate && { gate }) };
  const worker = new Worker(new URL('./lease-taker.js', import.meta.url), { workerData });
  const outcome = new Promise<TakerOutcome>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the other trainer's thread exited (${code}) with no outcome`)));
  });
  outcome.catch(() => {}); // a thread ended before it answered fails the test that awaits its outcome, not the run
  const set = (shared: Int32Array) => (Atomics.store(shared, 0, 1), Atomics.notify(shared, 0));
  return {
    outcome,
    /** Blocks this thread (as a tfjs cpu step blocks it) until the other trainer holds the lease. */
    blockUntilTaken: () => Atomics.wait(workerData.taken, 0, 0, 60_000),
    /** Blocks this thread until the other trainer is about to write a lease object (`gated`). */
    blockUntilWriting: () => Atomics.wait(gate!.writing, 0, 0, 60_000),
    letWrite: () => set(gate!.mayWrite),
    /** Stops its wait for the lease. */
    stop: () => set(workerData.stop!),
    end: () => worker.terminate(),
  };
}

/** `inner`, except that once `arm` is called, the next listing runs `compete` after it is read and before handing it back. */
function competingAfterListing(inner: ObjectStore): { store: ObjectStore; arm: (compete: () => Promise<unknown>) => void } {
  let competing: (() => Promise<unknown>) | undefined;
  const store: ObjectStore = {
    ...bound(inner),
    list: (prefix, listOptions) => ({
      async *[Symbol.asyncIterator]() {
        const listed = [];
        for await (const info of inner.list(prefix, listOptions)) listed.push(info);
        const compete = competing;
        competing = undefined;
        await compete?.();
        yield* listed;
      },
    }),
  };
  return { store, arm: (compete) => void (competing = compete) };
}

/** `work` with this thread's wall clock (Date.now) stepped by `stepMs`, as NTP or an operator steps a host's. */
async function withWallClockStepped<T>(stepMs: number, work: () => Promise<T>): Promise<T> {
  const wallClock = Date.now;
  Date.now = () => wallClock() + stepMs;
  try {
    return await work();
  } finally {
    Date.now = wallClock;
  }
}

/** A holder renews its lease while another trainer (in a thread: startTaker's options) waits 4 leases for it: the other must not take it. */
async function notTakenWhileRenewed(store: ObjectStore, taker: Parameters<typeof startTaker>[1] = {}): Promise<void> {
  const holder = (await acquireLease(store, options('holder')))!;
  const other = startTaker(store, taker);
  try {
    setTimeout(other.stop, 4 * leaseMs);
    assert.equal((await other.outcome).epoch, undefined, 'the other trainer took a lease its holder kept renewing: two holders at once');
  } finally {
    await other.end();
  }
  assert.equal(holder.lost.aborted, false);
  await holder.confirm();
  await holder.release();
}

/** `inner`, whose puts (and listings, `listsToo`) fail while `failing.now` is set; `failed` resolves at the first such failure. */
function failingWhile(inner: ObjectStore, { listsToo }: { listsToo: boolean }): { store: ObjectStore; failing: { now: boolean }; failed: Promise<void> } {
  const failing = { now: false };
  let failed!: () => void;
  const fail = () => (failed(), new Error('the store is unreachable'));
  const store: ObjectStore = {
    ...bound(inner),
    list: (prefix, listOptions) => (listsToo && failing.now ? { [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(fail()) }) } : inner.list(prefix, listOptions)),
    put: (key, body, putOptions) => (failing.now ? Promise.reject(fail()) : inner.put(key, body, putOptions)),
  };
  return { store, failing, failed: new Promise<void>((resolve) => (failed = resolve)) };
}

for (const kind of setup.kinds) {
  describe(`the trainer lease: ${kind.name}`, () => {
    it('goes to one trainer at a time: a second waits while the first renews it, and takes it once it is released', async () => {
      const store = await kind.create();
      const first = (await acquireLease(store, options('first')))!;
      let second: Awaited<ReturnType<typeof acquireLease>>;
      const waiting = acquireLease(store, options('second')).then((lease) => (second = lease));
      await sleep(3 * leaseMs);
      assert.equal(second, undefined, 'the second trainer took a lease the first kept renewing');
      assert.equal(first.lost.aborted, false);
      await first.release();
      await waiting;
      assert.deepEqual([first.epoch, second!.epoch], [1, 2]);
      await second!.release();
    });

    it('is not taken from a holder that keeps renewing it by a waiter that gets an answer late (its process stopped after the store served the read): what a read finds counts as seen when it was asked, not when it came back', async () => {
      const store = await kind.create();
      const holder = (await acquireLease(store, options('holder')))!;
      let previous: string | undefined;
      let stalled = false;
      // The waiter's first read that finds the object as its read before did is handed back only
      // after more than a lease, as to a process stopped meanwhile: the holder renewed it since.
      const late: ObjectStore = {
        ...bound(store),
        get: async (key, getOptions) => {
          const body = await store.get(key, getOptions);
          const served = new TextDecoder().decode(body);
          if (!stalled && served === previous) (stalled = true, await sleep(1.5 * leaseMs));
          previous = served;
          return body;
        },
      };
      const stop = new AbortController();
      setTimeout(() => stop.abort(), 6 * leaseMs);
      // A lease of its own short enough that it looks every 50 ms: two looks between two renewals.
      const other = await acquireLease(late, { ...options('other', stop.signal), leaseMs: leaseMs / 3 });
      assert.ok(stalled, 'no read was answered late');
      assert.equal(other?.epoch, undefined, 'the waiter took a lease its holder kept renewing: two holders at once');
      assert.equal(holder.lost.aborted, false, String((holder.lost.reason as Error | undefined)?.message));
      await holder.confirm();
      await holder.release();
    });

    it('is taken over once its holder stops renewing it (a trainer that died), and a stalled holder learns it lost it, at once when it asks', async () => {
      const store = await kind.create();
      const dead: LeaseRecord = { owner: 'dead', epoch: 1, acquiredAt: new Date(0).toISOString(), expiresAt: new Date(Date.now() - 1).toISOString() };
      await store.put('trainer-lease/000000000001.json', new TextEncoder().encode(JSON.stringify(dead)));
      const next = (await acquireLease(store, options('next')))!;
      assert.equal(next.epoch, 2);
      await next.confirm();

      // As if `next` had stalled past its expiry and a third trainer had taken over meanwhile.
      const third: LeaseRecord = { owner: 'third', epoch: 3, acquiredAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 60_000).toISOString() };
      await store.put('trainer-lease/000000000003.json', new TextEncoder().encode(JSON.stringify(third)));
      await assert.rejects(next.confirm(), /lost the trainer lease: a later trainer took it/);
      for (const deadline = Date.now() + 10 * leaseMs; !next.lost.aborted && Date.now() < deadline; ) await sleep(50);
      assert.match(String((next.lost.reason as Error).message), /lost the trainer lease: a later trainer took it/);
      await next.release();
    });

    it('held by a holder whose renewal never answers (a store call with no bound), is lost once it expires, and let go without waiting for that renewal', async () => {
      const store = await kind.create();
      let hung = false;
      const never = new Promise<never>(() => {});
      const hanging: ObjectStore = {
        url: store.url,
        list: (prefix, listOptions) => (hung ? { [Symbol.asyncIterator]: () => ({ next: () => never }) } : store.list(prefix, listOptions)),
        head: (key, requestOptions) => (hung ? never : store.head(key, requestOptions)),
        get: (key, getOptions) => (hung ? never : store.get(key, getOptions)),
        put: (key, body, putOptions) => (hung ? never : store.put(key, body, putOptions)),
        delete: (key, requestOptions) => (hung ? never : store.delete(key, requestOptions)),
      };
      const holder = (await acquireLease(hanging, options('holder')))!;
      hung = true;
      for (const deadline = Date.now() + 10 * leaseMs; !holder.lost.aborted && Date.now() < deadline; ) await sleep(50);
      assert.match(String((holder.lost.reason as Error | undefined)?.message), /^lost the trainer lease: it expired while a renewal had not answered$/);
      await holder.release();
    });

    it('held by a holder whose event loop was blocked past its expiry (a long training step on the cpu backend) while no other trainer took it, stays its own: renewed when the loop comes back', async () => {
      const store = await kind.create();
      const holder = (await acquireLease(store, options('holder')))!;
      for (const until = Date.now() + 3 * leaseMs; Date.now() < until; ); // synchronous, as a tfjs cpu step is
      await sleep(leaseMs);
      assert.equal(holder.lost.aborted, false, String((holder.lost.reason as Error | undefined)?.message));
      await holder.confirm();
      await holder.release();
    });

    it('held by a holder whose event loop was blocked past its expiry while no other trainer took it, stays its own when the holder asks before its renewal timer had a turn (a checkpoint right after a long cpu step)', async () => {
      const store = await kind.create();
      const holder = (await acquireLease(store, options('holder')))!;
      for (const until = Date.now() + 3 * leaseMs; Date.now() < until; ); // synchronous, as a tfjs cpu step is
      await holder.confirm();
      assert.equal(holder.lost.aborted, false);
      await sleep(leaseMs);
      await holder.confirm();
      assert.equal(holder.lost.aborted, false, String((holder.lost.reason as Error | undefined)?.message));
      await holder.release();
      const next = (await acquireLease(store, options('next')))!;
      assert.equal(next.epoch, holder.epoch + 1, 'the next trainer did not take the number after the holder\'s last');
      await next.release();
    });

    it('held by a holder whose event loop was blocked past its expiry right after its timer sent a renewal (a long cpu step began while the renewal waited for the store), stays its own: the renewal, answered meanwhile, is not taken for one that never answers', async () => {
      const store = await kind.create();
      let renewalSent: (() => void) | undefined;
      const watched: ObjectStore = { ...bound(store), list: (prefix, listOptions) => (renewalSent?.(), store.list(prefix, listOptions)) };
      const holder = (await acquireLease(watched, options('holder')))!;
      await new Promise<void>((resolve) => (renewalSent = resolve));
      renewalSent = undefined;
      for (const until = Date.now() + 3 * leaseMs; Date.now() < until; ); // synchronous, as a tfjs cpu step is
      await holder.confirm();
      assert.equal(holder.lost.aborted, false, String((holder.lost.reason as Error | undefined)?.message));
      await sleep(leaseMs);
      await holder.confirm();
      await holder.release();
    });

    it('held through a run of synchronous steps each longer than the lease, with only the short turns between them a training loop gives the event loop, stays its own: each renewal goes on a store answer at a time, and a checkpoint\'s question finds it its own', async () => {
      const store = await kind.create();
      const holder = (await acquireLease(store, options('holder')))!;
      for (let step = 1; step <= 5; step++) {
        for (const until = Date.now() + 1.5 * leaseMs; Date.now() < until; ); // synchronous, as a tfjs cpu step is
        await sleep(1); // the next batch
        if (step % 2 === 0) await holder.confirm();
        assert.equal(holder.lost.aborted, false, `after step ${step}: ${String((holder.lost.reason as Error | undefined)?.message)}`);
      }
      await holder.confirm();
      await holder.release();
    });

    it('asked after each of many synchronous steps longer than the lease (a cpu trainer\'s checkpoints), keeps nothing waiting on its signal: no listener-leak warning', async () => {
      const store = await kind.create();
      const warnings: string[] = [];
      const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
      process.on('warning', onWarning);
      try {
        const holder = (await acquireLease(store, options('holder')))!;
        for (let step = 1; step <= 12; step++) {
          for (const until = Date.now() + 1.1 * leaseMs; Date.now() < until; ); // synchronous, as a tfjs cpu step is
          await holder.confirm();
        }
        await holder.release();
        await sleep(10); // a warning is emitted on the next turn
      } finally {
        process.off('warning', onWarning);
      }
      assert.deepEqual(warnings.filter((warning) => warning.startsWith('MaxListenersExceededWarning')), []);
    });

    it('held by a holder whose event loop was blocked past its expiry while another trainer took it, is lost when the holder asks after the block', async () => {
      const store = await kind.create();
      const holder = (await acquireLease(store, options('holder')))!;
      const other = startTaker(store, { leaseMs: 60_000 });
      try {
        // Blocked (as by a tfjs cpu step) until the other trainer, having seen the lease go unrenewed for a lease, holds it.
        assert.equal(other.blockUntilTaken(), 'ok', 'the other trainer never took the lease');
        await assert.rejects(holder.confirm(), /^Error: lost the trainer lease: a later trainer took it/);
        assert.equal(holder.lost.aborted, true);
      } finally {
        await other.end();
      }
      await holder.release();
    });

    it('held by a holder whose event loop was blocked past its expiry, is lost when another trainer takes it between the holder\'s look at the store and its renewal', async () => {
      const store = await kind.create();
      const racing = competingAfterListing(store);
      const holder = (await acquireLease(racing.store, options('holder')))!;
      const other = startTaker(store, { leaseMs: 60_000, gated: true });
      try {
        // Blocked (as by a tfjs cpu step) until the other trainer, having seen the lease go unrenewed for a lease, is about to take it.
        assert.equal(other.blockUntilWriting(), 'ok', 'the other trainer never went to take the lease');
        racing.arm(async () => (other.letWrite(), await other.outcome));
        await assert.rejects(holder.confirm(), /^Error: lost the trainer lease: a later trainer took it/);
        assert.equal((await other.outcome).epoch, 2);
      } finally {
        await other.end();
      }
      await holder.release();
    });

    it('held by a holder whose event loop was blocked past its expiry, is not also taken by another trainer that judged it dead before the holder renewed it and writes after: the renewal is a write only one of them can make', async () => {
      const store = await kind.create();
      const holder = (await acquireLease(store, options('holder')))!;
      const other = startTaker(store, { gated: true });
      try {
        // Blocked (as by a tfjs cpu step) until the other trainer, having seen the lease go unrenewed for a lease, is about to take it.
        assert.equal(other.blockUntilWriting(), 'ok', 'the other trainer never went to take the lease');
        await holder.confirm(); // what follows acts as the lease's holder
        other.letWrite();
        setTimeout(other.stop, 2 * leaseMs);
        assert.equal((await other.outcome).epoch, undefined, 'the other trainer took the lease the holder had confirmed as its own');
        assert.equal(holder.lost.aborted, false);
      } finally {
        await other.end();
      }
      await holder.release();
    });

    it('renewed past its expiry by taking the next number, is not taken by a trainer whose write of the number its holder had before lands only now (it read the lease before the holder took it: a put tried again after a timeout)', async () => {
      const store = await kind.create();
      const dead: LeaseRecord = { owner: 'dead', epoch: 1, acquiredAt: new Date(0).toISOString(), expiresAt: new Date(Date.now() - 1).toISOString() };
      await store.put('trainer-lease/000000000001.json', new TextEncoder().encode(JSON.stringify(dead)));
      let readExpired!: () => void;
      let write!: () => void;
      const [othersRead, mayWrite] = [new Promise<void>((resolve) => (readExpired = resolve)), new Promise<void>((resolve) => (write = resolve))];
      // The other trainer's takeover of number 2, held between its read of the dead lease and its write.
      const held: ObjectStore = { ...bound(store), put: async (key, body, putOptions) => (readExpired(), await mayWrite, store.put(key, body, putOptions)) };
      const stop = new AbortController();
      const other = acquireLease(held, options('other', stop.signal));
      await othersRead;
      const holder = (await acquireLease(store, options('holder')))!;
      assert.equal(holder.epoch, 2);
      for (const until = Date.now() + 3 * leaseMs; Date.now() < until; ); // synchronous, as a tfjs cpu step is
      await holder.confirm();
      assert.equal(holder.epoch, 3, 'the holder did not renew by taking the next number');
      write();
      setTimeout(() => stop.abort(), 2 * leaseMs);
      assert.equal((await other)?.epoch, undefined, 'the other trainer took a number below the holder\'s, the lease the holder had confirmed as its own');
      assert.equal(holder.lost.aborted, false);
      await holder.release();
    });

    it('taken after its holder let it go, logs no warning that the holder stopped renewing it (a rolling update is no failure); taken after it expired, does', async () => {
      const store = await kind.create();
      const warnings: string[] = [];
      const log = { ...silentLogger, warn: (_: object, message?: string) => void warnings.push(message ?? '') };
      await (await acquireLease(store, options('first')))!.release();
      await (await acquireLease(store, { ...options('second'), log }))!.release();
      assert.deepEqual(warnings, []);
      const dead: LeaseRecord = { owner: 'dead', epoch: 3, acquiredAt: new Date(0).toISOString(), expiresAt: new Date(Date.now() - 1).toISOString() };
      await store.put('trainer-lease/000000000003.json', new TextEncoder().encode(JSON.stringify(dead)));
      await (await acquireLease(store, { ...options('third'), log }))!.release();
      assert.deepEqual(warnings, ['took over the trainer lease of a trainer that stopped renewing it']);
    });

    it('of two trainers asking at once, gives it to exactly one', async () => {
      const store = await kind.create();
      const stop = new AbortController();
      const asked = ['a', 'b'].map((owner) => acquireLease(store, options(owner, stop.signal)));
      const winner = await Promise.race(asked);
      await sleep(2 * leaseMs);
      stop.abort();
      const leases = await Promise.all(asked);
      assert.equal(leases.filter(Boolean).length, 1, 'both trainers hold the lease');
      await winner!.release();
    });

    it('taken over after many holders died (a process killed and restarted again and again), removes the objects there are, not every number below its own', async () => {
      const store = await kind.create();
      const dead: LeaseRecord = { owner: 'dead', epoch: 5000, acquiredAt: new Date(0).toISOString(), expiresAt: new Date(Date.now() - 1).toISOString() };
      await store.put('trainer-lease/000000004999.json', new TextEncoder().encode(JSON.stringify({ ...dead, epoch: 4999 })));
      await store.put('trainer-lease/000000005000.json', new TextEncoder().encode(JSON.stringify(dead)));
      let deletes = 0;
      const counting = { ...store, url: store.url, list: store.list.bind(store), head: store.head.bind(store), get: store.get.bind(store), put: store.put.bind(store), delete: (key: string) => (deletes++, store.delete(key)) };
      const next = (await acquireLease(counting, options('next')))!;
      assert.equal(next.epoch, 5001);
      assert.ok(deletes <= 2, `${deletes} deletes`);
      const left = [];
      for await (const { key } of store.list('trainer-lease/')) left.push(key);
      assert.deepEqual(left, ['trainer-lease/000000005000.json', 'trainer-lease/000000005001.json']);
      await next.release();
    });

    it('let go by its holder, is not taken for its own by a later ask under the same owner (a caller that reuses its owner): that ask takes the next number, whose object is not let go', async () => {
      const store = await kind.create();
      await (await acquireLease(store, options('holder')))!.release();
      const again = (await acquireLease(store, options('holder')))!;
      const written = JSON.parse(new TextDecoder().decode(await store.get(`trainer-lease/${String(again.epoch).padStart(12, '0')}.json`))) as LeaseRecord;
      assert.deepEqual([again.epoch, written.released], [2, undefined], 'held a lease whose object says it was let go: any waiter takes it at once');
      await again.release();
    });

    it('stops waiting when its signal aborts', async () => {
      const store = await kind.create();
      const holder = (await acquireLease(store, options('holder')))!;
      const stop = new AbortController();
      const waiting = acquireLease(store, options('waiter', stop.signal));
      await sleep(leaseMs);
      stop.abort();
      assert.equal(await waiting, undefined);
      await holder.release();
    });
  });

  describe(`the trainer lease, on hosts whose clocks disagree: ${kind.name}`, () => {
    it('is not taken from a holder that keeps renewing it by a trainer whose wall clock runs an hour ahead', async () => {
      await notTakenWhileRenewed(await kind.create(), { shiftMs: HOUR_MS });
    });

    for (const [shiftMs, apart] of [[HOUR_MS, 'ahead'], [-HOUR_MS, 'behind']] as const) {
      it(`whose holder stopped renewing it (it died), is taken by a trainer whose wall clock runs an hour ${apart} once it has seen it unchanged for a lease by its own clock, not before`, async () => {
        const store = await kind.create();
        const dead: LeaseRecord = { owner: 'dead', epoch: 1, acquiredAt: new Date(Date.now() - 2 * leaseMs).toISOString(), expiresAt: new Date(Date.now() - 1).toISOString() };
        await store.put('trainer-lease/000000000001.json', new TextEncoder().encode(JSON.stringify(dead)));
        const other = startTaker(store, { shiftMs });
        try {
          setTimeout(other.stop, 20 * leaseMs);
          const { epoch, waitedMs } = await other.outcome;
          assert.equal(epoch, 2, 'the other trainer never took the lease of a holder that had died');
          assert.ok(waitedMs >= leaseMs, `taken after ${Math.round(waitedMs)} ms: less than a lease of seeing it unchanged`);
        } finally {
          await other.end();
        }
      });
    }

    it('whose holder died holding a longer lease than a waiter\'s own, is waited for the holder\'s lease, as the holder wrote it, not the waiter\'s', async () => {
      const store = await kind.create();
      const dead: LeaseRecord = { owner: 'dead', epoch: 1, acquiredAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 4 * leaseMs).toISOString(), leaseMs: 4 * leaseMs };
      await store.put('trainer-lease/000000000001.json', new TextEncoder().encode(JSON.stringify(dead)));
      const asked = performance.now();
      const next = (await acquireLease(store, options('next')))!;
      const waitedMs = performance.now() - asked;
      assert.ok(waitedMs >= 4 * leaseMs, `taken after ${Math.round(waitedMs)} ms: less than the holder's lease of ${4 * leaseMs} ms`);
      await next.release();
    });

    it('is not taken from a holder that keeps renewing it with a wall clock that stands still (each renewal the same expiresAt): a renewal changes its object whatever the clock says', async () => {
      const store = await kind.create();
      const wallClock = Date.now;
      const frozen = wallClock();
      Date.now = () => frozen;
      try {
        await notTakenWhileRenewed(store);
      } finally {
        Date.now = wallClock;
      }
    });

    it('whose object holds no lease (not JSON, a torn write by hand), is taken at a waiter\'s first look: the next number fences whoever wrote it', async () => {
      const store = await kind.create();
      await store.put('trainer-lease/000000000001.json', new TextEncoder().encode('{"owner": "torn'));
      const asked = performance.now();
      const next = (await acquireLease(store, { ...options('next'), leaseMs: 60_000 }))!;
      assert.equal(next.epoch, 2);
      assert.ok(performance.now() - asked < 30_000, 'waited for a lease that no object holds');
      await next.release();
    });

    it('is not taken as unreadable when reading its object fails (a store error, not its content): the wait ends with the store\'s error', async () => {
      const inner = await kind.create();
      const holder = (await acquireLease(inner, options('holder')))!;
      let failures = 1;
      const store: ObjectStore = { ...bound(inner), get: (key, getOptions) => (key.startsWith('trainer-lease/') && failures-- > 0 ? Promise.reject(new Error('the store is unreachable')) : inner.get(key, getOptions)) };
      const taken = await acquireLease(store, options('next')).catch((error: Error) => error);
      assert.ok(taken instanceof Error, 'the waiter took a lease its holder kept renewing, on a failed read: two holders at once');
      assert.match(taken.message, /the store is unreachable/);
      assert.equal(holder.lost.aborted, false);
      await holder.release();
    });

    it('is not taken, and its waiter keeps waiting, when the object it listed is gone by the time it reads it (its holder renewed by the next number twice meanwhile): it looks again', async () => {
      const inner = await kind.create();
      const holder = (await acquireLease(inner, options('holder')))!;
      let gone = 1;
      const store: ObjectStore = { ...bound(inner), get: (key, getOptions) => (key.startsWith('trainer-lease/') && gone-- > 0 ? Promise.reject(new ObjectNotFoundError(`${inner.url}/${key}`)) : inner.get(key, getOptions)) };
      const waiting = acquireLease(store, options('next')).catch((error: Error) => error);
      const early = await Promise.race([waiting, sleep(3 * leaseMs).then(() => 'still waiting' as const)]);
      assert.equal(early, 'still waiting', `the waiter stopped waiting while its holder kept renewing: ${early instanceof Error ? early.message : 'it took the lease'}`);
      assert.equal(holder.lost.aborted, false);
      await holder.release();
      const taken = await waiting;
      assert.ok(taken !== undefined && !(taken instanceof Error), `not taken once let go: ${String(taken)}`);
      assert.equal(taken.epoch, 2);
      await taken.release();
    });

    it('keeps in its objects what the waiters of earlier builds judge it by: its owner, and when it expires unless renewed, on its holder\'s wall clock', async () => {
      const store = await kind.create();
      const written = async () => JSON.parse(new TextDecoder().decode(await store.get('trainer-lease/000000000001.json'))) as LeaseRecord;
      const before = Date.now();
      const holder = (await acquireLease(store, options('holder')))!;
      const taken = await written();
      assert.equal(taken.owner, 'holder');
      assert.ok(Date.parse(taken.expiresAt) >= before + leaseMs && Date.parse(taken.expiresAt) <= Date.now() + leaseMs, `expiresAt ${taken.expiresAt}`);
      let renewed = taken;
      for (const deadline = performance.now() + 10 * leaseMs; renewed.expiresAt === taken.expiresAt && performance.now() < deadline; ) (await sleep(50), (renewed = await written()));
      assert.ok(Date.parse(renewed.expiresAt) > Date.now(), `renewed to expire at ${renewed.expiresAt}, by now past`);
      await holder.release();
    });

    it('whose holder died an hour ago, is waited for with a log that says what the wait is: a lease unrenewed by the waiter\'s clock, not "until" a time on the holder\'s clock, long past', async () => {
      const store = await kind.create();
      const dead: LeaseRecord = { owner: 'dead', epoch: 1, acquiredAt: new Date(Date.now() - HOUR_MS - leaseMs).toISOString(), expiresAt: new Date(Date.now() - HOUR_MS).toISOString(), leaseMs };
      await store.put('trainer-lease/000000000001.json', new TextEncoder().encode(JSON.stringify(dead)));
      const waits: object[] = [];
      const log = { ...silentLogger, info: (fields: object, message?: string) => void (message?.endsWith('waiting for it') && waits.push(fields)) };
      await (await acquireLease(store, { ...options('next'), log }))!.release();
      assert.deepEqual(waits, [{ holder: 'dead', expiresAt: dead.expiresAt, takenOverUnrenewedForMs: leaseMs }]);
    });

    it('let go by its holder, is taken at a trainer\'s first look at the store, however long its lease', async () => {
      const store = await kind.create();
      await (await acquireLease(store, options('holder')))!.release();
      let listings = 0;
      const counting: ObjectStore = { ...bound(store), list: (prefix, listOptions) => (listings++, store.list(prefix, listOptions)) };
      const next = (await acquireLease(counting, { ...options('next'), leaseMs: 60_000 }))!;
      assert.deepEqual([next.epoch, listings], [2, 1]);
      await next.release();
    });

    it('held by a holder whose wall clock steps an hour ahead, stays its own through a renewal that fails once (a passing store error): its expiry is timed on a clock no step moves', async () => {
      const store = await kind.create();
      const { store: flaky, failing, failed } = failingWhile(store, { listsToo: false });
      const holder = (await acquireLease(flaky, options('holder')))!;
      await withWallClockStepped(HOUR_MS, async () => {
        failing.now = true;
        await failed;
        failing.now = false;
        await sleep(2 * leaseMs);
        assert.equal(holder.lost.aborted, false, String((holder.lost.reason as Error | undefined)?.message));
        await holder.confirm();
      });
      await holder.release();
    });

    it('held by a holder whose wall clock steps an hour back, and whose renewals fail from then on, is lost once it has gone a lease unrenewed: the step does not stretch it', async () => {
      const store = await kind.create();
      const { store: down, failing } = failingWhile(store, { listsToo: true });
      const holder = (await acquireLease(down, options('holder')))!;
      await withWallClockStepped(-HOUR_MS, async () => {
        failing.now = true;
        for (const deadline = performance.now() + 10 * leaseMs; !holder.lost.aborted && performance.now() < deadline; ) await sleep(50);
      });
      assert.match(String((holder.lost.reason as Error | undefined)?.message), /^lost the trainer lease: it could not be renewed before it expired \(the store is unreachable\)$/);
      await holder.release();
    });
  });
}

describe('hrrr-embed trainer and the lease', () => {
  it('a second trainer on one model store waits while the first runs, and takes over once the first stops', async () => {
    const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-trainer-lease-'));
    try {
      const args = ['trainer', '--schedule', '0 0 1 1 *', '--models', join(work, 'models'), '--shards', join(work, 'shards'), '--data', join(work, 'data')];
      /** Starts a trainer; `saw(pattern)` resolves once its log has printed the pattern. */
      const start = () => {
        let stderr = '';
        let child: ChildProcess | undefined;
        const done: Promise<CommandResult> = runCommandProcess(args, { onStderr: (text, process_) => ((stderr = text), (child = process_)) });
        const saw = async (pattern: RegExp) => {
          for (const deadline = Date.now() + 60_000; !pattern.test(stderr); await sleep(100)) if (Date.now() > deadline) throw new Error(`no ${pattern} within 60 s:\n${stderr}`);
        };
        return { done, saw, stop: () => child!.kill('SIGTERM'), log: () => stderr };
      };
      const first = start();
      await first.saw(/holding the trainer lease/);
      const second = start();
      await second.saw(/another trainer holds the lease of this model store: waiting for it/);
      assert.doesNotMatch(second.log(), /holding the trainer lease/);
      first.stop();
      assert.equal((await first.done).status, 0);
      await second.saw(/holding the trainer lease/);
      second.stop();
      assert.equal((await second.done).status, 0);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
