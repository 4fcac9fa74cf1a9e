// npx tsc -p tsconfig.json && node notes/healthz-gaps.mjs small|demo|reduced STEPS [DEVICE]: the longest a trainer's /healthz goes unanswered while it trains (on cpu by default).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const dist = new URL('../dist', import.meta.url).pathname;
const { createShardWriter } = await import(`${dist}/shards/writer.js`);
const { FolderStore } = await import(`${dist}/store/folder.js`);
const { SEED_NORMALIZATION, MODEL_PRESETS, croppedShape, modelConfig } = await import(`${dist}/model/config.js`);
const { SMALL_CONFIG } = await import(`${dist}/test/model/fixtures.js`);
const { runCommandProcess } = await import(`${dist}/test/support/cli-process.js`);
const [which, steps, device] = [process.argv[2], process.argv[3] ?? '10', process.argv[4] ?? 'cpu'];
const config = which === 'small' ? SMALL_CONFIG : MODEL_PRESETS[which];
const [height, width] = croppedShape(modelConfig(config));
const work = await mkdtemp(join(tmpdir(), 'healthz-gaps-'));
const writer = createShardWriter({ store: new FolderStore(join(work, 'shards')), normalization: SEED_NORMALIZATION });
for (const n of [0, 1, 2, 3, 24, 25]) {
  const values = new Float32Array(height * width).map((_, i) => ((i * 7 + n * 13) % 61));
  await writer.append({ validTime: new Date(Date.parse('2019-09-20T00:00:00Z') + n * 3600_000), field: 'REFC:entire atmosphere:anl', source: `m://${n}`, height, width, values });
}
await writer.close();
await writeFile(join(work, 'config.json'), JSON.stringify({ model: config }));
const errors = [];
let url, polling = false, last, maxGap = 0, answers = 0, training = false, stepTimes = [];
const poll = async () => {
  while (polling) {
    try { await fetch(`${url}/healthz`).then((r) => r.text()); } catch (e) { errors.push(e.cause?.code ?? e.message); continue; }
    const now = performance.now();
    if (training && last !== undefined) maxGap = Math.max(maxGap, now - last);
    last = now; answers++;
    await new Promise((r) => setTimeout(r, 50));
  }
};
const started = performance.now();
const result = await runCommandProcess(['trainer', '--schedule', '* * * * * *', '--models', join(work, 'models'), '--shards', join(work, 'shards'), '--data', join(work, 'bus'), '--fresh', '--model-config', join(work, 'config.json'),
  '--from', '2019-09-20T00Z', '--to', '2019-09-21T23Z', '--device', device, '--steps', steps, '--steps-per-checkpoint', steps, '--metrics-port', '0', '--verbose'], {
  onStderr: (stderr, child) => {
    if (!url && (url = /metrics on (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(stderr)?.[1])) { polling = true; void poll(); }
    if (!training && stderr.includes('"msg":"retraining"')) training = true;
  },
  onLine: (line, child) => { if (JSON.parse(line).modelId !== undefined) { polling = false; child.kill('SIGTERM'); } },
});
if (result.status !== 0) console.log(result.stderr.slice(-3000));
console.log(/"adapter":"[^"]*"/.exec(result.stderr)?.[0]);
console.log(JSON.stringify({ which, device, steps: Number(steps), status: result.status, seconds: ((performance.now() - started) / 1000).toFixed(1), healthzAnswers: answers, longestUnansweredSecondsWhileTraining: (maxGap / 1000).toFixed(2), failedRequests: errors }));
await rm(work, { recursive: true, force: true });
