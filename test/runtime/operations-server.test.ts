import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { buildInfo } from '../../runtime/build-info.js';
import { ConsumerMetrics, processRegistry } from '../../runtime/metrics.js';
import { startOperationsServer, type OperationsServer } from '../../runtime/operations-server.js';
import { Readiness } from '../../runtime/readiness.js';
import { StageError } from '../../stages/stage.js';
import { gribKey } from '../../stages/sources/hrrr-archive.js';
import { hour } from '../support/analyses.js';

const readiness = new Readiness();
const registry = processRegistry(buildInfo());
let server: OperationsServer;
before(async () => (server = await startOperationsServer({ host: '127.0.0.1', port: 0, registry, readiness })));
after(() => server.close());

const get = async (path: string) => {
  const response = await fetch(`${server.url}${path}`);
  return { status: response.status, text: await response.text() };
};

const analysis = (n: number) => ({ store: 'file:///source', key: gribKey(hour(n)), time: hour(n), size: 100 });

describe('the operations server', () => {
  it('is ready only once the model is loaded and the pipeline is running, and no longer once draining; alive throughout', async () => {
    assert.deepEqual(await get('/readyz'), { status: 503, text: 'not ready: loading the model\n' });
    readiness.modelIsLoaded();
    assert.equal((await get('/readyz')).status, 503);
    readiness.pipelineIsRunning();
    assert.deepEqual(await get('/readyz'), { status: 200, text: 'ready\n' });
    assert.deepEqual(await get('/healthz'), { status: 200, text: 'alive\n' });
    readiness.draining();
    assert.deepEqual(await get('/readyz'), { status: 503, text: 'not ready: draining: finishing the analyses in flight before exit\n' });
    assert.deepEqual(await get('/healthz'), { status: 200, text: 'alive\n' });
    assert.equal((await get('/nothing')).status, 404);
  });

  it('answers 400 to a request target that is no URL path (//a:99999/), and goes on serving: it threw out of the handler and ended the process', async () => {
    const { port } = new URL(server.url);
    const statusLine = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.write('GET //a:99999/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
      let answer = '';
      socket.on('data', (chunk) => (answer += String(chunk))).on('end', () => resolve(answer.split('\r\n')[0]!)).on('error', reject);
    });
    assert.equal(statusLine, 'HTTP/1.1 400 Bad Request');
    assert.equal((await get('/healthz')).status, 200);
  });

  it('answers not ready naming the failure once the run is failing, before and during a drain, the first failure kept', async () => {
    const failing = new Readiness();
    const server = await startOperationsServer({ host: '127.0.0.1', port: 0, registry: new Registry(), readiness: failing });
    try {
      const readyz = async () => {
        const response = await fetch(`${server.url}/readyz`);
        return { status: response.status, text: await response.text() };
      };
      failing.modelIsLoaded();
      failing.pipelineIsRunning();
      assert.equal((await readyz()).status, 200);
      failing.failing(new StageError('encode', new Error('the encoder thread exited (code 3)')));
      const expected = { status: 503, text: 'not ready: failing, shutting down: stage encode: the encoder thread exited (code 3)\n' };
      assert.deepEqual(await readyz(), expected);
      failing.draining();
      failing.failing(new Error('the bus is closed'));
      assert.deepEqual(await readyz(), expected);
    } finally {
      await server.close();
    }
  });

  it('serves the consumer metrics: outcomes, bytes, errors by stage and class, lag from a clock, the model in use, and the process defaults', async () => {
    // Five hours after hour 0: hours 0 and 1 handled, 2 to 5 behind; the newest done is hour 0.
    const metrics = new ConsumerMetrics(registry, { model: { id: 'file:///models', version: 'small-1' }, from: hour(0), clock: () => hour(5).getTime() + 30 * 60_000 });
    metrics.record({ kind: 'done', analysis: analysis(0), bytes: 1234, fields: 1 });
    metrics.record({ kind: 'dead-letter', analysis: analysis(1), error: new StageError('fetch', new TypeError('not GRIB2')) });
    const { status, text } = await get('/metrics');
    assert.equal(status, 200);
    for (const line of [
      'hrrr_embed_analyses_total{outcome="done"} 1',
      'hrrr_embed_analyses_total{outcome="dead-letter"} 1',
      'hrrr_embed_analyses_total{outcome="gap"} 0',
      'hrrr_embed_analyses_total{outcome="failed"} 0',
      'hrrr_embed_fetched_bytes_total 1234',
      'hrrr_embed_errors_total{stage="fetch",class="TypeError"} 1',
      'hrrr_embed_lag_seconds 19800',
      'hrrr_embed_analyses_behind 4',
      'hrrr_embed_model_info{model_id="file:///models",model_version="small-1"} 1',
    ])
      assert.ok(text.split('\n').includes(line), `${line} in\n${text}`);
    assert.match(text, /^process_cpu_user_seconds_total /m);
    assert.match(text, /^nodejs_eventloop_lag_seconds /m);
  });

  it('counts what the event-driven consumer did with each object, a dead letter under the class of its cause, and its lag from the newest hour done', async () => {
    const eventRegistry = new Registry();
    const metrics = new ConsumerMetrics(eventRegistry, { model: { id: 'file:///models', version: 'small-1' }, from: hour(0), clock: () => hour(3).getTime() });
    metrics.recordOutcome({ kind: 'done', hour: '2019-09-20T02Z', key: 'k2', fields: 1, bytes: 1000 });
    metrics.recordOutcome({ kind: 'ignored', key: 'k2.idx', why: 'an .idx' });
    metrics.recordOutcome({ kind: 'dead-letter', hour: null, key: 'kafka:objects/0/7', stage: 'object-events', errorClass: 'ObjectEventError', error: 'event is not JSON' });
    const text = await eventRegistry.metrics();
    for (const line of ['hrrr_embed_analyses_total{outcome="done"} 1', 'hrrr_embed_analyses_total{outcome="ignored"} 1', 'hrrr_embed_analyses_total{outcome="dead-letter"} 1', 'hrrr_embed_errors_total{stage="object-events",class="ObjectEventError"} 1', 'hrrr_embed_lag_seconds 3600'])
      assert.ok(text.split('\n').includes(line), `${line} in\n${text}`);
  });

  it('counts an event-driven dead letter as handled, as polling does: the analyses behind move on, the lag (from the newest hour done) does not', async () => {
    const eventRegistry = new Registry();
    const metrics = new ConsumerMetrics(eventRegistry, { model: { id: 'file:///models', version: 'small-1' }, from: hour(0), clock: () => hour(5).getTime() + 30 * 60_000 });
    metrics.recordOutcome({ kind: 'done', hour: '2019-09-20T01Z', key: 'k1', fields: 1, bytes: 1000 });
    metrics.recordOutcome({ kind: 'dead-letter', hour: '2019-09-20T04Z', key: 'k4', stage: 'fetch', errorClass: 'InvalidObjectError', error: 'not GRIB2' });
    const text = await eventRegistry.metrics();
    for (const line of ['hrrr_embed_analyses_behind 1', 'hrrr_embed_lag_seconds 16200']) assert.ok(text.split('\n').includes(line), `${line} in\n${text}`);
  });
});
