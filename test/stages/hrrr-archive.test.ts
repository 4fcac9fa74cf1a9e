import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatHour, gribKey, idxKey, parseHour } from '../../stages/sources/hrrr-archive.js';

describe('HRRR archive layout', () => {
  it('names the analysis objects as the noaa-hrrr-bdp-pds bucket does', () => {
    const time = new Date('2019-09-20T05:00:00Z');
    assert.equal(gribKey(time), 'hrrr.20190920/conus/hrrr.t05z.wrfsfcf00.grib2');
    assert.equal(idxKey(time, { domain: 'alaska', product: 'wrfprsf00' }), 'hrrr.20190920/alaska/hrrr.t05z.wrfprsf00.grib2.idx');
  });

  it('reads hours as written on the command line, and refuses anything else by name', () => {
    for (const text of ['2019-09-20T05Z', '2019-09-20T05:00Z', '2019-09-20T05:00:00Z', '2019-09-20T05']) assert.equal(formatHour(parseHour(text)), '2019-09-20T05Z');
    assert.equal(formatHour(parseHour('2019-09-20')), '2019-09-20T00Z');
    for (const text of ['2019-09-20T05:30Z', '2019-02-30T00Z', '2019-09-20T24Z', 'yesterday']) assert.throws(() => parseHour(text), new RegExp(`"${text}" is not an hour`));
  });
});
