/**
 * One put of a large object into a folder store, in a process of its own, for the test that kills
 * it while the object is being written: node put-child.js FOLDER KEY MEBIBYTES.
 */
import { FolderStore } from '../../store/folder.js';

const [folder, key, mebibytes] = process.argv.slice(2);
await new FolderStore(folder!).put(key!, new Uint8Array(Number(mebibytes) * 2 ** 20).fill(7));
