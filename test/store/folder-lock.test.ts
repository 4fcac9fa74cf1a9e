import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { withFileLock } from '../../store/folder-lock.js';
import { repoRoot } from '../paths.js';

const folders: string[] = [];
after(() => Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true }))));

/** The name of a waiter's token file (PATH.partial-PID-TOKEN) once it is in `folder`, other than those in `seen`. */
async function waiterFile(folder: string, seen: string[] = []): Promise<string> {
  for (let tries = 0; tries < 2000; tries++) {
    const name = (await readdir(folder)).find((name) => /\.partial-\d+-[0-9a-f]+$/.test(name) && !seen.includes(name));
    if (name) return name;
    await sleep(5);
  }
  throw new Error('no waiter seen');
}

describe('a folder store lock taken by a waiter that waited past the abandoned age', () => {
  it('is not broken by the next waiter while it is held', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'hrrr-embed-folder-lock-'));
    folders.push(folder);
    const path = join(folder, 'promoted.json');
    const lock = `${path}.partial-lock`;
    // A holder killed holding the lock, which the first waiter waits for, then breaks.
    await writeFile(lock, 'killed-holder');

    let inside = 0;
    let bothInside = false;
    let letFirstGo!: () => void;
    const firstMayGo = new Promise<void>((resolve) => (letFirstGo = resolve));
    let firstIn!: () => void;
    const firstIsIn = new Promise<void>((resolve) => (firstIn = resolve));
    const work = async (hold?: Promise<void>) => {
      inside++;
      if (inside > 1) bothInside = true;
      firstIn();
      await hold;
      inside--;
    };

    const first = withFileLock(path, () => work(firstMayGo));
    const firstWaiter = await waiterFile(folder);
    // As if the first waiter had waited out the killed holder's lock: its own token file is that old too.
    const longAgo = new Date(Date.now() - 60_000);
    await utimes(join(folder, firstWaiter), longAgo, longAgo);
    await utimes(lock, longAgo, longAgo);
    await firstIsIn;

    const second = withFileLock(path, () => work());
    await waiterFile(folder, [firstWaiter]);
    // Time for the second waiter to look at the lock a few times.
    await sleep(300);
    assert.equal(bothInside, false, 'the second waiter broke the lock the first one held');
    letFirstGo();
    await Promise.all([first, second]);
    assert.equal(bothInside, false);
  });
});

/** A process of a host whose clock is `offsetMs` off the file system's, that takes the lock of `path` and holds it until stopped. */
/** Whether a waiter in this process takes the lock at `path` within `withinMs` (it gives up then). */
async function takenWithin(path: string, withinMs: number): Promise<boolean> {
  let took = false;
  await withFileLock(path, async () => {
    took = true;
  }, AbortSignal.timeout(withinMs)).catch(() => {});
  return took;
}

function lockerWithClockOff(path: string, offsetMs: number): { held: Promise<boolean>; stop: () => Promise<void> } {
  const child = spawn(process.execPath, [join(repoRoot, 'dist', 'test', 'store', 'lock-child.js'), path, String(offsetMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ended = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const held = new Promise<boolean>((resolve) => {
    child.stdout.on('data', (data: Buffer) => data.toString().includes('held') && resolve(true));
    void ended.then(() => resolve(false));
  });
  return {
    held,
    stop: async () => {
      child.kill('SIGKILL');
      await ended;
    },
  };
}

describe('a folder store lock shared by hosts whose clocks are a minute off the file server\'s (NFS)', () => {
  it('is not broken while held by a waiter whose clock is a minute ahead', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'hrrr-embed-folder-lock-clock-'));
    folders.push(folder);
    const path = join(folder, 'promoted.json');
    let letGo!: () => void;
    const mayGo = new Promise<void>((resolve) => (letGo = resolve));
    let inside!: () => void;
    const isInside = new Promise<void>((resolve) => (inside = resolve));
    const holding = withFileLock(path, async () => {
      inside();
      await mayGo;
    });
    await isInside;

    const waiter = lockerWithClockOff(path, 60_000);
    try {
      // Once it waits (or has broken the lock), time for it to look at the lock a few times.
      await Promise.race([waiterFile(folder), waiter.held]);
      const tookIt = await Promise.race([waiter.held, sleep(500).then(() => false)]);
      assert.equal(tookIt, false, 'the waiter, its clock a minute ahead, broke the lock while it was held');
      letGo();
      await holding;
      assert.equal(await waiter.held, true, 'the waiter did not take the lock once it was let go');
    } finally {
      letGo();
      await waiter.stop();
    }
  });

  it('is not broken while held by a holder whose clock is a minute behind', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'hrrr-embed-folder-lock-clock-'));
    folders.push(folder);
    const path = join(folder, 'promoted.json');
    const holder = lockerWithClockOff(path, -60_000);
    try {
      assert.equal(await holder.held, true);
      assert.equal(await takenWithin(path, 500), false, 'the lock of a holder whose clock is a minute behind was broken while it was held');
    } finally {
      await holder.stop();
    }
  });
});

describe('a killed holder\'s lock that another waiter breaks and takes while this waiter looks at it', () => {
  it('is not broken by this waiter: the age and the holder it judges are of one lock', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'hrrr-embed-folder-lock-swap-'));
    folders.push(folder);
    const path = join(folder, 'promoted.json');
    const lock = `${path}.partial-lock`;
    await writeFile(lock, 'killed-holder');
    const longAgo = new Date(Date.now() - 60_000);
    await utimes(lock, longAgo, longAgo);

    // Right after this waiter's first look at the lock (its age or its holder), another waiter breaks it and takes it.
    const real = { stat: fs.stat, open: fs.open };
    let swapped = false;
    const swapAfter = <A extends unknown[], R>(call: (...args: A) => Promise<R>) => async (...args: A): Promise<R> => {
      const result = await call(...args);
      if (!swapped && args[0] === lock) {
        swapped = true;
        await rm(lock);
        await writeFile(lock, 'taken-since');
      }
      return result;
    };
    fs.stat = swapAfter(real.stat) as typeof fs.stat;
    fs.open = swapAfter(real.open) as typeof fs.open;
    syncBuiltinESMExports();
    try {
      const tookIt = await takenWithin(path, 300);
      assert.ok(swapped, 'the waiter never looked at the lock');
      assert.equal(tookIt, false, 'the waiter broke the lock taken since, judging it by the killed holder\'s age');
      assert.equal(await readFile(lock, 'utf8'), 'taken-since');
    } finally {
      Object.assign(fs, real);
      syncBuiltinESMExports();
    }
  });
});

describe('a lock whose link succeeded but answered EEXIST (NFS: the reply lost, the retransmitted link finds the name taken)', () => {
  it('is known by the waiter as its own and taken, not kept young by its rewrites for ever', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'hrrr-embed-folder-lock-lost-reply-'));
    folders.push(folder);
    const path = join(folder, 'promoted.json');
    const lock = `${path}.partial-lock`;

    const real = { link: fs.link };
    let lostReplies = 0;
    fs.link = (async (existing: string, made: string) => {
      await real.link(existing, made);
      if (made === lock && lostReplies++ === 0) throw Object.assign(new Error(`EEXIST: file already exists, link '${existing}' -> '${made}'`), { code: 'EEXIST' });
    }) as typeof fs.link;
    syncBuiltinESMExports();
    try {
      // Far less than the 30 s after which a lock is old enough to break: a waiter that knows its own lock needs none of it.
      const tookIt = await takenWithin(path, 2000);
      assert.equal(lostReplies > 0, true, 'the waiter never linked the lock');
      assert.equal(tookIt, true, 'the waiter, its link answered EEXIST, kept rewriting its own lock (so never old) and never entered');
      assert.deepEqual((await readdir(folder)).filter((name) => name.includes('.partial-')), [], 'the lock or the token file was left behind');
    } finally {
      Object.assign(fs, real);
      syncBuiltinESMExports();
    }
  });
});
