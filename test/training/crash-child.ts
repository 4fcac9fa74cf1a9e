/**
 * A retraining run of the small model in a process of its own, killed at a chosen write:
 * node crash-child.js STORE RUN_ID [KILL_AFTER]. STORE is a folder or s3://BUCKET; the run's
 * writes to it are printed as they are made (see killing-store.ts), and the process SIGKILLs itself
 * right after the first write KILL_AFTER (a regular expression) matches; promotions announced and the result are printed too.
 */
import { selectBackend } from '../../model/backends.js';
import { silentLogger } from '../../stages/stage.js';
import { openStore } from '../../store/open.js';
import { retrain } from '../../training/retrain.js';
import { killingStore } from '../support/killing-store.js';
import { smallFresh, smallRun } from './fixtures.js';
import { smallShards } from './memory-shards.js';

const [location, runId, killAfter] = process.argv.slice(2);
await selectBackend('cpu', 'training', silentLogger);
const print = (value: object) => process.stdout.write(`${JSON.stringify(value)}\n`);
const models = killingStore(openStore(location!), killAfter === undefined ? undefined : new RegExp(killAfter), print);
const result = await retrain(
  smallRun(models, smallShards(4, 4), {
    runId: runId!,
    fresh: smallFresh(),
    steps: 4,
    stepsPerCheckpoint: 2,
    announce: async (version) => void print({ announced: version.version }),
  }),
);
print({ result });
