import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MODEL_PRESETS } from '../model/config.js';
import { selectBackend } from '../model/backends.js';
import { runDemo } from '../pipelines/demo.js';
import { commandLogger, deviceOption, hourOption } from './sources.js';
import { UsageError } from './usage.js';

export const demoUsage = `usage: hrrr-embed demo [--dir DIR] [--hours N] [--later-hours N] [--steps N] [--preset demo|reduced|seed] [--start YYYY-MM-DDTHHZ] [--device D]

Runs the whole loop on the embedded default, offline, in DIR (default .work/demo, replaced):
writes N hours (default 12) of synthetic HRRR REFC analyses (storm cells that move and grow, on
the HRRR Lambert grid, GRIB2 with complex packing and an .idx) into DIR/source in the bucket's
layout; a consumer following that folder embeds each onto the local topics in DIR/data with the
untrained model (nothing is promoted yet) and keeps it in a shard; a model is trained once on
the shards (--steps, default 24, batches of 4), promoted as the first version, announced and
swapped into the running consumer; the later hours (default 2, the last a squall line unlike
the rest) are embedded by the new version, and raise alerts where it does not know them. Prints
a JSON line per analysis and per checkpoint, then a summary; the report is DIR/report.html.
Afterwards: hrrr-embed tail embeddings --data DIR/data --from-beginning, hrrr-embed similar
--time 2019-09-20T05Z --data DIR/data.

The demo preset (fields downsampled 16 times to 64 x 112, two blocks) keeps this to a few
minutes on a 2-core CPU; --device auto (default) trains on the fastest backend there is
(webgpu where a Vulkan driver is installed, even Mesa's lavapipe on the CPU, is several times
faster than cpu); --preset reduced (4 times, 256 x 448) or seed (the article's full-size
model) are for a GPU (--device webgpu or tensorflow). -v, --verbose logs every step on stderr
(default: warnings only).`;

export async function demoCommand(args: string[], out: (line: string) => void): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      dir: { type: 'string', default: '.work/demo' },
      hours: { type: 'string', default: '12' },
      'later-hours': { type: 'string', default: '2' },
      steps: { type: 'string', default: '24' },
      preset: { type: 'string', default: 'demo' },
      start: { type: 'string', default: '2019-09-20T00Z' },
      device: { type: 'string', default: 'auto' },
      verbose: { type: 'boolean', short: 'v', default: false },
    },
  });
  const count = (option: string, text: string, min: number, max: number) => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < min || value > max) throw new UsageError(`--${option}: ${text} is not a whole number from ${min} to ${max}`, demoUsage);
    return value;
  };
  const hours = count('hours', values.hours, 6, 48);
  const laterHours = count('later-hours', values['later-hours'], 1, 24);
  const steps = count('steps', values.steps, 1, 100_000);
  const config = Object.hasOwn(MODEL_PRESETS, values.preset) ? MODEL_PRESETS[values.preset as keyof typeof MODEL_PRESETS] : undefined;
  if (!config) throw new UsageError(`--preset: ${values.preset} is not one of ${Object.keys(MODEL_PRESETS).join(', ')}`, demoUsage);
  const start = hourOption('--start', values.start, demoUsage);
  const device = deviceOption('--device', values.device, demoUsage);

  const log = commandLogger(values.verbose, 'warn');
  const { backend } = await selectBackend(device, 'training', log);
  await rmDemo(values.dir);
  const summary = await runDemo({ dir: values.dir, start, hours, laterHours, steps, config, backend }, (line) => out(JSON.stringify(line)), { log, signal: new AbortController().signal });
  out(JSON.stringify({ summary }));
}

/** Each demo starts afresh: what an earlier one left in DIR goes, and nothing else there. */
async function rmDemo(dir: string): Promise<void> {
  await Promise.all(['source', 'data', 'models', 'report.html'].map((name) => rm(join(dir, name), { recursive: true, force: true })));
}
