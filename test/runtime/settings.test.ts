import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readModelSettings } from '../../cli/model.js';
import { loadRetrainSettings, loadRunSettings, loadTrainerSettings } from '../../runtime/config.js';
import { SettingError } from '../../runtime/settings.js';
import { writeJsonFile } from '../support/json-file.js';

let work: string;
before(async () => (work = await mkdtemp(join(tmpdir(), 'hrrr-embed-settings-'))));
after(() => rm(work, { recursive: true, force: true }));

const configFile = (name: string, settings: unknown) => writeJsonFile(work, name, settings);

describe('run settings', () => {
  it('take the command line over the environment, the environment over the file, the file over the defaults', async () => {
    const file = await configFile('layers.json', { topicPrefix: 'file.', partitions: 3, concurrency: 5, kafka: 'file:9092', field: ['REFC', 'TMP:2 m above ground'] });
    const { values, origin } = loadRunSettings(['--config', file, '--partitions', '7'], { HRRR_EMBED_PARTITIONS: '6', HRRR_EMBED_TOPIC_PREFIX: 'env.', HRRR_EMBED_ONCE: 'true' });
    assert.equal(values.partitions, 7, 'command line over environment and file');
    assert.equal(origin('partitions'), '--partitions');
    assert.equal(values.topicPrefix, 'env.', 'environment over file');
    assert.equal(origin('topicPrefix'), 'HRRR_EMBED_TOPIC_PREFIX');
    assert.equal(values.concurrency, 5, 'file over default');
    assert.equal(origin('concurrency'), `${file}: "concurrency"`);
    assert.deepEqual(values.field, ['REFC', 'TMP:2 m above ground']);
    assert.equal(values.once, true);
    assert.equal(values.pollSeconds, 30, 'default');
    assert.equal(values.metricsPort, undefined, 'no default: absent');
    assert.equal(values.metricsHost, '127.0.0.1');
  });

  it('name a setting left to its default, or not set, by the option that would change it, never "default" or "(not set)"', () => {
    // A message about such a setting read 'default "127.0.0.1", --metrics-port 9464: cannot serve there'.
    const { origin, given } = loadRunSettings(['--partitions', '2'], {});
    assert.equal(origin('pollSeconds'), '--poll-seconds');
    assert.equal(origin('metricsHost'), '--metrics-host');
    assert.equal(origin('metricsPort'), '--metrics-port');
    assert.deepEqual([given('pollSeconds'), given('metricsPort'), given('partitions')], [false, false, true]);
  });

  it('take the encoder batch size and wait from --batch-size and HRRR_EMBED_BATCH_WAIT_MS, leaving the batch size and concurrency to the backend and the encoder thread when absent', () => {
    const { values, origin } = loadRunSettings(['--batch-size', '16'], { HRRR_EMBED_BATCH_WAIT_MS: '5' });
    assert.equal(values.batchSize, 16);
    assert.equal(origin('batchSize'), '--batch-size');
    assert.equal(values.batchWaitMs, 5);
    assert.equal(origin('batchWaitMs'), 'HRRR_EMBED_BATCH_WAIT_MS');
    const defaults = loadRunSettings([], {}).values;
    assert.deepEqual([defaults.batchSize, defaults.concurrency, defaults.batchWaitMs, defaults.encoderThread], [undefined, undefined, 50, 'auto']);
    assert.throws(() => loadRunSettings(['--batch-size', '2.5'], {}), new SettingError('--batch-size: 2.5 is not a whole number from 1 to 256'));
  });

  it('reject a key of the file that is not a setting, naming the file and the nearest setting', async () => {
    const file = await configFile('typo.json', { partitons: 2 });
    assert.throws(() => loadRunSettings(['--config', file], {}), new SettingError(`${file}: "partitons" is not a setting (did you mean "partitions"?)`));
    const kebab = await configFile('kebab.json', { 'topic-prefix': 'x.' });
    assert.throws(() => loadRunSettings(['--config', kebab], {}), /"topic-prefix" is not a setting \(did you mean "topicPrefix"\?\)/);
    const far = await configFile('far.json', { colour: 'blue' });
    assert.throws(() => loadRunSettings(['--config', far], {}), new SettingError(`${far}: "colour" is not a setting`));
  });

  it('reject a key of the file that every object inherits (__proto__, constructor, toString) as not a setting, and leave the settings as they were', async () => {
    for (const key of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const file = join(work, `inherited-${key}.json`);
      await writeFile(file, `{"${key}": {"partitions": 9}}`);
      assert.throws(() => loadRunSettings(['--config', file], {}), new SettingError(`${file}: "${key}" is not a setting`), key);
    }
  });

  it('reject a value of the wrong type or out of range, naming the key and where it came from', async () => {
    const quoted = await configFile('quoted.json', { partitions: '3' });
    assert.throws(() => loadRunSettings(['--config', quoted], {}), new SettingError(`${quoted}: "partitions": expected a number, not "3"`));
    const flag = await configFile('flag.json', { once: 'yes' });
    assert.throws(() => loadRunSettings(['--config', flag], {}), /flag\.json: "once": expected true or false, not "yes"/);
    assert.throws(() => loadRunSettings([], { HRRR_EMBED_CONCURRENCY: 'two' }), new SettingError('HRRR_EMBED_CONCURRENCY: two is not a whole number of at least 1'));
    assert.throws(() => loadRunSettings(['--partitions', '2.5'], {}), new SettingError('--partitions: 2.5 is not a whole number of at least 1'));
    assert.throws(() => loadRunSettings(['--concurrency', '1.5'], {}), new SettingError('--concurrency: 1.5 is not a whole number of at least 1'));
    assert.throws(() => loadRunSettings(['--metrics-port', '70000'], {}), new SettingError('--metrics-port: 70000 is not a whole number from 0 to 65535'));
  });

  it('reject a time longer than a timer holds (about 24.8 days), which Node would cut to 1 ms: a drain that never waits, a poll in a busy loop', async () => {
    assert.throws(() => loadRunSettings(['--drain-seconds', '10000000'], {}), new SettingError('--drain-seconds: 10000000 is not a number from 0 to 2147483'));
    assert.throws(() => loadRunSettings([], { HRRR_EMBED_POLL_SECONDS: 'Infinity' }), new SettingError('HRRR_EMBED_POLL_SECONDS: Infinity is not a number from 0.01 to 2147483'));
    const huge = join(work, 'huge.json');
    await writeFile(huge, '{ "modelPollSeconds": 1e400 }');
    assert.throws(() => loadRunSettings(['--config', huge], {}), new SettingError(`${huge}: "modelPollSeconds": Infinity is not a number from 0.01 to 2147483`));
    assert.throws(() => loadRunSettings(['--batch-wait-ms', '3e9'], {}), /--batch-wait-ms: 3e9 is not a number from 0 to 2147483647/);
    assert.equal(loadRunSettings(['--drain-seconds', '2147483'], {}).values.drainSeconds, 2147483);
  });

  it('reject an HRRR_EMBED_ variable a letter away from a setting, and leave the project’s other variables alone', () => {
    assert.throws(() => loadRunSettings([], { HRRR_EMBED_PARTITONS: '2' }), new SettingError('HRRR_EMBED_PARTITONS is not a setting (did you mean HRRR_EMBED_PARTITIONS?)'));
    assert.doesNotThrow(() => loadRunSettings([], { HRRR_EMBED_SHARED_DATA: '/x', HRRR_EMBED_NO_WEBGPU: '1' }));
  });

  it('refuse the Kafka password on the command line, which every user of the machine reads (ps, /proc), naming the variable to give it in and not repeating it', () => {
    const cases = [
      [loadRunSettings, 'HRRR_EMBED_KAFKA_PASSWORD'],
      [loadRetrainSettings, 'HRRR_EMBED_TRAINER_KAFKA_PASSWORD'],
      [loadTrainerSettings, 'HRRR_EMBED_TRAINER_KAFKA_PASSWORD'],
    ] as const;
    for (const [load, variable] of cases) {
      assert.throws(
        () => load(['--kafka', 'broker:9092', '--kafka-password', 'pw-on-the-command-line'], {}),
        (error: unknown) => error instanceof SettingError && error.message.includes('--kafka-password') && error.message.includes(variable) && !error.message.includes('pw-on-the-command-line'),
        variable,
      );
    }
    assert.equal(loadRunSettings([], { HRRR_EMBED_KAFKA_PASSWORD: 'from-a-secret' }).values.kafkaPassword, 'from-a-secret');
  });

  it('name a Kafka password of the wrong type in the file without repeating it (a password of digits written as a JSON number)', async () => {
    const file = await configFile('numeric-password.json', { kafkaPassword: 73914268 });
    assert.throws(() => loadRunSettings(['--config', file], {}), (error: unknown) => error instanceof SettingError && /"kafkaPassword": expected a string/.test(error.message) && !error.message.includes('73914268'));
  });

  it('read the file HRRR_EMBED_CONFIG names when there is no --config', async () => {
    const file = await configFile('from-env.json', { partitions: 4 });
    const { values, origin } = loadRunSettings([], { HRRR_EMBED_CONFIG: file });
    assert.equal(values.partitions, 4);
    assert.equal(origin('partitions'), `${file}: "partitions"`);
  });

  it('read a settings file that begins with a byte order mark, as Windows editors and PowerShell write UTF-8 (JSON.parse stopped at an invisible character)', async () => {
    const bom = '\uFEFF';
    const runFile = join(work, 'bom-run.json');
    await writeFile(runFile, `${bom}${JSON.stringify({ partitions: 2 })}`);
    assert.equal(loadRunSettings(['--config', runFile], {}).values.partitions, 2);
    const modelFile = join(work, 'bom-model.json');
    await writeFile(modelFile, `${bom}${JSON.stringify({ model: { numdense: 16 } })}`);
    assert.deepEqual((await readModelSettings(modelFile)).config, { numdense: 16 });
  });

  it('name the model settings file and the setting\'s place in it when a setting is wrong, as for a wrong top-level key', async () => {
    const cases: Array<[string, object, RegExp]> = [
      ['misspelt-model.json', { model: { nlayer: 2 } }, /misspelt-model\.json: model\.nlayer: unknown setting \(known: .*nlayers/],
      ['wrong-model.json', { model: { numdense: 0 } }, /wrong-model\.json: model\.numdense: /],
      ['model-not-object.json', { model: 3 }, /model-not-object\.json: "model" must be an object/],
      ['misspelt-normalization.json', { normalization: { clipmax: 70 } }, /misspelt-normalization\.json: normalization\.clipmax: unknown setting/],
      ['misspelt-top.json', { modle: {} }, /misspelt-top\.json: unknown key "modle"/],
    ];
    for (const [name, contents, message] of cases) await assert.rejects(readModelSettings(await configFile(name, contents)), message, name);
  });

  it('say when the file cannot be read or is not a JSON object', async () => {
    assert.throws(() => loadRunSettings(['--config', join(work, 'missing.json')], {}), /--config: cannot read .*missing\.json/);
    assert.throws(() => loadRunSettings([], { HRRR_EMBED_CONFIG: join(work, 'unmounted.json') }), /^SettingError: HRRR_EMBED_CONFIG: cannot read .*unmounted\.json/);
    const list = await configFile('list.json', [1]);
    assert.throws(() => loadRunSettings(['--config', list], {}), /list\.json: expected a JSON object of settings/);
  });
});
