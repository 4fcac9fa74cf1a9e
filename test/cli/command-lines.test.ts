import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../paths.js';
import { smallAnalysisOfHour } from '../support/analyses.js';

const hrrrEmbed = (args: string[], env: NodeJS.ProcessEnv = {}) => spawnSync(process.execPath, [join(repoRoot, 'dist', 'cli', 'main.js'), ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

/** A wrong command line: exit 2, and the first line of stderr names what was wrong (no stack trace). */
function assertWrongCommandLine(args: string[], message: RegExp, env: NodeJS.ProcessEnv = {}): void {
  const result = hrrrEmbed(args, env);
  assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
  assert.match(result.stderr.split('\n')[0]!, message, args.join(' '));
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
}

describe('command lines', () => {
  it('demo --start takes an hour as every other command does (2019-09-20T05:00:00Z too), and rejects one that is not whole', () => {
    // --device is read after --start: its error says --start was taken.
    for (const start of ['2019-09-20T05:00:00Z', '2019-09-20T05:00', '2019-09-20T05Z']) {
      assertWrongCommandLine(['demo', '--start', start, '--device', 'abacus'], /^hrrr-embed demo: --device: /, { TZ: 'America/New_York' });
    }
    assertWrongCommandLine(['demo', '--start', '2019-09-20T05:30Z'], /^hrrr-embed demo: --start: "2019-09-20T05:30Z" is not an hour/);
  });

  it('an unknown --device is named once, as --device, by every command that takes one', () => {
    const device = /^hrrr-embed \w+: --device: unknown device "abacus" \(known: auto, tensorflow, webgpu, wasm, cpu\)$/;
    assertWrongCommandLine(['demo', '--device', 'abacus'], device);
    assertWrongCommandLine(['embed', 'field.grib2', '--device', 'abacus'], device);
    assertWrongCommandLine(['reconstruct', '--time', '2019-09-20T05Z', '--png', 'field.png', '--device', 'abacus'], device);
    assertWrongCommandLine(['retrain', '--models', 'models', '--shards', 'shards', '--device', 'abacus'], device);
    assertWrongCommandLine(['run', '--device', 'abacus'], device);
  });

  it('a --topic-prefix that makes no valid Kafka topic name is named as --topic-prefix by every command that takes one, before anything is read', () => {
    const data = mkdtempSync(join(tmpdir(), 'hrrr-embed-command-lines-'));
    try {
      const prefix = /^hrrr-embed \w+: --topic-prefix: "prod\/" makes "prod\/embeddings", not a Kafka topic name \(at most 249 letters, digits, "\.", "_" and "-"\)$/;
      const given = ['--data', data, '--topic-prefix', 'prod/'];
      assertWrongCommandLine(['run', ...given, '--from', '2019-09-20T05Z', '--to', '2019-09-20T05Z'], prefix);
      assertWrongCommandLine(['retrain', '--models', join(data, 'models'), '--shards', join(data, 'shards'), ...given], prefix);
      assertWrongCommandLine(['trainer', '--schedule', '0 * * * *', '--models', join(data, 'models'), '--shards', join(data, 'shards'), ...given], prefix);
      assertWrongCommandLine(['similar', '--time', '2019-09-20T05Z', ...given], prefix);
      assertWrongCommandLine(['reconstruct', '--time', '2019-09-20T05Z', '--png', join(data, 'field.png'), ...given], prefix);
      assertWrongCommandLine(['similar', '--time', '2019-09-20T05Z', '--data', data, '--topic-prefix', 'p'.repeat(234)], /^hrrr-embed similar: --topic-prefix: "p+" makes "p+retrain-requests", not a Kafka topic name/);
      assertWrongCommandLine(['run', ...given.slice(0, 2), '--from', '2019-09-20T05Z', '--to', '2019-09-20T05Z'], /^hrrr-embed run: HRRR_EMBED_TOPIC_PREFIX: "prod\/" makes/, { HRRR_EMBED_TOPIC_PREFIX: 'prod/' });
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });

  it('embed names --match when its regular expression is wrong', () => {
    assertWrongCommandLine(['embed', 'field.grib2', '--match', '(REFC'], /^hrrr-embed embed: --match: Invalid regular expression/);
  });

  it('reconstruct names --models when it is no store location, before reading any topic', () => {
    const data = mkdtempSync(join(tmpdir(), 'hrrr-embed-command-lines-'));
    try {
      assertWrongCommandLine(['reconstruct', '--time', '2019-09-20T05Z', '--png', join(data, 'field.png'), '--data', data, '--models', 'ftp://models'], /^hrrr-embed reconstruct: --models: store location "ftp:\/\/models"/);
    } finally {
      rmSync(data, { recursive: true, force: true });
    }
  });

  it('a settings file that is not JSON is named, on one line', () => {
    const folder = mkdtempSync(join(tmpdir(), 'hrrr-embed-command-lines-'));
    try {
      const file = join(folder, 'model.json');
      writeFileSync(file, 'nlayers = 3\n');
      const result = hrrrEmbed(['model', 'summary', '--config', file]);
      assert.equal(result.status, 1);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.ok(result.stderr.startsWith(`hrrr-embed model: ${file}: `), result.stderr);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('embed takes its log level from LOG_LEVEL, as every other command does, and refuses one it does not know', () => {
    assertWrongCommandLine(['embed', 'field.grib2'], /^hrrr-embed embed: LOG_LEVEL: "loud" is not a level/, { LOG_LEVEL: 'loud' });
  });

  it('demo --help suggests a tail that prints the records the demo left (a tail without --from-beginning waits for new ones)', () => {
    const help = hrrrEmbed(['demo', '--help']).stdout.replace(/\s+/g, ' ');
    assert.match(help, /hrrr-embed tail embeddings --data DIR\/data --from-beginning/);
  });

  it('--help names every option a command takes', () => {
    const taken: Record<string, string[]> = { demo: ['--verbose'], reconstruct: ['--verbose'], retrain: ['--endpoint', '--region'] };
    for (const [command, options] of Object.entries(taken)) {
      const help = hrrrEmbed([command, '--help']).stdout;
      for (const option of options) assert.ok(help.includes(option), `${command} --help names ${option}`);
    }
  });

  it('decode --raw writes into a folder that is not there yet, and a path with spaces', () => {
    const folder = mkdtempSync(join(tmpdir(), 'hrrr-embed-command-lines-'));
    try {
      const file = join(folder, 'field.grib2');
      writeFileSync(file, smallAnalysisOfHour(0).grib2);
      const raw = join(folder, 'not yet', 'made here', 'field values.f32');
      const result = hrrrEmbed(['decode', file, '--raw', raw]);
      assert.equal(result.status, 0, result.stderr);
      assert.equal(readFileSync(raw).length, 70 * 38 * 4);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('no command is a wrong command line: the usage goes to stderr, stdout stays empty for what reads it', () => {
    const result = hrrrEmbed([]);
    assert.equal(result.status, 2);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^usage: hrrr-embed COMMAND/);
    assert.match(hrrrEmbed(['--help']).stdout, /^usage: hrrr-embed COMMAND/);
  });

  it('retrain --model-config refuses a file that is no settings object, or holds a key it does not know, naming it', () => {
    const folder = mkdtempSync(join(tmpdir(), 'hrrr-embed-command-lines-'));
    try {
      const retrain = (settings: string) => {
        const file = join(folder, 'fresh.json');
        writeFileSync(file, settings);
        const args = ['retrain', '--models', join(folder, 'models'), '--shards', join(folder, 'shards'), '--data', join(folder, 'data'), '--fresh', '--model-config', file, '--device', 'cpu'];
        return hrrrEmbed(args, { LOG_LEVEL: 'silent' }).stderr.split('\n')[0]!;
      };
      // A misspelt "model" would otherwise train the seed's configuration, as if no file were given.
      assert.match(retrain('{"modle": {"nlayers": 2}}'), /^hrrr-embed retrain: --model-config: .*fresh\.json: unknown key "modle"/);
      assert.match(retrain('null'), /^hrrr-embed retrain: --model-config: .*fresh\.json: must hold a JSON object/);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('demo --preset takes only a preset\'s name, not a name every object has (toString, constructor)', () => {
    for (const preset of ['toString', 'constructor', '__proto__']) {
      assertWrongCommandLine(['demo', '--preset', preset, '--dir', join(tmpdir(), 'hrrr-embed-never-made')], new RegExp(`^hrrr-embed demo: --preset: ${preset} is not one of seed, reduced, demo`));
    }
  });

  it('a name every object has (toString, constructor, __proto__) is an unknown command', () => {
    for (const name of ['toString', 'constructor', '__proto__']) assertWrongCommandLine([name], new RegExp(`^hrrr-embed: unknown command "${name}"`));
  });

  it('a folder given where a file is read is named', () => {
    const folder = mkdtempSync(join(tmpdir(), 'hrrr-embed-command-lines-'));
    try {
      for (const args of [['decode', folder], ['embed', folder, '--device', 'cpu'], ['model', 'summary', '--config', folder]]) {
        const result = hrrrEmbed(args, { LOG_LEVEL: 'silent' });
        assert.equal(result.status, 1, result.stderr);
        assert.ok(result.stderr.includes(`${folder} is a folder, not a file`), `${args[0]}: ${result.stderr}`);
      }
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('retrain refuses --days beside --from, which it would ignore (--days counts back from --to, or now)', () => {
    const folder = mkdtempSync(join(tmpdir(), 'hrrr-embed-command-lines-'));
    try {
      const args = ['retrain', '--models', join(folder, 'models'), '--shards', join(folder, 'shards'), '--data', join(folder, 'data'), '--device', 'cpu', '--from', '2019-09-01T00Z', '--to', '2019-09-20T00Z', '--days', '3'];
      assertWrongCommandLine(args, /^hrrr-embed retrain: --days and --from: give one/, { LOG_LEVEL: 'silent' });
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it("a value that begins with a dash, given after a space (--steps -5), is one line naming the option and the value, then the usage, as --steps=-5's own refusal", () => {
    for (const [command, option, value] of [['retrain', '--steps', '-5'], ['run', '--poll-seconds', '-1'], ['similar', '-k', '-3']] as const) {
      const result = hrrrEmbed([command, option, value]);
      assert.equal(result.status, 2, result.stderr);
      const [first, blank, usage] = result.stderr.split('\n');
      assert.match(first!, new RegExp(`^hrrr-embed ${command}: ${option} ${value}: `), result.stderr);
      assert.ok(first!.includes(`=${value}`), `${first} says how to give it`);
      assert.equal(blank, '', result.stderr);
      assert.match(usage!, new RegExp(`^usage: hrrr-embed ${command} `), result.stderr);
    }
  });

  it('run refuses a wrong command line (--source, --endpoint, --kafka) before it logs anything, "run starting" first of all', () => {
    const folder = mkdtempSync(join(tmpdir(), 'hrrr-embed-command-lines-'));
    try {
      for (const [args, refusal] of [
        [['--data', join(folder, 'data'), '--source', join(folder, 'no-such-folder')], /^hrrr-embed run: --source: the folder .* does not exist$/],
        [['--data', join(folder, 'data'), '--model', 's3://models', '--endpoint', 'not-a-url'], /^hrrr-embed run: --endpoint: /],
        [['--state', join(folder, 'state'), '--kafka', 'not-brokers'], /^hrrr-embed run: --kafka: "not-brokers" is not HOST:PORT/],
      ] as const) {
        const result = hrrrEmbed(['run', ...args, '--once']);
        assert.equal(result.status, 2, result.stderr);
        assert.match(result.stderr.split('\n')[0]!, refusal, result.stderr);
        assert.doesNotMatch(result.stderr, /run starting/, `${args.join(' ')}: nothing says the run started`);
      }
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
