import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { defaultTopics } from '../../bus/bus.js';
import { loadRunSettings, RETRAIN_SETTINGS, RUN_ENV_PREFIX, RUN_SETTINGS, TRAINER_ENV_PREFIX, TRAINER_SETTINGS } from '../../runtime/config.js';
import { ConsumerMetrics, registerBuildInfo } from '../../runtime/metrics.js';
import { TrainerMetrics } from '../../runtime/trainer-metrics.js';
import { Watchdog } from '../../runtime/watchdog.js';
import { Schedule } from '../../training/schedule.js';
import { repoRoot } from '../paths.js';
import { codeSpans, readme } from './readme.js';

/** Folders of what is installed, built or made by tools, not the repository's own. */
const NOT_OURS = ['node_modules', 'dist', '.work', '.device', '.git'];

/** The repository's own files, as paths from its root. */
function repoFiles(folder = repoRoot): string[] {
  return readdirSync(folder).flatMap((name) => {
    if (NOT_OURS.includes(name)) return [];
    const path = join(folder, name);
    return statSync(path).isDirectory() ? repoFiles(path) : [relative(repoRoot, path)];
  });
}
const files = repoFiles();
const sources = files.filter((file) => /\.(ts|sh|py|c|yaml|json|xml)$|Dockerfile$/.test(file)).map((file) => readFileSync(join(repoRoot, file), 'utf8'));
const inSources = (text: string) => sources.some((source) => source.includes(text));
const mentioned = (pattern: RegExp) => [...new Set([...readme.matchAll(pattern)].map((match) => match[0]))];

describe('the names README mentions', () => {
  it("the metrics tables are the consumer's and the trainer's metrics: names, types and labels", async () => {
    const registry = new Registry();
    new ConsumerMetrics(registry, { model: { id: 'm', version: '1' }, from: new Date(0) });
    new TrainerMetrics(registry, { schedule: Schedule.parse('@daily') });
    registerBuildInfo(registry, { version: '0.1.0', commit: 'unknown' });
    new Watchdog({ stallMs: 1 }).registerGauges(registry, 'hrrr_embed');
    new Watchdog({ stallMs: 1 }).registerGauges(registry, 'hrrr_embed_trainer');
    const registered = new Map((await registry.getMetricsAsJSON()).map((metric) => [metric.name, metric]));
    const rows = [...readme.matchAll(/^\| `(hrrr_embed_\w+)` \| (\w+) \|([^|]*)\|/gm)].map(([, name, type, labels]) => ({ name: name!, type: type!, labels: labels! }));
    // hrrr_embed_build_info, which both serve, is in both tables.
    assert.deepEqual([...new Set(rows.map((row) => row.name))].sort(), [...registered.keys()].sort(), 'a row for each metric');
    assert.deepEqual(rows.map((row) => row.name).filter((name, index, names) => names.indexOf(name) !== index), ['hrrr_embed_build_info'], 'one row per metric in each table');
    assert.deepEqual(mentioned(/hrrr_embed_\w+/g).sort(), [...registered.keys()].sort(), 'no other hrrr_embed_ name');
    for (const { name, type, labels } of rows) {
      assert.equal(type, String(registered.get(name)!.type), `${name}'s type`);
      const labelNames = (registry.getSingleMetric(name) as unknown as { labelNames: string[] }).labelNames;
      // The labels open the cell, before the values of one (`outcome`: `done`...) or a note in brackets.
      const shown = [.../^(?:`\w+`(?:, `\w+`)*)?/.exec(labels.trim())![0].matchAll(/`(\w+)`/g)].map((match) => match[1]!);
      assert.deepEqual(shown, labelNames, `${name}'s labels`);
    }
  });

  it('every environment variable (and constant) README names is one a setting or the code reads', () => {
    const settingVariables = (prefix: string, schema: object) => [`${prefix}CONFIG`, ...Object.keys(schema).map((key) => prefix + key.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase())];
    const known = new Set([...settingVariables(RUN_ENV_PREFIX, RUN_SETTINGS), ...settingVariables(TRAINER_ENV_PREFIX, TRAINER_SETTINGS)]);
    // Named as a misspelling that run refuses; AWS_PROFILE is read by the AWS SDK; Kafka's own names of an ACL operation and an error.
    const examples = new Set(['HRRR_EMBED_PARTITONS', 'AWS_PROFILE', 'IDEMPOTENT_WRITE', 'NOT_ENOUGH_REPLICAS']);
    const unknown = mentioned(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g).filter((name) => !known.has(name) && !examples.has(name) && !inSources(name));
    assert.deepEqual(unknown, []);
    assert.throws(() => loadRunSettings([], { HRRR_EMBED_PARTITONS: '3' }), /HRRR_EMBED_PARTITONS is not a setting/);
    assert.ok(Object.keys(RETRAIN_SETTINGS).every((key) => key in TRAINER_SETTINGS));
  });

  it("README's settings file example is one run takes", () => {
    const folder = mkdtempSync(join(tmpdir(), 'hrrr-embed-readme-'));
    try {
      const file = join(folder, 'run.json');
      writeFileSync(file, /```json\n([\s\S]*?)```/.exec(readme)![1]!);
      const { origin } = loadRunSettings(['--config', file], {});
      assert.equal(origin('metricsPort'), `${file}: "metricsPort"`);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it("the mistakes README quotes are run's own messages, word for word", () => {
    const folder = mkdtempSync(join(tmpdir(), 'hrrr-embed-readme-'));
    const messageOf = (settings: object, env: NodeJS.ProcessEnv = {}) => {
      const file = join(folder, 'run.json');
      writeFileSync(file, JSON.stringify(settings));
      try {
        loadRunSettings(['--config', file], env);
      } catch (error) {
        return (error as Error).message.replace(file, 'run.json');
      }
      assert.fail(`${JSON.stringify(settings)} was taken`);
    };
    try {
      for (const message of [messageOf({ partitons: 3 }), messageOf({ partitions: '3' }), messageOf({}, { HRRR_EMBED_CONCURRENCY: 'two' })]) {
        assert.ok(readme.replace(/\s+/g, ' ').includes(`\`${message}\``), `README quotes ${message}`);
      }
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it("the defaults README gives run's, retrain's and trainer's numeric settings are theirs", () => {
    const defaults = (flag: string) => {
      const key = flag.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
      return [RUN_SETTINGS, RETRAIN_SETTINGS, TRAINER_SETTINGS].map((schema) => (schema as Record<string, { default?: unknown }>)[key]?.default).filter((value) => typeof value === 'number');
    };
    // `--days 30`, `--held-out` (0.15), `--batch-wait-ms` (default 50): a number beside a setting is its default.
    const claims = [...readme.matchAll(/`--([a-z-]+)(?: ([\d.]+)`|` \((?:default )?([\d.]+)\))/g)].map(([, flag, inside, after]) => ({ flag: flag!, value: Number(inside ?? after) }));
    const settings = claims.filter(({ flag }) => defaults(flag).length > 0);
    assert.ok(settings.length >= 8, `${settings.length} defaults found`);
    for (const { flag, value } of settings) assert.ok(defaults(flag).includes(value), `--${flag} ${value} is a default`);
  });

  it('every topic README names is a topic of the bus, and every topic is in its table', () => {
    const topics: string[] = Object.values(defaultTopics);
    const table = /^\| topic \| key \| value \|\n\|[-|]+\|\n((?:\|.*\n)+)/m.exec(readme)![1]!;
    assert.deepEqual([...table.matchAll(/^\| `([a-z-]+)` \|/gm)].map((match) => match[1]!).sort(), [...topics].sort());
    const named = mentioned(/`[a-z][a-z-]*` topic/g).map((text) => text.slice(1, text.indexOf('`', 1)));
    assert.deepEqual(named.filter((topic) => !topics.includes(topic)), []);
  });

  it("README lists the topics infra/kafka/create-topics.sh creates, with their partition counts", () => {
    const script = readFileSync(join(repoRoot, 'infra', 'kafka', 'create-topics.sh'), 'utf8');
    const created = [...script.matchAll(/^create ([a-z-]+) (\d+)/gm)].map(([, name, partitions]) => `${name} ${partitions}`);
    const listed = /`infra\/kafka\/create-topics\.sh`: ([^)]*)\)/.exec(readme.replace(/\s+/g, ' '))![1]!;
    assert.deepEqual(created.filter((topic) => !listed.includes(topic)), []);
  });

  it("the Layout table has a row for every folder of the repository, and the test/ row names every folder of test/", () => {
    // Folders of code or data: notes (markdown alone) and .ci need no row.
    const holdsCode = (folder: string) => files.some((file) => file.startsWith(`${folder}/`) && !file.endsWith('.md'));
    const folders = (path: string) => readdirSync(join(repoRoot, path), { withFileTypes: true }).filter((entry) => entry.isDirectory() && entry.name !== '.ci' && holdsCode(join(path, entry.name))).map((entry) => entry.name);
    const rows = new Map([...readme.matchAll(/^\| `([\w.]+)\/` \| (.*) \|$/gm)].map(([, folder, text]) => [folder!, text!]));
    assert.deepEqual(folders('.').filter((folder) => !rows.has(folder)), [], 'folders without a row');
    assert.deepEqual(folders('test').filter((folder) => !rows.get('test')!.includes(`\`${folder}/\``)), [], 'test/ folders the row leaves out');
  });

  it('every npm script README names is in package.json', () => {
    const scripts = Object.keys((JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts);
    const named = mentioned(/\bnpm (?:run [\w:-]+|start|test)\b/g).map((text) => text.replace(/^npm (run )?/, ''));
    assert.deepEqual(named.filter((script) => !scripts.includes(script)), []);
  });

  /** The GPU machine's kit, beside the repository (../shared/gpu/), and what it makes in .device/. */
  const OUTSIDE = ['device-kit.sh', 'enter.sh'];

  it('every repository path README names exists, and every file name names a file of the repository', () => {
    const topLevel = readdirSync(repoRoot).filter((name) => !NOT_OURS.includes(name));
    const missing: string[] = [];
    for (const span of codeSpans()) {
      for (const token of span.split(/[\s,;()]+/).map((word) => word.replace(/[.:]+$/, ''))) {
        if (/[A-Z]{2,}|[*{}$]|\.\.\./.test(token)) continue; // a placeholder or a pattern
        if (/^\.\.\/|^\.device\//.test(token) || OUTSIDE.includes(token)) continue;
        if (topLevel.includes(token.split('/')[0]!) && token.includes('/')) {
          if (!existsSync(join(repoRoot, token))) missing.push(token);
        } else if (/^[\w./-]+\.(ts|sh|avsc|py|c|yaml|xml)$/.test(token) && !token.startsWith('.work/')) {
          if (!files.some((file) => file === token || file.endsWith(`/${token}`))) missing.push(token);
        }
      }
    }
    assert.deepEqual(missing, []);
  });
});
