/**
 * A retraining run of the small model on the fixture shards in a process of its own, for the test
 * that kills it: node retrain-child.js MODELS_FOLDER RUN_ID. Prints one JSON line per step and
 * per checkpoint, then the result.
 */
import { selectBackend } from '../../model/backends.js';
import { silentLogger } from '../../stages/stage.js';
import { FolderStore } from '../../store/folder.js';
import { retrain } from '../../training/retrain.js';
import { smallFresh, smallRun } from './fixtures.js';
import { smallShards } from './memory-shards.js';

const [folder, runId] = process.argv.slice(2);
await selectBackend('cpu', 'training', silentLogger);
const print = (value: object) => process.stdout.write(`${JSON.stringify(value)}\n`);
const result = await retrain(
  smallRun(new FolderStore(folder!), smallShards(8, 6), {
    runId: runId!,
    fresh: smallFresh(),
    onProgress: ({ step, loss }) => print({ step, loss }),
    onCheckpoint: (checkpoint) => print({ checkpoint }),
  }),
);
print({ result });
