import { dirname } from 'node:path';
import { makeFolder } from './make-folder.js';
import { syncFolder } from './sync-folder.js';

/** Each folder this process has made and whose entry is not yet on disk: until the folder holding it is synced. */
const beingSynced = new Map<string, Promise<void>>();

/**
 * Makes a folder (`mkdir -p`) and resolves once it is on disk: the folder holding each folder made
 * is synced. Also once any folder on its way that another call of this process made is (two puts
 * into a new day's folder at once: the one that found it there would resolve before the one that
 * made it synced it). A folder another process made is taken as on disk.
 */
export async function makeDurableFolder(folder: string): Promise<void> {
  for (const made of await makeFolder(folder)) {
    const synced = syncFolder(dirname(made));
    beingSynced.set(made, synced);
    // Awaited below by this call (`made` is on the way to `folder`), which reports its failure.
    synced.then(forget, forget);
    function forget() {
      if (beingSynced.get(made) === synced) beingSynced.delete(made);
    }
  }
  const pending: Array<Promise<void>> = [];
  for (let on = folder; dirname(on) !== on; on = dirname(on)) {
    const synced = beingSynced.get(on);
    if (synced !== undefined) pending.push(synced);
  }
  await Promise.all(pending);
}
