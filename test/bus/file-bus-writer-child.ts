/**
 * A second process writing a file bus, for the tests of its one-writer rule:
 * node file-bus-writer-child.js DATA_FOLDER TOPIC. Produces one record, prints its offset, then
 * keeps the bus open until its stdin ends, and closes it.
 */
import { FileBus } from '../../bus/files/file-bus.js';

const [folder, topic] = process.argv.slice(2);
const bus = new FileBus(folder!);
const [produced] = await bus.produce(topic!, [{ key: null, value: new TextEncoder().encode(`from ${process.pid}`) }]);
process.stdout.write(`${JSON.stringify({ offset: produced!.offset })}\n`);
process.stdin.resume();
process.stdin.on('end', () => void bus.close().then(() => process.stdout.write('closed\n')));
