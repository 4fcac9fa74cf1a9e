import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { AvroCodec } from '../../bus/avro/codec.js';
import { FileBus } from '../../bus/files/file-bus.js';
import { testCredentials } from '../../infra/s3-server.js';
import { CONSUMER_PROGRESS_KEY } from '../../pipelines/consume.js';
import { Progress } from '../../pipelines/progress.js';
import { openShardCatalog } from '../../shards/catalog.js';
import { FolderStore } from '../../store/folder.js';
import { hour, putAnalysis, smallAnalysisOfHour } from '../support/analyses.js';
import { storeKinds } from '../support/stores.js';
import { repoRoot } from '../paths.js';

const setup = await storeKinds();
const folders: string[] = [];
after(async () => {
  await setup.stop();
  await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
});
const s3Env = { AWS_ENDPOINT_URL: setup.server.endpoint, AWS_ACCESS_KEY_ID: testCredentials.accessKeyId, AWS_SECRET_ACCESS_KEY: testCredentials.secretAccessKey, AWS_REGION: 'us-east-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
const child = join(repoRoot, 'dist', 'test', 'pipelines', 'consumer-crash-child.js');
const FIELD = 'REFC:entire atmosphere:anl';
const HOURS = ['00', '01', '02', '03', '04'];

/** Runs consumer-crash-child.js over hours 0 to 4; killed right after the first state-store write `killAfter` matches, if given. */
async function runChild(folder: string, state: string, killAfter?: string): Promise<boolean> {
  try {
    await promisify(execFile)(process.execPath, [child, folder, state, ...(killAfter ? [killAfter] : [])], { env: { ...process.env, ...s3Env } });
    return false;
  } catch (error) {
    const { signal, stderr } = error as { signal?: string; stderr: string };
    assert.equal(signal, 'SIGKILL', stderr);
    return true;
  }
}

/** The hours (UTC, "03") of the records on a topic of the file bus, as often as they are there. */
async function hoursOn(folder: string, topic: 'embeddings' | 'alerts'): Promise<string[]> {
  const bus = new FileBus(join(folder, 'bus'));
  const codec = await AvroCodec.create();
  const consumer = bus.consumer({ group: 'check', topics: [codec.topics[topic]], fromBeginning: true });
  const stop = AbortSignal.timeout(500);
  const hours = [];
  for await (const record of consumer.records(stop)) hours.push(((await codec.decode(record)).value as { validTime: Date }).validTime.toISOString().slice(11, 13));
  await bus.close();
  return hours.sort();
}

/** Where the consumer is killed: right after the first write to its state store that the expression matches. */
const crashPoints = [
  { when: "keeping a row pending, before its analysis is marked done", killAfter: '^put shards/\\.pending/.*/20190920T0100Z' },
  { when: "writing a shard: its data object written, not its manifest", killAfter: '^put shards/REFC[^/]*/2019/09/part-[^/]*\\.arrow$' },
  { when: "writing a shard: its manifest written, its pending rows not removed", killAfter: '\\.manifest\\.json$' },
  { when: 'storing an alert picture, before the alert is published', killAfter: '^put alerts/' },
  { when: 'recording progress', killAfter: '^put progress/run\\.json$' },
];

for (const kind of setup.kinds) {
  describe(`the polling consumer killed with SIGKILL and started again: ${kind.name}`, () => {
    for (const { when, killAfter } of crashPoints) {
      it(`killed while ${when}: every analysis published and kept in shards at least once, progress through the last, no pending row left`, async () => {
        const folder = await mkdtemp(join(tmpdir(), 'hrrr-embed-consumer-crash-'));
        folders.push(folder);
        const source = new FolderStore(join(folder, 'source'));
        for (const n of [0, 1, 2, 4]) await putAnalysis(source, smallAnalysisOfHour(n));
        await putAnalysis(source, smallAnalysisOfHour(3, true));
        const store = await kind.create();
        const state = store.url.startsWith('file://') ? decodeURIComponent(new URL(store.url).pathname) : store.url;

        assert.ok(await runChild(folder, state, killAfter), 'the consumer was not killed');
        assert.equal(await runChild(folder, state), false);

        assert.deepEqual([...new Set(await hoursOn(folder, 'embeddings'))], HOURS);
        assert.deepEqual([...new Set(await hoursOn(folder, 'alerts'))], ['03']);
        assert.equal((await Progress.load(store, CONSUMER_PROGRESS_KEY)).doneThrough?.getTime(), hour(4).getTime());
        const catalog = openShardCatalog(store);
        const rows: string[] = [];
        for (const manifest of await catalog.list({ field: FIELD })) for await (const row of catalog.read(manifest)) rows.push(row.validTime.toISOString().slice(11, 13));
        assert.deepEqual([...new Set(rows.sort())], HOURS);
        for await (const { key } of store.list('shards/.pending/')) assert.fail(`pending row left: ${key}`);
      });
    }
  });
}
