import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { parseIdx, selectRanges } from '../../grib2/index.js';
import { IdxFormatError } from '../../grib2/idx.js';
import { repoRoot, sharedData } from '../paths.js';

const idx = (name: string) => readFileSync(join(sharedData, 'hrrr', 'idx', name), 'utf8');

describe('.idx sidecar files', () => {
  it('parses every line of a real wrfsfcf00 .idx', () => {
    const entries = parseIdx(idx('20221014-hrrr.t01z.wrfsfcf00.grib2.idx'));
    assert.equal(entries.length, 170);
    assert.deepEqual(
      { ...entries[0], referenceTime: entries[0]!.referenceTime.toISOString() },
      {
        line: 1,
        messageNumber: '1',
        offset: 0,
        referenceTime: '2022-10-14T01:00:00.000Z',
        variable: 'REFC',
        level: 'entire atmosphere',
        forecast: 'anl',
        text: '1:0:d=2022101401:REFC:entire atmosphere:anl:',
      },
    );
    assert.equal(entries[2]!.variable, 'var discipline=0 center=7 local_table=1 parmcat=16 parm=201');
  });

  it('turns the REFC search into the byte range up to the next message', () => {
    const ranges = selectRanges(parseIdx(idx('20221014-hrrr.t01z.wrfsfcf00.grib2.idx')), /:REFC:entire atmosphere:/);
    assert.equal(ranges.length, 1);
    assert.deepEqual([ranges[0]!.start, ranges[0]!.end], [0, 464_699]);
  });

  it('runs the last message to the end of the object, or to its known size', () => {
    const entries = parseIdx(idx('20221014-hrrr.t09z.wrfsfcf05.grib2.idx'));
    const last = entries.at(-1)!;
    const [open] = selectRanges(entries, /:SBT114:/);
    assert.deepEqual([open!.start, open!.end], [last.offset, undefined]);
    const [closed] = selectRanges(entries, /:SBT114:/, 157_000_000);
    assert.equal(closed!.end, 156_999_999);
  });

  it('finds every REFC of a sub-hourly file, one range each', () => {
    const ranges = selectRanges(parseIdx(idx('20221014-hrrr.t03z.wrfsubhf09.grib2.idx')), /:REFC:/g);
    assert.deepEqual(
      ranges.map((range) => range.start),
      [0, 47_829_085, 96_318_685, 145_973_131],
    );
    assert.ok(ranges.every((range) => range.end !== undefined && range.end > range.start));
  });

  it('selects the ranges of an .idx of a million lines that all match, each to the next offset, in a child given a minute', () => {
    // A hang is told from an answer by killing the child: a look up of each line's next offset by its index in the offsets took a million lines to 5 * 10^11 steps.
    const script = `
      import { selectRanges } from ${JSON.stringify(pathToFileURL(join(repoRoot, 'dist', 'grib2', 'index.js')).href)};
      const lines = 1_000_000;
      const referenceTime = new Date('2019-09-20T00:00:00Z');
      const entries = Array.from({ length: lines }, (_, i) => ({ line: i + 1, messageNumber: String(i + 1), offset: i * 100, referenceTime, variable: 'REFC', level: 'entire atmosphere', forecast: 'anl', text: (i + 1) + ':' + i * 100 + ':d=2019092000:REFC:entire atmosphere:anl:' }));
      const ranges = selectRanges(entries, /:REFC:/, lines * 100);
      console.log(JSON.stringify([ranges.length, ranges[0].end, ranges.at(-1).start, ranges.at(-1).end]));`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(child.signal, null, 'selectRanges did not answer within the minute given');
    assert.deepEqual(JSON.parse(child.stdout), [1_000_000, 99, 99_999_900, 99_999_999]);
  });

  it('fields of one message (N.1, N.2) share one range', () => {
    const text = ['1:0:d=2019092005:REFC:entire atmosphere:anl:', '2.1:100:d=2019092005:UGRD:10 m above ground:anl:', '2.2:100:d=2019092005:VGRD:10 m above ground:anl:', '3:250:d=2019092005:TMP:2 m above ground:anl:'].join('\n');
    const ranges = selectRanges(parseIdx(text), /GRD:10 m/);
    assert.equal(ranges.length, 1);
    assert.deepEqual([ranges[0]!.start, ranges[0]!.end, ranges[0]!.entries.length], [100, 249, 2]);
  });

  it('a malformed line is an error naming the line', () => {
    assert.throws(() => parseIdx('1:0:d=2019092005:REFC:entire atmosphere:anl:\nnot an idx line\n'), (error: unknown) => error instanceof IdxFormatError && error.line === 2 && /line 2/.test(error.message));
    assert.throws(() => parseIdx('1:500:d=2019092005:A:b:anl:\n2:100:d=2019092005:C:d:anl:'), /offset 100 is before the previous line's 500/);
  });

  it('an empty .idx is an error, not an index of no messages (which made the fetch stage reject the object)', () => {
    for (const text of ['', '\n\n', ' \r\n']) {
      assert.throws(() => parseIdx(text), (error: unknown) => error instanceof IdxFormatError && /no lines/.test(error.message), JSON.stringify(text));
    }
  });

  it('an offset past 2^53 or a reference time that is not a date is an error naming the line, not a range or a date rolled over', () => {
    const first = '1:0:d=2019092005:REFC:entire atmosphere:anl:\n';
    for (const [line, message] of [
      [`2:${'9'.repeat(400)}:d=2019092005:TMP:surface:anl:`, /line 2: offset 9{40}\.\.\. is not a byte offset/],
      ['2:1152921504606846976:d=2019092005:TMP:surface:anl:', /line 2: offset 1152921504606846976 is not a byte offset/],
      ['2:100:d=2019132005:TMP:surface:anl:', /line 2: d=2019132005 is not a date and hour/],
      ['2:100:d=2019093105:TMP:surface:anl:', /line 2: d=2019093105 is not a date and hour/],
      ['2:100:d=2019092024:TMP:surface:anl:', /line 2: d=2019092024 is not a date and hour/],
    ] as const) {
      assert.throws(() => parseIdx(first + line), (error: unknown) => error instanceof IdxFormatError && error.line === 2 && message.test(error.message), line.slice(0, 40));
    }
  });
});
