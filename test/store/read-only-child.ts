/**
 * Each writer that makes its folders, tried under FOLDER, which the test has made read-only (a
 * bind mount in a mount namespace of its own): node read-only-child.js FOLDER. Prints what each
 * failed with.
 */
import { join } from 'node:path';
import { FileBus } from '../../bus/files/file-bus.js';
import { writeOutputFile } from '../../cli/files.js';
import { FolderStore } from '../../store/folder.js';

const folder = process.argv[2]!;
const attempts: Record<string, () => Promise<unknown>> = {
  'a folder store': () => new FolderStore(join(folder, 'state')).put('progress/run.json', new Uint8Array(1)),
  'the embedded bus': () => new FileBus(join(folder, 'data')).createTopic('embeddings'),
  'an output file': () => writeOutputFile(join(folder, 'out', 'field.raw'), new Uint8Array(1)),
};
const failures: Record<string, string> = {};
for (const [name, attempt] of Object.entries(attempts)) {
  failures[name] = await attempt().then(
    () => 'written',
    (error: Error) => error.message,
  );
}
process.stdout.write(`${JSON.stringify(failures)}\n`);
