import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { withFileLock } from '../../store/folder-lock.js';

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
