/**
 * Preloaded into a command's process by a test (NODE_OPTIONS=--import=...): SIGUSR2 makes a
 * promise rejection that nothing handles, as a bug in a callback would.
 */
import { isMainThread } from 'node:worker_threads';

if (isMainThread) process.on('SIGUSR2', () => void Promise.reject(new Error('a rejection nobody handles')));
