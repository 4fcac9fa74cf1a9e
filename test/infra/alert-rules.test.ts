import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { buildInfo } from '../../runtime/build-info.js';
import { ConsumerMetrics, processRegistry } from '../../runtime/metrics.js';
import { TrainerMetrics } from '../../runtime/trainer-metrics.js';
import { Watchdog } from '../../runtime/watchdog.js';
import { Schedule } from '../../training/schedule.js';
import { repoRoot } from '../paths.js';

const folder = join(repoRoot, 'infra', 'prometheus');
const rulesFile = join(folder, 'alerts.yaml');
const unitTestsFile = join(folder, 'alerts.test.yaml');
const promtool = join(repoRoot, '.work', 'promtool', 'promtool');
const python = join(repoRoot, '.work', 'infra-venv', 'bin', 'python');
const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-alerts-'));
after(() => rmSync(work, { recursive: true, force: true }));

function run(program: string, args: string[], input?: string) {
  assert.ok(existsSync(program), `${program} is missing: run infra/install-test-deps.sh (npm test runs it)`);
  return spawnSync(program, args, { encoding: 'utf8', timeout: 60_000, ...(input !== undefined && { input }) });
}

/** A YAML document, parsed by PyYAML. */
function parseYaml(text: string): any {
  const result = run(python, ['-c', 'import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))'], text);
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout);
}

interface Rule { alert: string; expr: string; for?: string; labels: { severity: string }; annotations: Record<string, string> }
const rules: Rule[] = (parseYaml(readFileSync(rulesFile, 'utf8')).groups as { rules: Rule[] }[]).flatMap((group) => group.rules);

describe('infra/prometheus/alerts.yaml', () => {
  it('is a valid rule file for promtool check rules, and a broken expression is refused', () => {
    const checked = run(promtool, ['check', 'rules', rulesFile]);
    assert.equal(checked.status, 0, checked.stdout + checked.stderr);
    assert.match(checked.stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
    const broken = join(work, 'broken.yaml');
    writeFileSync(broken, readFileSync(rulesFile, 'utf8').replace('hrrr_embed_model_not_promoted == 1', 'hrrr_embed_model_not_promoted == == 1'));
    const refused = run(promtool, ['check', 'rules', broken]);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stdout + refused.stderr, /parse error/);
  });

  it("passes its unit tests (promtool test rules alerts.test.yaml): each alert fires when it should and stays silent when it should not", () => {
    const tested = run(promtool, ['test', 'rules', unitTestsFile]);
    assert.equal(tested.status, 0, tested.stdout + tested.stderr);
    assert.match(tested.stdout, /SUCCESS/);
  });

  it('the unit tests see every alert fire, and a wrong expectation fails them', () => {
    const unitTests = parseYaml(readFileSync(unitTestsFile, 'utf8')) as { tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[] };
    const fired = new Set(unitTests.tests.flatMap((test) => test.alert_rule_test).filter((expectation) => expectation.exp_alerts.length > 0).map((expectation) => expectation.alertname));
    assert.deepEqual(rules.map((rule) => rule.alert).filter((alert) => !fired.has(alert)), []);
    // An idle consumer's lag swings up to 6600 s each hour: a rule on the lag alone, 1 h past, must fail the silent case.
    writeFileSync(join(work, 'alerts.yaml'), readFileSync(rulesFile, 'utf8').replace(/min by \(job\) \(hrrr_embed_lag_seconds\) > 3 \* 3600\n\s*and .*/, 'hrrr_embed_lag_seconds > 3600'));
    writeFileSync(join(work, 'alerts.test.yaml'), readFileSync(unitTestsFile, 'utf8'));
    const failed = run(promtool, ['test', 'rules', join(work, 'alerts.test.yaml')]);
    assert.notEqual(failed.status, 0);
    assert.match(failed.stdout + failed.stderr, /name: an idle polling consumer between hours.*\n.*alertname: HrrrEmbedNotEmbedding/);
  });

  it('every alert has a severity (critical, warning, info), a summary, a description and a runbook pointing to README', () => {
    for (const rule of rules) {
      assert.ok(['critical', 'warning', 'info'].includes(rule.labels.severity), `${rule.alert}'s severity`);
      assert.deepEqual(Object.keys(rule.annotations).sort(), ['description', 'runbook', 'summary'], `${rule.alert}'s annotations`);
      assert.match(rule.annotations.runbook!, /\(README: [^)]+\)\.?$/, `${rule.alert}'s runbook`);
    }
  });

  it('every metric the rules use is one the consumer or the trainer exports, kube-state-metrics\'s of the retraining CronJob, or Prometheus\'s own up', async () => {
    const registry = processRegistry(buildInfo());
    new ConsumerMetrics(registry, { model: { id: 'm', version: '1' }, from: new Date(0) });
    new TrainerMetrics(registry, { schedule: Schedule.parse('@daily') });
    new Watchdog({ stallMs: 1 }).registerGauges(registry, 'hrrr_embed');
    new Watchdog({ stallMs: 1 }).registerGauges(registry, 'hrrr_embed_trainer');
    const exported = new Set((await registry.getMetricsAsJSON()).map((metric) => metric.name));
    const text = rules.map((rule) => `${rule.expr} ${Object.values(rule.annotations).join(' ')}`).join('\n');
    const used = [...new Set([...text.matchAll(/\b(?:hrrr_embed|process|nodejs)_\w+/g)].map((match) => match[0]))];
    assert.ok(used.length > 10);
    assert.deepEqual(used.filter((name) => !exported.has(name)), []);
    // Past those names, kube-state-metrics's (infra/k8s's CronJob serves none of its own), label values and ranges, an expression holds PromQL's own words, label names and `up`, nothing another exporter would have to supply.
    const rest = rules.map((rule) => rule.expr.replace(/\b(?:hrrr_embed|process|nodejs)_\w+|\bkube_job_status_failed\b|\bkube_cronjob_status_last_successful_time\b|\{[^}]*\}|\[[^\]]*\]/g, ''));
    const words = new Set(rest.flatMap((expr) => [...expr.matchAll(/[a-z_]+/g)].map((match) => match[0])));
    const promql = ['absent', 'and', 'by', 'delta', 'increase', 'max', 'max_over_time', 'min', 'on', 'or', 'time', 'job', 'instance', 'namespace', 'job_name', 'up'];
    assert.deepEqual([...words].filter((word) => !promql.includes(word)), []);
  });
});

describe('infra/prometheus/prometheus-rule.sh', () => {
  it("wraps alerts.yaml in a PrometheusRule whose spec is the rule file's groups, with the labels given", () => {
    const printed = run(join(folder, 'prometheus-rule.sh'), ['release=prometheus']);
    assert.equal(printed.status, 0, printed.stderr);
    const manifest = parseYaml(printed.stdout);
    assert.equal(manifest.apiVersion, 'monitoring.coreos.com/v1');
    assert.equal(manifest.kind, 'PrometheusRule');
    assert.deepEqual(manifest.metadata.labels, { 'app.kubernetes.io/name': 'hrrr-embed', release: 'prometheus' });
    assert.deepEqual(manifest.spec, parseYaml(readFileSync(rulesFile, 'utf8')));
  });

  it('refuses a label that is not KEY=VALUE, naming it, and prints nothing', () => {
    const refused = run(join(folder, 'prometheus-rule.sh'), ['release prometheus']);
    assert.equal(refused.status, 2);
    assert.equal(refused.stdout, '');
    assert.match(refused.stderr, /a label is KEY=VALUE, not 'release prometheus'/);
  });
});
