/**
 * `npm run bench -- decode FILE [--match REGEX] [--runs N] [--warmup N] [--eccodes auto|c|python]`
 *
 * Times our decode of one GRIB2 message (the first whose parameter short name matches --match,
 * /REFC/ by default) against ecCodes's decode of the very same message bytes, in the same run,
 * and prints both with their ratio. Both sides time the same work, from the message's bytes in
 * memory to an array of all its values: readFields + decodeValues for us, handle creation +
 * codes_get_double_array("values") for ecCodes. Before any ratio is printed, the two value arrays
 * are checked equal (ecCodes's doubles rounded to float32, its missingValue taken as our NaN).
 * On a grid of the seed model's size it also times the CPU's next step, normalize and crop.
 *
 * ecCodes's side is bench/eccodes_decode.c, compiled on first use against libeccodes into
 * .work/bench/; if it cannot be compiled, bench/eccodes_decode.py with python3-eccodes.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { decodeValues, readFields, type Grib2Field } from '../grib2/index.js';
import { SEED_MODEL_CONFIG, SEED_NORMALIZATION } from '../model/config.js';
import { normalizeAndCrop } from '../stages/transforms/normalize.js';
import { commandLine, matchOption, parseBenchArgs, UsageError } from './usage.js';

export const DECODE_USAGE = 'npm run bench -- decode FILE [--match REGEX] [--runs N] [--warmup N] [--eccodes auto|c|python]';

/** The repository root (this runs from dist/bench/, compiled). */
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const workDir = join(repoRoot, '.work', 'bench');
const C_SOURCE = join(repoRoot, 'bench', 'eccodes_decode.c');
const PY_SCRIPT = join(repoRoot, 'bench', 'eccodes_decode.py');
/** Debian's python3 carries python3-eccodes; the PATH's python3 may be another one (as in the tests). */
const PYTHON = process.env.HRRR_EMBED_ECCODES_PYTHON ?? '/usr/bin/python3';
/** The C compiler (not $CC: python3-eccodes's library lookup breaks when CC names no compiler). */
const CC = process.env.HRRR_EMBED_BENCH_CC ?? 'cc';

const run = promisify(execFile);

interface Options {
  file: string;
  match: RegExp;
  runs: number;
  warmup: number;
  eccodes: 'auto' | 'c' | 'python';
}

interface EccodesResult {
  impl: 'c' | 'python';
  eccodesVersion: string;
  points: number;
  missingValue: number;
  bitmapPresent: number;
  timingsMs: number[];
}

interface Stats {
  medianMs: number;
  minMs: number;
  meanMs: number;
  maxMs: number;
}

function parseOptions(args: string[]): Options {
  const { positionals, values } = parseBenchArgs({
    args,
    allowPositionals: true,
    options: {
      match: { type: 'string', default: 'REFC' },
      runs: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '10' },
      eccodes: { type: 'string', default: 'auto' },
    },
  });
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'FILE is missing' : `one FILE expected, got ${positionals.length}`);
  const integer = (name: string, text: string, min: number): number => {
    if (!/^\d+$/.test(text) || Number(text) < min) throw new UsageError(`--${name} must be an integer >= ${min}, not "${text}"`);
    return Number(text);
  };
  const match = matchOption(values.match);
  const eccodes = values.eccodes;
  if (eccodes !== 'auto' && eccodes !== 'c' && eccodes !== 'python') throw new UsageError(`--eccodes must be auto, c or python, not "${eccodes}"`);
  return { file: positionals[0]!, match, runs: integer('runs', values.runs, 1), warmup: integer('warmup', values.warmup, 0), eccodes };
}

function stats(timings: number[]): Stats {
  const sorted = [...timings].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  const medianMs = sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { medianMs, minMs: sorted[0]!, meanMs: sorted.reduce((s, t) => s + t, 0) / sorted.length, maxMs: sorted.at(-1)! };
}

/** Our side: from the message's bytes to its values, as ecCodes's side does. */
async function decodeOurs(message: Uint8Array, fieldIndex: number): Promise<Float32Array> {
  const field = readFields(message)[fieldIndex]!;
  return decodeValues(field);
}

async function timeOurs(message: Uint8Array, fieldIndex: number, warmup: number, runs: number): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await decodeOurs(message, fieldIndex);
  const timings: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await decodeOurs(message, fieldIndex);
    timings.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return timings;
}

/** The median of normalizeAndCrop for the seed model, on a grid of its size. */
function timeNormalize(field: Grib2Field, values: Float32Array, warmup: number, runs: number): number | undefined {
  const { nx, ny } = field.grid;
  if (nx !== SEED_MODEL_CONFIG.inputWidth || ny !== SEED_MODEL_CONFIG.inputHeight) return undefined;
  const grid = { nx, ny, southFirst: field.grid.template.scanning.jScansPositively };
  const once = () => normalizeAndCrop(values, grid, SEED_NORMALIZATION, SEED_MODEL_CONFIG.cropping);
  for (let i = 0; i < warmup; i++) once();
  const timings = Array.from({ length: runs }, () => {
    const start = process.hrtime.bigint();
    once();
    return Number(process.hrtime.bigint() - start) / 1e6;
  });
  return stats(timings).medianMs;
}

/** The compiled C program, built once per version of its source; undefined (with why) if it cannot be. */
async function eccodesProgram(): Promise<{ path: string } | { error: string }> {
  const source = await readFile(C_SOURCE);
  const path = join(workDir, `eccodes_decode-${createHash('sha256').update(source).digest('hex').slice(0, 12)}`);
  if (existsSync(path)) return { path };
  await mkdir(workDir, { recursive: true });
  const partial = `${path}.partial-${process.pid}`;
  try {
    await run(CC, ['-O2', '-o', partial, C_SOURCE, '-leccodes']);
    await rename(partial, path);
    return { path };
  } catch (error) {
    await rm(partial, { force: true });
    const e = error as Error & { stderr?: string };
    return { error: (e.stderr || e.message).trim().split('\n').slice(0, 6).join('\n') };
  }
}

async function timeEccodes(
  messagePath: string,
  valuesPath: string,
  options: Options,
): Promise<{ result: EccodesResult; how: string; fallbackReason?: string }> {
  const args = [messagePath, String(options.warmup), String(options.runs), valuesPath];
  let fallbackReason: string | undefined;
  if (options.eccodes !== 'python') {
    const program = await eccodesProgram();
    if ('path' in program) {
      const { stdout } = await run(program.path, args, { maxBuffer: 16 << 20 });
      return { result: JSON.parse(stdout) as EccodesResult, how: `C, ${CC} -O2 -leccodes (${program.path.slice(repoRoot.length + 1)})` };
    }
    if (options.eccodes === 'c') throw new Error(`bench/eccodes_decode.c could not be compiled:\n${program.error}`);
    fallbackReason = `the C program could not be compiled (${program.error.split('\n')[0]})`;
  }
  try {
    const { stdout } = await run(PYTHON, [PY_SCRIPT, ...args], { maxBuffer: 16 << 20 });
    const how = `Python, ${PYTHON} with python3-eccodes (bench/eccodes_decode.py)`;
    return fallbackReason === undefined ? { result: JSON.parse(stdout) as EccodesResult, how } : { result: JSON.parse(stdout) as EccodesResult, how, fallbackReason };
  } catch (error) {
    throw new Error(`ecCodes's side could not run${fallbackReason ? ` (${fallbackReason})` : ''}: is libeccodes-dev or python3-eccodes installed?\n${(error as Error).message}`);
  }
}

interface Agreement {
  equal: boolean;
  /** Largest |ours - float32(ecCodes)| over points both have a value at. */
  maxAbsDiff: number;
  /** Largest |ours - ecCodes| against ecCodes's doubles (the float32 rounding of our output). */
  maxAbsDiffDouble: number;
  missing: number;
  /** Points missing on one side only. */
  missingMismatches: number;
  firstMismatch: number;
}

function compare(ours: Float32Array, theirs: Float64Array, missingValue: number): Agreement {
  let maxAbsDiff = 0;
  let maxAbsDiffDouble = 0;
  let missing = 0;
  let missingMismatches = 0;
  let firstMismatch = -1;
  const n = Math.min(ours.length, theirs.length);
  for (let i = 0; i < n; i++) {
    const a = ours[i]!;
    const b = theirs[i]!;
    const ourMissing = Number.isNaN(a);
    const theirMissing = b === missingValue || Number.isNaN(b);
    if (ourMissing || theirMissing) {
      if (ourMissing && theirMissing) missing++;
      else {
        missingMismatches++;
        if (firstMismatch < 0) firstMismatch = i;
      }
      continue;
    }
    const diff = Math.abs(a - Math.fround(b));
    if (diff > maxAbsDiff) maxAbsDiff = diff;
    if (diff > 0 && firstMismatch < 0) firstMismatch = i;
    maxAbsDiffDouble = Math.max(maxAbsDiffDouble, Math.abs(a - b));
  }
  const equal = ours.length === theirs.length && maxAbsDiff === 0 && missingMismatches === 0;
  return { equal, maxAbsDiff, maxAbsDiffDouble, missing, missingMismatches, firstMismatch };
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('   ')).join('\n');
}

const ms = (t: number) => t.toFixed(2);
const mpts = (points: number, t: number) => (points / t / 1e3).toFixed(1);
const thousands = (n: number) => n.toLocaleString('en-US');

function describePacking(field: Grib2Field): string {
  const packing = field.representation.packing;
  const order = packing.template === 3 ? `, spatial differencing order ${packing.orderOfSpatialDifferencing}` : '';
  const groups = packing.template === 2 || packing.template === 3 ? `, ${thousands(packing.numberOfGroupsOfDataValues)} groups` : '';
  return `template 5.${packing.template}${order}${groups}, ${packing.bitsPerValue} bits`;
}

export async function decodeBench(args: string[]): Promise<number> {
  const options = parseOptions(args);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(options.file));
  } catch (error) {
    throw new UsageError(`cannot read ${options.file}: ${(error as Error).message}`);
  }
  const fields = readFields(bytes);
  const field = fields.find((f) => options.match.test(f.parameter.shortName));
  if (!field) {
    const names = [...new Set(fields.map((f) => f.parameter.shortName))].join(', ');
    throw new UsageError(`no message of ${options.file} has a parameter matching /${options.match.source}/ (it holds: ${names})`);
  }
  const { offset, length, index } = field.message;
  // The message alone, as its own buffer: both decoders get exactly these bytes.
  const message = bytes.slice(offset, offset + length);
  const points = field.grid.numberOfDataPoints;

  const ourTimings = await timeOurs(message, field.fieldIndex, options.warmup, options.runs);
  const ourValues = await decodeOurs(message, field.fieldIndex);

  await mkdir(workDir, { recursive: true });
  const messagePath = join(workDir, `message-${process.pid}.grib2`);
  const valuesPath = join(workDir, `values-${process.pid}.f64`);
  let eccodes: Awaited<ReturnType<typeof timeEccodes>>;
  let theirValues: Float64Array;
  try {
    await writeFile(messagePath, message);
    eccodes = await timeEccodes(messagePath, valuesPath, options);
    const raw = await readFile(valuesPath);
    theirValues = new Float64Array(raw.buffer, raw.byteOffset, raw.byteLength / 8);
  } finally {
    await rm(messagePath, { force: true });
    await rm(valuesPath, { force: true });
  }
  const { result } = eccodes;
  const agreement = compare(ourValues, theirValues, result.missingValue);

  const ours = stats(ourTimings);
  const theirs = stats(result.timingsMs);
  const command = commandLine(['decode', ...args]);
  const label = `ecCodes ${result.eccodesVersion} (${result.impl === 'c' ? 'C' : 'Python'})`;
  const lines = [
    `decode benchmark: ${field.parameter.shortName}, message ${index + 1} (1-based) of ${basename(options.file)}: ${thousands(points)} points, ${thousands(length)} bytes, ${describePacking(field)}`,
    `command: ${command}`,
    `each side: ${options.warmup} warm-up runs, then ${options.runs} timed runs, from the message bytes in memory to all values`,
    `  ours:    readFields + decodeValues (Node ${process.version}, Float32Array)`,
    `  ecCodes: codes_handle_new_from_message + codes_get_double_array("values"), via ${eccodes.how}`,
    ...(eccodes.fallbackReason ? [`  NOTE: Python fallback used because ${eccodes.fallbackReason}`] : []),
    `  cpu: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} threads)`,
    '',
    table([
      ['decoder', 'median ms', 'min ms', 'mean ms', 'max ms', 'Mpoints/s (median)'],
      ['hrrr-embed', ms(ours.medianMs), ms(ours.minMs), ms(ours.meanMs), ms(ours.maxMs), mpts(points, ours.medianMs)],
      [label, ms(theirs.medianMs), ms(theirs.minMs), ms(theirs.meanMs), ms(theirs.maxMs), mpts(points, theirs.medianMs)],
    ]),
    '',
  ];
  const check = agreement.equal
    ? `values agree: max |ours - float32(ecCodes)| = ${agreement.maxAbsDiff} over ${thousands(points)} points (${thousands(agreement.missing)} missing on both sides; ` +
      `max |ours - ecCodes double| = ${agreement.maxAbsDiffDouble === 0 ? 0 : agreement.maxAbsDiffDouble.toPrecision(3)}, the float32 rounding)`
    : `VALUES DIFFER: ${ourValues.length} vs ${theirValues.length} values, max |ours - float32(ecCodes)| = ${agreement.maxAbsDiff}, ` +
      `${agreement.missingMismatches} points missing on one side only, first difference at point ${agreement.firstMismatch}`;
  const ratioMedian = theirs.medianMs / ours.medianMs;
  const ratioMin = theirs.minMs / ours.minMs;
  if (agreement.equal) {
    lines.push(`ratio ecCodes/ours: ${ratioMedian.toFixed(2)} (median), ${ratioMin.toFixed(2)} (min); > 1 means ours is faster`);
  }
  lines.push(check);
  const normalizeMs = timeNormalize(field, ourValues, options.warmup, options.runs);
  if (normalizeMs !== undefined) lines.push(`then normalize and crop for the seed model (the next stage, on the CPU too): ${ms(normalizeMs)} ms (median)`);
  const json = {
    benchmark: 'decode',
    command,
    file: options.file,
    messageIndex: index,
    fieldIndex: field.fieldIndex,
    shortName: field.parameter.shortName,
    points,
    messageBytes: length,
    dataRepresentationTemplate: field.representation.packing.template,
    warmup: options.warmup,
    runs: options.runs,
    node: process.version,
    cpu: cpus()[0]?.model ?? null,
    ours: ours,
    normalizeMedianMs: normalizeMs ?? null,
    eccodes: { impl: result.impl, version: result.eccodesVersion, ...theirs },
    ratioMedian: agreement.equal ? ratioMedian : null,
    ratioMin: agreement.equal ? ratioMin : null,
    valuesAgree: agreement.equal,
    maxAbsDiff: agreement.maxAbsDiff,
    maxAbsDiffDouble: agreement.maxAbsDiffDouble,
    missingMismatches: agreement.missingMismatches,
    oursTimingsMs: ourTimings.map((t) => Number(t.toFixed(4))),
    eccodesTimingsMs: result.timingsMs.map((t) => Number(t.toFixed(4))),
  };
  process.stdout.write(`${lines.join('\n')}\nJSON ${JSON.stringify(json)}\n`);
  if (!agreement.equal) {
    process.stderr.write('bench decode: the two decoders disagree, so no ratio is given\n');
    return 1;
  }
  return 0;
}
