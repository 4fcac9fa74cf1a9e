/**
 * Takes the lock of a folder store's object, says so on stdout and holds it until killed, for the
 * test that SIGKILLs a process inside its compare-and-swap, and those of hosts whose clocks are
 * off: node lock-child.js FILE [CLOCK_OFFSET_MS].
 */
import { withFileLock } from '../../store/folder-lock.js';
import { skewClock } from '../support/skewed-clock.js';

skewClock(Number(process.argv[3] ?? 0));
await withFileLock(process.argv[2]!, async () => {
  process.stdout.write('held\n');
  await new Promise(() => setInterval(() => {}, 60_000));
});
