import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { parseArgs } from 'node:util';
import { backfillBench } from '../../bench/backfill.js';
import { busBench } from '../../bench/bus.js';
import { compactionBench } from '../../bench/compaction.js';
import { consumerBench } from '../../bench/consumer.js';
import { decodeBench } from '../../bench/decode.js';
import { folderPutBench } from '../../bench/folder-put.js';
import { modelBench } from '../../bench/model.js';
import { shardsBench } from '../../bench/shards.js';
import { trainBench } from '../../bench/train.js';
import { backfillCommand } from '../../cli/backfill.js';
import { decodeCommand } from '../../cli/decode.js';
import { demoCommand } from '../../cli/demo.js';
import { embedCommand } from '../../cli/embed.js';
import { fetchCommand } from '../../cli/fetch.js';
import { modelCommand } from '../../cli/model.js';
import { reconstructCommand } from '../../cli/reconstruct.js';
import { requestRetrainCommand } from '../../cli/request-retrain.js';
import { retrainCommand } from '../../cli/retrain.js';
import { runCommand } from '../../cli/run.js';
import { schemasCommand } from '../../cli/schemas.js';
import { shardsCommand } from '../../cli/shards.js';
import { similarCommand } from '../../cli/similar.js';
import { deviceOption, hourOption } from '../../cli/sources.js';
import { tailCommand } from '../../cli/tail.js';
import { trainerCommand } from '../../cli/trainer.js';
import { MODEL_PRESETS } from '../../model/config.js';
import { loadRetrainSettings, loadRunSettings, loadTrainerSettings } from '../../runtime/config.js';
import { repoRoot } from '../paths.js';
import { commandLines, readme, synopsisTokens } from './readme.js';

type Parsed = { values: Record<string, unknown>; positionals: string[]; options: string[] };
type Command = (args: string[]) => Promise<unknown>;

const quiet = () => {};
const COMMANDS: Record<string, Command> = {
  backfill: (args) => backfillCommand(args, quiet),
  decode: (args) => decodeCommand(args, quiet),
  demo: (args) => demoCommand(args, quiet),
  embed: (args) => embedCommand(args, quiet),
  fetch: (args) => fetchCommand(args, quiet),
  model: (args) => modelCommand(args, quiet),
  reconstruct: (args) => reconstructCommand(args, quiet),
  'request-retrain': (args) => requestRetrainCommand(args, quiet),
  retrain: (args) => retrainCommand(args, quiet),
  run: (args) => runCommand(args, quiet),
  schemas: (args) => schemasCommand(args, quiet),
  shards: (args) => shardsCommand(args, quiet),
  similar: (args) => similarCommand(args, quiet),
  tail: (args) => tailCommand(args, quiet),
  trainer: (args) => trainerCommand(args, quiet),
};
/** The commands whose settings come from runtime/config.ts, which checks every value without doing the work. */
const SETTINGS: Record<string, (args: string[], env: NodeJS.ProcessEnv) => unknown> = { run: loadRunSettings, retrain: loadRetrainSettings, trainer: loadTrainerSettings };
const BENCHMARKS: Record<string, Command> = {
  backfill: backfillBench,
  bus: busBench,
  compaction: compactionBench,
  consumer: consumerBench,
  decode: decodeBench,
  'folder-put': folderPutBench,
  model: modelBench,
  shards: shardsBench,
  train: trainBench,
};

const folder = mkdtempSync(join(tmpdir(), 'hrrr-embed-readme-'));
after(() => rmSync(folder, { recursive: true, force: true }));
const settingsFile = join(folder, 'settings.json');
writeFileSync(settingsFile, '{}\n');

/** What README's placeholders stand for: values each command takes. `FLAG PLACEHOLDER` first, where one placeholder means two things. */
const PLACEHOLDERS: Record<string, string> = {
  '--field F': 'REFC',
  '--model-config F': settingsFile,
  T: '2019-09-20T05Z',
  'YYYY-MM-DDTHHZ': '2019-09-20T05Z',
  N: '12',
  LOC: folder,
  DIR: folder,
  FILE: settingsFile,
  OUT: join(folder, 'out.grib2'),
  'HOST:PORT': 'localhost:9092',
  URL: 'http://localhost:8081',
  D: 'cpu',
  ID: 'run-1',
  U: 'hrrr-embed',
  REGEX: '^REFC$',
  CRON: '0 3 * * *',
  TOPIC: 'embeddings',
  V: '1',
  G: 'trainers',
  H: '127.0.0.1',
  P: 'shards/',
  REFC: 'REFC',
  RULE: 'BACKWARD',
  TEXT: 'new shards from the backfill',
};

/** The argument lists a line stands for: its placeholders replaced, one list per alternative of a `a|b|c` value. */
function argumentLists(tokens: string[]): string[][] {
  const args = tokens.map((token, index) => {
    if (!/^[A-Z][A-Z0-9:_-]*$/.test(token)) return token;
    const value = PLACEHOLDERS[`${tokens[index - 1]} ${token}`] ?? PLACEHOLDERS[token];
    assert.ok(value !== undefined, `README's placeholder ${token} (after ${tokens[index - 1]}) has no value in PLACEHOLDERS`);
    return value;
  });
  const choice = args.findIndex((arg) => /^\w+(\|\w+)+$/.test(arg));
  if (choice < 0) return [args];
  return args[choice]!.split('|').flatMap((value) => argumentLists(args.map((arg, index) => (index === choice ? value : arg))));
}

// parseArgs is swapped, for one call, for one that parses and then stops the command there: the
// command's own options, read by node:util as it reads them, and none of its work done.
const util = createRequire(import.meta.url)('node:util') as { parseArgs: typeof parseArgs };
const realParseArgs = util.parseArgs;
class ParsedOnly extends Error {}

async function parseOnly(command: Command, args: string[]): Promise<Parsed> {
  let parsed: Parsed | undefined;
  util.parseArgs = ((config: Parameters<typeof parseArgs>[0]) => {
    parsed = { ...(realParseArgs(config) as Omit<Parsed, 'options'>), options: Object.keys(config?.options ?? {}) };
    throw new ParsedOnly('parsed');
  }) as typeof parseArgs;
  syncBuiltinESMExports();
  try {
    await command(args);
  } catch (error) {
    // A command that wraps parseArgs's errors in its own wraps ParsedOnly too: what was parsed tells.
    if (parsed === undefined) throw error;
  } finally {
    util.parseArgs = realParseArgs;
    syncBuiltinESMExports();
  }
  assert.ok(parsed, 'the command parsed its arguments');
  return parsed;
}

/** The values that more than one command takes, checked as the commands check them. */
function checkValues({ values }: Parsed): void {
  for (const [option, value] of Object.entries(values)) {
    if (typeof value !== 'string') continue;
    if (option === 'device') deviceOption('--device', value, '');
    if (['time', 'from', 'to', 'start', 'before'].includes(option)) hourOption(`--${option}`, value, '');
    if (option === 'preset') assert.ok(Object.hasOwn(MODEL_PRESETS, value), `--preset ${value} is a preset`);
  }
}

const helpOf = (main: string) => spawnSync(process.execPath, [join(repoRoot, 'dist', main), '--help'], { encoding: 'utf8' }).stdout;

describe("README's command lines", () => {
  const lines = commandLines('hrrr-embed');

  it('the commands checked here are the commands hrrr-embed has', () => {
    const listed = new Set([...helpOf('cli/main.js').matchAll(/^ {2}([a-z][a-z-]*)\b/gm)].map((match) => match[1]!));
    assert.deepEqual([...listed].sort(), Object.keys(COMMANDS).sort());
  });

  it('README shows every command', () => {
    const shown = new Set(lines.map((line) => line.split(' ')[0]));
    for (const name of Object.keys(COMMANDS)) assert.ok(shown.has(name), `README shows hrrr-embed ${name}`);
  });

  it("every hrrr-embed line takes only options its command parses, with values it accepts", async () => {
    assert.ok(lines.length > 20, `found ${lines.length} lines`);
    const wrong: string[] = [];
    for (const line of lines) {
      const [name, ...tokens] = synopsisTokens(line);
      if (name === 'COMMAND' || name === '--version' || name === '-V') continue; // main.ts answers the build's version itself
      const command = COMMANDS[name!];
      assert.ok(command, `hrrr-embed ${line}: no command ${name}`);
      if (tokens.includes('--help') || tokens.includes('-h')) continue; // main.ts answers these before the command parses
      for (const args of argumentLists(tokens)) {
        const shown = `hrrr-embed ${name} ${args.join(' ')} (README: hrrr-embed ${line})`;
        try {
          checkValues(await parseOnly(command, args));
          SETTINGS[name!]?.(args, {});
        } catch (error) {
          wrong.push(`${shown}: ${(error as Error).message}`);
        }
      }
    }
    assert.deepEqual(wrong, []);
  });
});

describe("README's options", () => {
  /** Options of other programs that README shows: docker build's. */
  const ELSEWHERE = ['--target', '--build-arg'];

  it('every --option README names is one that hrrr-embed or a benchmark takes', async () => {
    const taken = new Set<string>(['--help']);
    for (const command of [...Object.values(COMMANDS), ...Object.values(BENCHMARKS)]) {
      for (const option of (await parseOnly(command, [])).options) taken.add(`--${option}`);
    }
    const named = new Set([...readme.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*/g)].map((match) => match[0]));
    assert.deepEqual([...named].filter((option) => !taken.has(option) && !ELSEWHERE.includes(option)).sort(), []);
  });
});

describe("README's benchmark lines", () => {
  // The device bundle's bench.mjs is bench/main.ts bundled: the same command line.
  const lines = [...commandLines('npm run bench --'), ...commandLines('bash .device/enter.sh node .device/app/bench.mjs')];

  it('the benchmarks checked here are the benchmarks bench/main.ts has', () => {
    const listed = [...helpOf('bench/main.js').matchAll(/^ {2}([a-z][a-z-]*)\b/gm)].map((match) => match[1]!);
    assert.deepEqual(listed.sort(), Object.keys(BENCHMARKS).sort());
  });

  it('every npm run bench line names a benchmark and only options it parses', async () => {
    assert.ok(lines.length > 10, `found ${lines.length} lines`);
    const wrong: string[] = [];
    for (const line of lines) {
      const [name, ...tokens] = synopsisTokens(line);
      if (name === 'NAME') continue;
      const bench = BENCHMARKS[name!];
      assert.ok(bench, `npm run bench -- ${line}: no benchmark ${name}`);
      for (const args of argumentLists(tokens)) {
        try {
          await parseOnly(bench, args);
        } catch (error) {
          wrong.push(`npm run bench -- ${name} ${args.join(' ')} (README: npm run bench -- ${line}): ${(error as Error).message}`);
        }
      }
    }
    assert.deepEqual(wrong, []);
  });
});
