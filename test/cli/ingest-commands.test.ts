import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { FolderStore } from '../../store/folder.js';
import { analysisOfHour, seedAnalyses } from '../support/analyses.js';
import { S3Server, testCredentials } from '../../infra/s3-server.js';
import { repoRoot } from '../paths.js';
import { runCommandProcess } from '../support/cli-process.js';

let server: S3Server;
let work: string;
before(async () => {
  server = await S3Server.start();
  await seedAnalyses(await server.store('hrrr'), [0, 1, 3]);
  work = await mkdtemp(join(tmpdir(), 'hrrr-embed-cli-'));
});
after(async () => {
  await server.stop();
  await rm(work, { recursive: true, force: true });
});

/** Runs the CLI with the moto server as the S3 endpoint. */
function cli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(repoRoot, 'dist', 'cli', 'main.js'), ...args], {
      env: { ...process.env, AWS_ENDPOINT_URL: server.endpoint, AWS_ACCESS_KEY_ID: testCredentials.accessKeyId, AWS_SECRET_ACCESS_KEY: testCredentials.secretAccessKey, AWS_REGION: 'us-east-1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const lines = (stdout: string) => stdout.trim().split('\n').map((line) => JSON.parse(line));

describe('hrrr-embed fetch', () => {
  it('writes the REFC message of the hour exactly as stored in the bucket', async () => {
    const out = join(work, 'refc.grib2');
    const result = await cli('fetch', '--time', '2019-09-20T01Z', '--source', 's3://hrrr', '--out', out);
    assert.equal(result.status, 0, result.stderr);
    const refcLength = Number(analysisOfHour(1).idx.split('\n')[1]!.split(':')[1]);
    assert.deepEqual(new Uint8Array(await readFile(out)), analysisOfHour(1).grib2.subarray(0, refcLength));
    assert.deepEqual(lines(result.stdout)[0].ranges, [{ start: 0, end: refcLength - 1 }]);
  });

  it('writes only the chosen field\'s message of an object that has no .idx, read whole', async () => {
    const source = join(work, 'no-idx-source');
    await new FolderStore(source).put(analysisOfHour(1).key, analysisOfHour(1).grib2);
    const out = join(work, 'no-idx-refc.grib2');
    const result = await cli('fetch', '--time', '2019-09-20T01Z', '--source', source, '--out', out);
    assert.equal(result.status, 0, result.stderr);
    const refcLength = Number(analysisOfHour(1).idx.split('\n')[1]!.split(':')[1]);
    assert.ok(refcLength < analysisOfHour(1).grib2.length, 'the object holds more than REFC');
    assert.deepEqual(new Uint8Array(await readFile(out)), analysisOfHour(1).grib2.subarray(0, refcLength));
    assert.deepEqual(lines(result.stdout)[0].ranges, [{ start: 0, end: refcLength - 1 }]);
    const none = await cli('fetch', '--time', '2019-09-20T01Z', '--source', source, '--out', join(work, 'none.grib2'), '--field', 'UGRD');
    assert.equal(none.status, 1, none.stderr);
    assert.match(none.stderr, /no-idx-source\/hrrr\.20190920\/conus\/hrrr\.t01z\.wrfsfcf00\.grib2: no field of its messages matches/);
  });

  it('writes the chosen field of an object with no .idx whose other message it cannot read, as backfill and an .idx allow', async () => {
    // The TMP message's product template (section 4, octets 8-9) changed to 4.32, which the decoder does not read.
    const { key, grib2, idx } = analysisOfHour(1);
    const refcLength = Number(idx.split('\n')[1]!.split(':')[1]);
    const object = Uint8Array.from(grib2);
    const view = new DataView(object.buffer);
    let at = refcLength + 16;
    while (object[at + 4] !== 4) at += view.getUint32(at);
    view.setUint16(at + 7, 32);
    const source = join(work, 'no-idx-unreadable-tmp');
    await new FolderStore(source).put(key, object);
    const out = join(work, 'no-idx-unreadable-tmp.grib2');
    const result = await cli('fetch', '--time', '2019-09-20T01Z', '--source', source, '--out', out);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(new Uint8Array(await readFile(out)), grib2.subarray(0, refcLength));
    assert.match(result.stderr, /"message":2,.*template 4\.32.*"msg":"message skipped: it cannot be read/);
  });

  it('fails with exit 1 naming the hour and the store when the analysis is not there', async () => {
    const result = await cli('fetch', '--time', '2019-09-20T02Z', '--source', 's3://hrrr', '--out', join(work, 'none.grib2'));
    assert.equal(result.status, 1);
    assert.match(result.stderr, /no complete wrfsfcf00 analysis for 2019-09-20T02Z in s3:\/\/hrrr/);
  });

  it('refuses a wrong command line with exit 2 naming the option', async () => {
    for (const [args, message] of [
      [['--time', '2019-09-20T05:30Z', '--out', 'x'], /--time: "2019-09-20T05:30Z" is not an hour/],
      [['--time', '2019-09-20T05Z'], /--out is required/],
      [['--time', '2019-09-20T05Z', '--out', 'x', '--field', 'REFC', '--match', 'x'], /--match and --field/],
      [['--time', '2019-09-20T05Z', '--out', 'x', '--source', 'ftp://x'], /--source: store location "ftp:\/\/x"/],
      [['--time', '2019-09-20T05Z', '--out', 'x', '--source', 's3://hrrr', '--endpoint', '127.0.0.1:9000'], /: --endpoint: "127.0.0.1:9000" is not an http:\/\/ or https:\/\/ URL/],
    ] as const) {
      const result = await cli('fetch', ...args);
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, message);
    }
  });
});

describe('an endpoint that is not an http(s) URL', () => {
  // run named the source's origin instead: "default: endpoint ..." with --source left to its default.
  it('is refused naming the setting that gave it, not the source it was meant for', async () => {
    for (const [args, env, message] of [
      [['run', '--endpoint', 'ftp://x'], {}, /^hrrr-embed run: --endpoint: "ftp:\/\/x" is not an http:\/\/ or https:\/\/ URL$/m],
      [['run', '--source', 's3://hrrr', '--endpoint', 'ftp://x'], {}, /^hrrr-embed run: --endpoint: "ftp:\/\/x" is not an http:\/\/ or https:\/\/ URL$/m],
      [['run'], { HRRR_EMBED_ENDPOINT: 'ftp://x' }, /^hrrr-embed run: HRRR_EMBED_ENDPOINT: "ftp:\/\/x" is not an http:\/\/ or https:\/\/ URL$/m],
      [['retrain', '--models', 's3://models', '--shards', 's3://shards', '--endpoint', 'ftp://x'], {}, /^hrrr-embed retrain: --endpoint: "ftp:\/\/x" is not an http:\/\/ or https:\/\/ URL$/m],
      [['run'], { AWS_ENDPOINT_URL: 'ftp://y' }, /^hrrr-embed run: --source: AWS_ENDPOINT_URL "ftp:\/\/y" is not an http:\/\/ or https:\/\/ URL$/m],
    ] as const) {
      const result = await runCommandProcess([...args, '--data', join(work, 'endpoint-data')], { env });
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, message);
    }
  });
});

describe('a --source folder that does not exist', () => {
  // Read as an empty mirror, it made every hour a gap recorded as done: the corrected source then skipped them all.
  it('is refused by fetch, backfill and run with exit 2 naming the option and the folder, before any progress is written', async () => {
    const missing = join(work, 'no-such-mirror');
    const hours = ['--from', '2019-09-20T00Z', '--to', '2019-09-20T01Z'];
    for (const args of [
      ['fetch', '--time', '2019-09-20T00Z', '--source', missing, '--out', join(work, 'never.grib2')],
      ['backfill', '--source', missing, ...hours, '--out', join(work, 'missing-out'), '--quiet'],
      ['run', '--source', `${missing},s3://hrrr`, ...hours, '--once', '--data', join(work, 'missing-run'), '--shards', 'off'],
    ]) {
      const result = await cli(...args);
      assert.equal(result.status, 2, `${args[0]}: ${result.stderr}`);
      assert.match(result.stderr, new RegExp(`--source: the folder ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} does not exist`), args[0]);
      assert.equal(result.stdout, '', args[0]);
    }
    await assert.rejects(readFile(join(work, 'missing-out', 'progress', 'backfill.json')), { code: 'ENOENT' });
    await assert.rejects(readFile(join(work, 'missing-run', 'progress', 'run.json')), { code: 'ENOENT' });
  });

  it('nor is a file in its place: backfill refuses it (as a path or a file URL) naming it, where it recorded every hour a gap', async () => {
    const file = join(work, 'mirror-is-a-file');
    await writeFile(file, 'not a folder');
    for (const source of [file, pathToFileURL(file).href]) {
      const result = await cli('backfill', '--source', source, '--from', '2019-09-20T00Z', '--to', '2019-09-20T01Z', '--out', join(work, 'file-out'), '--quiet');
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, new RegExp(`--source: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is a file, not a folder`), source);
    }
    await assert.rejects(readFile(join(work, 'file-out', 'progress', 'backfill.json')), { code: 'ENOENT' });
  });

  it('nor is a path that goes through a file: backfill refuses it as a folder that does not exist, exit 2, not a bare ENOTDIR', async () => {
    const file = join(work, 'mirror-archive');
    await writeFile(file, 'not a folder');
    const under = join(file, 'hrrr');
    const result = await cli('backfill', '--source', under, '--from', '2019-09-20T00Z', '--to', '2019-09-20T01Z', '--out', join(work, 'under-file-out'), '--quiet');
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, new RegExp(`--source: the folder ${under.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} does not exist`));
  });
});

describe('hrrr-embed backfill', () => {
  it('mirrors the REFC messages of a range, reports the missing hour as a gap, and a second run skips what is done', async () => {
    const mirror = join(work, 'mirror');
    const first = await cli('backfill', '--source', 's3://hrrr', '--from', '2019-09-20T00Z', '--to', '2019-09-20T03Z', '--out', mirror, '--concurrency', '2');
    assert.equal(first.status, 0, first.stderr);
    const records = lines(first.stdout);
    assert.deepEqual(records.filter((r) => r.status).map((r) => `${r.hour} ${r.status}`).sort(), ['2019-09-20T00Z done', '2019-09-20T01Z done', '2019-09-20T02Z gap', '2019-09-20T03Z done']);
    assert.deepEqual(records.at(-1).summary, { hours: 4, done: 3, gaps: 1, deadLetters: 0, failed: 0, bytesFetched: records.filter((r) => r.bytes).reduce((sum, r) => sum + r.bytes, 0), doneThrough: '2019-09-20T03:00:00.000Z' });
    // Piped, as in a container or a CI job: the log's JSON lines alone, progress among them.
    const logged = first.stderr.trim().split('\n').map((line) => {
      assert.doesNotThrow(() => JSON.parse(line), `a JSON line: ${line}`);
      return JSON.parse(line) as { msg: string; handled?: number; hours?: number };
    });
    const progress = logged.filter((line) => line.msg === 'backfill progress').at(-1);
    assert.deepEqual(progress && { handled: progress.handled, hours: progress.hours }, { handled: 4, hours: 4 });

    const store = new FolderStore(mirror);
    const refcLength = Number(analysisOfHour(3).idx.split('\n')[1]!.split(':')[1]);
    assert.deepEqual(await store.get(analysisOfHour(3).key), analysisOfHour(3).grib2.subarray(0, refcLength));
    assert.equal(new TextDecoder().decode(await store.get(`${analysisOfHour(3).key}.idx`)), '1:0:d=2019092003:REFC:entire atmosphere:anl:\n');

    const second = await cli('backfill', '--source', 's3://hrrr', '--from', '2019-09-20T00Z', '--to', '2019-09-20T03Z', '--out', mirror, '--quiet');
    assert.equal(second.status, 0, second.stderr);
    assert.deepEqual(lines(second.stdout), [{ summary: { hours: 4, done: 0, gaps: 0, deadLetters: 0, failed: 0, bytesFetched: 0, doneThrough: '2019-09-20T03:00:00.000Z' } }]);
  });

  it('exits 1 when an analysis was rejected, after processing the others', async () => {
    const source = join(work, 'corrupt-source');
    const store = new FolderStore(source);
    await seedAnalyses(store, [0, 1]);
    await store.put(analysisOfHour(0).key, analysisOfHour(0).grib2.subarray(0, 5000));
    const result = await cli('backfill', '--source', source, '--from', '2019-09-20T00Z', '--to', '2019-09-20T01Z', '--out', join(work, 'corrupt-out'), '--quiet');
    assert.equal(result.status, 1);
    assert.deepEqual(lines(result.stdout).filter((r) => r.status).map((r) => `${r.hour} ${r.status}`).sort(), ['2019-09-20T00Z dead-letter', '2019-09-20T01Z done']);
    assert.match(result.stderr, /0 analyses failed and 1 were rejected/);
  });
});
