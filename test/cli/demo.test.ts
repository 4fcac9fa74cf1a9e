import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decode as decodePng } from 'fast-png';
import { AvroCodec } from '../../bus/avro/codec.js';
import { FileBus } from '../../bus/files/file-bus.js';
import type { Alert, Embedding } from '../../bus/records.js';
import { promotedVersion, readManifest } from '../../model/versions.js';
import { openShardCatalog } from '../../shards/catalog.js';
import { FolderStore } from '../../store/folder.js';
import { take } from '../bus/helpers.js';
import { repoRoot } from '../paths.js';

const main = join(repoRoot, 'dist', 'cli', 'main.js');
const hrrrEmbed = (args: string[], cwd: string) => spawnSync(process.execPath, [main, ...args], { cwd, encoding: 'utf8' });
const hours = (from: number, to: number) => Array.from({ length: to - from }, (_, n) => `2019-09-20T${String(from + n).padStart(2, '0')}Z`);

// The README's first command (npm start: a build, then this) in a clean folder, with its defaults.
const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-demo-'));
const demo = join(work, '.work', 'demo');
let run: ReturnType<typeof hrrrEmbed>;
let lines: Array<Record<string, unknown>>;
let summary: { analyses: number; embeddings: Record<string, number>; alerts: number; shards: number; swappedTo: string | null; retrained: { alertThreshold: number }; report: string };
before(() => {
  run = hrrrEmbed(['demo'], work);
  lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line));
  summary = lines.at(-1)!.summary as typeof summary;
});
after(() => rmSync(work, { recursive: true, force: true }));

describe('the demo (npm start) in a clean folder, offline', () => {
  it('embeds 12 sample analyses, trains on their shards, promotes and swaps the first version in, then embeds 2 more', () => {
    assert.equal(run.status, 0, run.stderr);
    // The first 12 in the order they were found: the consumer follows the folder while the demo writes it, so an
    // hour may be found a look after a later one. The last two come after the training, in order.
    const done = lines.filter((line) => line.status === 'done').map((line) => line.hour as string);
    assert.deepEqual([...done.slice(0, 12).sort(), ...done.slice(12)], hours(0, 14));
    assert.deepEqual(lines.filter((line) => 'training' in line).map((line) => (line.training as { step: number }).step), [6, 12, 18, 24]);
    assert.equal(summary.analyses, 14);
    assert.ok(summary.swappedTo, `a version was promoted: ${JSON.stringify(summary)}`);
    assert.deepEqual(summary.embeddings, { untrained: 12, [summary.swappedTo]: 2 });
    // The sample is real GRIB2: ecCodes reads the REFC the demo wrote (complex packing, order 2).
    const eccodes = execFileSync('grib_get', ['-w', 'shortName=refc', '-p', 'Nx,Ny,orderOfSpatialDifferencing', join(demo, 'source', 'hrrr.20190920', 'conus', 'hrrr.t05z.wrfsfcf00.grib2')], { encoding: 'utf8' });
    assert.deepEqual(eccodes.trim().split(/\s+/).map(Number), [1799, 1059, 2]);
  });

  it('left every embedding on the local topic once, the later ones by the promoted version, and an alert for the squall line', async () => {
    const bus = new FileBus(join(demo, 'data'));
    const codec = await AvroCodec.create();
    const embeddingsReader = bus.consumer({ group: 'check', topics: [codec.topics.embeddings], fromBeginning: true });
    const published = await Promise.all((await take(embeddingsReader, 14)).map(async (record) => (await codec.decode(record)).value as Embedding));
    const embeddings = published.sort((a, b) => a.validTime.getTime() - b.validTime.getTime());
    assert.deepEqual(embeddings.map((embedding) => `${embedding.validTime.toISOString().slice(0, 13)}Z`), hours(0, 14));
    assert.deepEqual(embeddings.map((embedding) => embedding.modelVersion), [...Array(12).fill('untrained'), summary.swappedTo, summary.swappedTo]);
    assert.ok(embeddings.every((embedding) => embedding.embedding.length === 50 && embedding.crop.downsample === 16));

    const alertsReader = bus.consumer({ group: 'check', topics: [codec.topics.alerts], fromBeginning: true });
    const alerts = await Promise.all((await take(alertsReader, summary.alerts)).map(async (record) => (await codec.decode(record)).value as Alert));
    const squall = alerts.find((alert) => alert.validTime.toISOString() === '2019-09-20T13:00:00.000Z');
    assert.ok(squall, 'the squall line raised an alert');
    assert.equal(squall.modelVersion, summary.swappedTo);
    assert.equal(squall.threshold, summary.retrained.alertThreshold);
    assert.ok(alerts.every((alert) => alert.modelVersion === summary.swappedTo), 'the untrained model raises none');
    const picture = new Uint8Array(await new FolderStore(join(demo, 'data')).get(squall.picture.key));
    assert.ok(decodePng(picture).width > 0);
    await Promise.all([embeddingsReader.close(), alertsReader.close()]);
    await bus.close();
  });

  it('kept every field in complete shards, and saved the promoted version with its threshold, loss curve and pictures', async () => {
    const catalog = openShardCatalog(new FolderStore(join(demo, 'data')));
    const manifests = await catalog.list({ field: 'REFC:entire atmosphere:anl' });
    assert.equal(manifests.length, summary.shards);
    const rows = [];
    for (const manifest of manifests) for await (const row of catalog.read(manifest)) rows.push(row);
    assert.deepEqual(rows.map((row) => `${row.validTime.toISOString().slice(0, 13)}Z`).sort(), hours(0, 14));
    assert.ok(rows.every((row) => row.height === 64 && row.width === 112), 'downsampled 16 times');

    const models = new FolderStore(join(demo, 'models'));
    assert.equal(await promotedVersion(models), summary.swappedTo);
    const manifest = await readManifest(models, summary.swappedTo!);
    assert.equal(manifest.alertThreshold, summary.retrained.alertThreshold);
    assert.equal(manifest.hyperparameters.downsample, 16);
    for (const attachment of ['loss.png', 'before-after.png']) assert.ok(decodePng(await models.get(`versions/${summary.swappedTo}/${attachment}`)).width > 0, attachment);
  });

  it('wrote a report with the analyses, the alert timeline, the loss curve and the similarity matrix', () => {
    const html = readFileSync(join(demo, 'report.html'), 'utf8');
    for (const section of ['Analyses: original, reconstruction, error', 'Alert timeline', 'Training loss', 'Similarity of the embeddings over time']) assert.ok(html.includes(section), section);
    const pictures = [...html.matchAll(/data:image\/png;base64,([A-Za-z0-9+/=]+)/g)].map((match) => decodePng(Buffer.from(match[1]!, 'base64')));
    assert.equal(pictures.length, 9, 'three analyses, three pictures each');
  });

  it('similar ranks the neighbouring hours of the sample first', () => {
    for (const [time, neighbours] of [['2019-09-20T05Z', ['2019-09-20T04Z', '2019-09-20T06Z']], ['2019-09-20T09Z', ['2019-09-20T08Z', '2019-09-20T10Z']]] as const) {
      const result = hrrrEmbed(['similar', '--time', time, '--data', join(demo, 'data'), '-k', '2'], work);
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual(result.stdout.trim().split('\n').map((line) => JSON.parse(line).validTime).sort(), neighbours);
    }
  });

  it('a wrong option value exits 2 naming the option', () => {
    const result = hrrrEmbed(['demo', '--hours', 'many'], work);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /--hours: many is not a whole number/);
  });
});
