import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FolderStore } from '../../store/folder.js';
import { runCommandProcess } from '../support/cli-process.js';
import { runWork } from '../support/run-work.js';
import { writeJsonFile } from '../support/json-file.js';

let work: string;
before(async () => {
  work = await runWork('run-ops', 0.5);
});
after(() => rm(work, { recursive: true, force: true }));

const configFile = (name: string, settings: unknown) => writeJsonFile(work, name, settings);

describe('hrrr-embed run, operations', () => {
  it('set up from a --config file and HRRR_EMBED_* variables, serves metrics that count each outcome and each stage, the model in use, and readiness while running', async () => {
    const config = await configFile('run.json', {
      source: join(work, 'source'),
      data: join(work, 'data'),
      model: join(work, 'models'),
      device: 'cpu',
      concurrency: 1,
      pollSeconds: 0.05,
      metricsPort: 0,
    });
    let url: string | undefined;
    let scraped: { metrics: string; ready: number; alive: number } | undefined;
    const handled = new Set<string>();
    const result = await runCommandProcess(['run', '--config', config], {
      env: { HRRR_EMBED_FROM: '2019-09-20T00Z' },
      onStderr: (stderr) => (url ??= /metrics on (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(stderr)?.[1]),
      onLine: (line, child) => {
        handled.add(line);
        // Following with no end: scrape once all five hours are handled, then stop it.
        if (handled.size !== 5 || scraped) return;
        scraped = { metrics: '', ready: 0, alive: 0 };
        void (async () => {
          const target = scraped!;
          target.metrics = await (await fetch(`${url}/metrics`)).text();
          target.ready = (await fetch(`${url}/readyz`)).status;
          target.alive = (await fetch(`${url}/healthz`)).status;
          child.kill('SIGTERM');
        })();
      },
    });
    assert.equal(result.status, 0, result.stderr);
    assert.ok(url, 'the chosen port is logged');
    assert.ok(scraped, result.stderr);
    const lines = scraped.metrics.split('\n');
    const has = (line: string) => assert.ok(lines.includes(line), `${line} in\n${scraped!.metrics}`);
    has('hrrr_embed_analyses_total{outcome="done"} 4');
    has('hrrr_embed_analyses_total{outcome="dead-letter"} 1');
    for (const [stage, count] of [['fetch', 5], ['decode', 4], ['normalize', 4], ['encode', 4], ['publish', 4]] as const) has(`hrrr_embed_stage_duration_seconds_count{stage="${stage}"} ${count}`);
    has('hrrr_embed_errors_total{stage="fetch",class="InvalidObjectError"} 1');
    assert.match(scraped.metrics, /^hrrr_embed_model_info\{model_id="[^"]*models",model_version="small-1"\} 1$/m);
    assert.match(scraped.metrics, /^hrrr_embed_fetched_bytes_total [1-9]\d*$/m);
    assert.equal(scraped.ready, 200);
    assert.equal(scraped.alive, 200);
  });

  it('while it waits for the lease of the progress record another consumer holds, answers /healthz and says why it is not ready; SIGTERM then ends the wait with exit 0', { timeout: 60_000 }, async () => {
    // Held by a consumer elsewhere for ten more minutes: this one waits all through the test.
    const state = join(work, 'held-state');
    const holder = { owner: 'another host pid 1 0000', epoch: 1, acquiredAt: new Date().toISOString(), expiresAt: new Date(Date.now() + 600_000).toISOString() };
    await new FolderStore(state).put('progress/run-lease/000000000001.json', new TextEncoder().encode(JSON.stringify(holder)));
    let url: string | undefined;
    let probed: { alive: number; ready: number; readiness: string } | undefined;
    let waiting = false;
    const result = await runCommandProcess(['run', '--source', join(work, 'source'), '--data', join(work, 'held-data'), '--state', state, '--device', 'cpu', '--metrics-port', '0'], {
      onStderr: (stderr, child) => {
        url ??= /metrics on (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(stderr)?.[1];
        if (waiting || !stderr.includes('another consumer holds the lease')) return;
        waiting = true;
        void (async () => {
          // Up before the wait or never: a liveness probe meanwhile would have found no port.
          if (url !== undefined) {
            const readyz = await fetch(`${url}/readyz`);
            probed = { alive: (await fetch(`${url}/healthz`)).status, ready: readyz.status, readiness: await readyz.text() };
          }
          child.kill('SIGTERM');
        })();
      },
    });
    assert.equal(result.status, 0, result.stderr);
    assert.ok(url, `the operations server is up while it waits:\n${result.stderr}`);
    assert.deepEqual(probed, { alive: 200, ready: 503, readiness: 'not ready: waiting for the lease of progress/run.json in this state store, held by another consumer\n' });
    assert.match(result.stderr, /stopped while waiting for the lease of the progress record/);
  });

  it('exits 2 naming a bad setting and where it came from', async () => {
    const typo = await configFile('typo.json', { partitons: 2 });
    const unknown = await runCommandProcess(['run', '--config', typo]);
    assert.equal(unknown.status, 2, unknown.stderr);
    assert.ok(unknown.stderr.includes(`${typo}: "partitons" is not a setting (did you mean "partitions"?)`), unknown.stderr);

    const wrongType = await runCommandProcess(['run', '--data', join(work, 'unused')], { env: { HRRR_EMBED_PARTITIONS: 'many' } });
    assert.equal(wrongType.status, 2, wrongType.stderr);
    assert.match(wrongType.stderr, /HRRR_EMBED_PARTITIONS: many is not a whole number of at least 1/);

    const badHour = await configFile('hour.json', { from: 'yesterday', source: join(work, 'unused') });
    const fromFile = await runCommandProcess(['run', '--config', badHour, '--data', join(work, 'unused')]);
    assert.equal(fromFile.status, 2, fromFile.stderr);
    assert.ok(fromFile.stderr.includes(`${badHour}: "from": "yesterday" is not an hour`), fromFile.stderr);

    const noFields = await configFile('fields.json', { field: [], source: join(work, 'unused') });
    const emptyList = await runCommandProcess(['run', '--config', noFields, '--data', join(work, 'unused')]);
    assert.equal(emptyList.status, 2, emptyList.stderr);
    assert.ok(emptyList.stderr.includes(`${noFields}: "field": an empty list names no field`), emptyList.stderr);
  });
});
