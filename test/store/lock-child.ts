/**
 * Takes the lock of a folder store's object, says so on stdout and holds it until killed, for the
 * test that SIGKILLs a process inside its compare-and-swap: node lock-child.js FILE.
 */
import { withFileLock } from '../../store/folder-lock.js';

await withFileLock(process.argv[2]!, async () => {
  process.stdout.write('held\n');
  await new Promise(() => setInterval(() => {}, 60_000));
});
