import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { FallbackStore } from '../../store/fallback.js';
import { openStore } from '../../store/open.js';
import { parseS3Location } from '../../store/s3-location.js';
import { repoRoot } from '../paths.js';

describe('store locations', () => {
  it('refuses a file URL that names a host (file://data/hrrr is the folder /hrrr on host "data"), rather than read another folder than meant', () => {
    for (const location of ['file://data/hrrr', 'file://./mirror']) {
      assert.throws(() => openStore(location), (error: unknown) => error instanceof Error && error.message.includes(JSON.stringify(location)) && /file:\/\/\/PATH/.test(error.message));
    }
  });

  it('takes file:///PATH and file://localhost/PATH as the folder PATH', () => {
    assert.equal(openStore('file:///data/hrrr').url, 'file:///data/hrrr');
    assert.equal(openStore('file://localhost/data/hrrr').url, 'file:///data/hrrr');
  });

  it("refuses a file URL that a raw '#' or '?' cuts short (file:///data/run#2 is the folder /data/run), rather than read and write another folder than meant", () => {
    for (const location of ['file:///data/run#2', 'file:///data/what?/x', 'file:///data/run#']) {
      assert.throws(() => openStore(location), (error: unknown) => error instanceof Error && error.message.includes(JSON.stringify(location)) && /%23/.test(error.message), location);
    }
  });

  it("names the location and what is wrong when a raw '%' in a file URL is no escape (file:///data/100%), not 'URI malformed'", () => {
    assert.throws(() => openStore('file:///data/100%'), (error: unknown) => error instanceof Error && error.message.includes('"file:///data/100%"') && /%25/.test(error.message));
  });

  it('refuses an S3 endpoint that is no http(s) URL without repeating a user and password written into it', () => {
    for (const endpoint of ['minio://ak:S3cretKey@minio:9000', 'minio:9000@ak:S3cret/Key@minio']) {
      assert.throws(() => openStore('s3://state', { endpoint }), (error: unknown) => error instanceof Error && /is not an http:\/\/ or https:\/\/ URL/.test(error.message) && !/S3cret|ak:/.test(error.message), endpoint);
    }
  });

  it('names the endpoint, not only "Invalid URL", when an --endpoint or AWS_ENDPOINT_URL that begins http:// is no URL', () => {
    const saved = { ...process.env };
    try {
      delete process.env.AWS_ENDPOINT_URL_S3;
      assert.throws(() => openStore('s3://state', { endpoint: 'http://minio host:9000' }), /^Error: endpoint "http:\/\/minio host:9000" is not an http:\/\/ or https:\/\/ URL$/);
      process.env.AWS_ENDPOINT_URL = 'http://[minio:9000';
      assert.throws(() => openStore('s3://state'), /^Error: AWS_ENDPOINT_URL "http:\/\/\[minio:9000" is not an http:\/\/ or https:\/\/ URL$/);
    } finally {
      process.env = saved;
    }
  });

  it('says to set HOME when an s3:// location is opened with no HOME by a uid the system does not know (env -i, an arbitrary uid), where the AWS SDK fails in os.homedir()', { skip: process.getuid?.() === 0 ? false : 'needs root, to run a process as a uid with no passwd entry' }, () => {
    const open = pathToFileURL(join(repoRoot, 'dist', 'store', 'open.js')).href;
    const script = `const { openStore } = await import(${JSON.stringify(open)}); console.log(openStore('s3://hrrr-embed-state', { endpoint: 'http://127.0.0.1:9' }).url);`;
    const asUnknownUser = (env: NodeJS.ProcessEnv) => spawnSync(process.execPath, ['--input-type=module', '-e', script], { uid: 54321, gid: 54321, env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
    const homeless = asUnknownUser({});
    assert.notEqual(homeless.status, 0);
    assert.match(homeless.stderr, /s3:\/\/hrrr-embed-state: .*HOME is not set.*set HOME \(HOME=\/ will do\)/);
    const withHome = asUnknownUser({ HOME: '/' });
    assert.equal(withHome.status, 0, withHome.stderr);
    assert.equal(withHome.stdout.trim(), 's3://hrrr-embed-state');
  });

  it('a command without a home folder for the AWS SDK fails with exit status 1 and the remedy, not as a wrong command line (exit 2) buried above the usage text', () => {
    const main = join(repoRoot, 'dist', 'cli', 'main.js');
    const homeless = spawnSync(process.execPath, [main, 'model', 'list', '--models', 's3://hrrr-embed-state', '--endpoint', 'http://127.0.0.1:9'], { uid: 54321, gid: 54321, env: { PATH: process.env.PATH }, encoding: 'utf8' });
    assert.equal(homeless.status, 1, homeless.stderr);
    assert.match(homeless.stderr, /^hrrr-embed model: --models: s3:\/\/hrrr-embed-state: .*HOME is not set.*set HOME/);
    assert.doesNotMatch(homeless.stderr, /usage:/);
  });

  it('reopens a folder store from its URL, as reconstruct does from a record\'s modelId, when the folder\'s path holds a comma (which separates locations)', () => {
    const store = openStore('file:///data/Smith%2C%20J/models');
    assert.equal(store.url, openStore(store.url).url);
    assert.ok(!(openStore(store.url) instanceof FallbackStore), 'one store, not two');
  });

  it('refuses the path of a folder that exists and holds a comma, rather than split it into two stores (writing to the part before the comma), and names the URL that opens it', () => {
    const folder = mkdtempSync(join(tmpdir(), 'hrrr-embed-Smith, J-'));
    try {
      const escaped = pathToFileURL(folder).href.replaceAll(',', '%2C');
      assert.throws(() => openStore(folder), (error: unknown) => error instanceof Error && error.message.includes(JSON.stringify(folder)) && error.message.includes(escaped));
      assert.equal(openStore(escaped).url, escaped);
      assert.ok(openStore(`${folder}-none,/data/mirror`) instanceof FallbackStore, 'a comma between locations still separates them');
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it("refuses a folder's file URL whose comma is left raw (as Node's pathToFileURL writes it), when the folder exists, and names the URL that opens it", () => {
    const folder = mkdtempSync(join(tmpdir(), 'hrrr-embed-Smith, J-'));
    try {
      const raw = pathToFileURL(folder).href;
      assert.ok(raw.includes(','), raw);
      const escaped = raw.replaceAll(',', '%2C');
      assert.throws(() => openStore(raw), (error: unknown) => error instanceof Error && error.message.includes(JSON.stringify(raw)) && error.message.includes(escaped));
      assert.ok(openStore(`${raw}-none,/data/mirror`) instanceof FallbackStore, 'a comma between locations still separates them');
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('refuses a folder beginning with a ~ that no shell expanded (a settings file, an environment variable, --data=~/x), rather than make a folder named ~ in the working directory', () => {
    for (const location of ['~/hrrr/state', '~', 'file:///mirror,~/state']) {
      assert.throws(() => openStore(location), (error: unknown) => error instanceof Error && error.message.includes('"~') && /home folder's path/.test(error.message), location);
    }
    assert.doesNotThrow(() => openStore('/data/~x/state'));
  });

  it('refuses a location that is not s3://BUCKET without repeating a user and password written into settings after its ?', () => {
    const secret = 'AKIAEXAMPLE:wJalrXUtnK7MDENG';
    for (const location of [`s3://state/models?endpoint=http://${secret}@minio:9000`, `S3://state?endpoint=http://${secret}@minio:9000`, `minio://state?endpoint=http://${secret}@minio:9000`]) {
      assert.throws(
        () => openStore(location),
        (error: unknown) => error instanceof Error && /not s3:\/\/BUCKET, a folder, or file:\/\/\/PATH/.test(error.message) && !error.message.includes('wJalrXUtn') && !error.message.includes('AKIAEXAMPLE'),
        location,
      );
    }
  });

  it('refuses settings written after a folder or a file URL, saying they are for s3:// locations, rather than take them into the folder\'s name or advise escaping the ?', () => {
    for (const [location, shown] of [
      ['/mirror?signed=false', '/mirror'],
      ['./data?endpoint=http://minio:9000&region=us-east-1', './data'],
      ['file:///mirror?endpoint=http://AKIAEXAMPLE:wJalrXUtnK7MDENG@minio:9000', 'file:///mirror'],
      ['s3://state,file:///mirror?region=us-east-1', 'file:///mirror'],
    ]) {
      assert.throws(
        () => openStore(location!),
        (error: unknown) => error instanceof Error && error.message.startsWith(`store location "${shown}": settings`) && /s3:\/\/BUCKET locations alone/.test(error.message) && !error.message.includes('wJalrXUtn'),
        location,
      );
    }
    assert.doesNotThrow(() => openStore('/data/what?now'), 'a folder whose name holds a ? and no setting');
  });

  it("reads a '+' in an s3:// location's settings as a '+', as in the URL it is part of, not as a space", () => {
    assert.equal(parseS3Location('s3://state?endpoint=http://gateway:9000/s3+minio&region=us-east-1')?.endpoint, 'http://gateway:9000/s3+minio');
    assert.throws(() => openStore('s3://state?region=us+east-1'), /^Error: store location s3:\/\/state: region "us\+east-1" is no region's name/);
  });

  it('refuses credentials written into an s3:// location, without repeating them: they were taken as part of the bucket name, and every log line printed them', () => {
    for (const location of ['s3://AKIAEXAMPLE:wJalrXUtn/K7MDENG@noaa-hrrr-bdp-pds', 's3://AKIAEXAMPLE:wJalrXUtnK7MDENG@minio:9000/state', 'file:///mirror,s3://AKIAEXAMPLE:wJalrXUtnK7MDENG@state']) {
      assert.throws(
        () => openStore(location),
        (error: unknown) => error instanceof Error && !error.message.includes('wJalrXUtn') && !error.message.includes('AKIAEXAMPLE') && /AWS_ACCESS_KEY_ID/.test(error.message),
        location,
      );
    }
  });
});
