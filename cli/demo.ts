import { parseArgs } from 'node:util';
import { runDemo } from '../pipelines/demo.js';
import { silentLogger } from '../stages/stage.js';
import { UsageError } from './usage.js';

export const demoUsage = `usage: hrrr-embed demo [--dir DIR] [--hours N] [--start YYYY-MM-DDTHHZ]

Runs the main job on its embedded default, offline: writes N hours (default 3) of synthetic
HRRR-like REFC analyses into DIR (default .work/demo) in the bucket's key layout, then runs the
ingest pipeline over that folder: finds each analysis, reads only the REFC message by its .idx
byte range, checks and decodes it, and prints one JSON line per analysis.`;

export async function demoCommand(args: string[], out: (line: string) => void): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { dir: { type: 'string', default: '.work/demo' }, hours: { type: 'string', default: '3' }, start: { type: 'string', default: '2019-09-20T00Z' } },
  });
  const hours = Number(values.hours);
  if (!Number.isInteger(hours) || hours < 1 || hours > 48) throw new UsageError(`--hours: ${values.hours} is not a whole number from 1 to 48`, demoUsage);
  const start = new Date(values.start.replace(/Z$/, ':00Z'));
  if (Number.isNaN(start.getTime()) || start.getUTCMinutes() !== 0) throw new UsageError(`--start: ${values.start} is not an hour such as 2019-09-20T05Z`, demoUsage);

  const context = { log: silentLogger, signal: new AbortController().signal };
  await runDemo({ dir: values.dir, start, hours }, ({ key, bytesRead, objectSize, decoded }) => {
    const { values: dbz, field } = decoded;
    let max = -Infinity;
    let echoes = 0;
    for (const value of dbz) {
      if (value > max) max = value;
      if (value >= 20) echoes++;
    }
    out(JSON.stringify({
      validTime: field.product.validTime.toISOString(),
      key,
      field: `${field.parameter.shortName}:${field.product.level}:${field.product.forecast}`,
      bytesRead,
      objectSize,
      points: dbz.length,
      maxDbz: max,
      areaAbove20Dbz: Number((echoes / dbz.length).toFixed(4)),
    }));
  }, context);
}
