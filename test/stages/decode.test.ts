import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Grib2Error, inventoryLine } from '../../grib2/index.js';
import { StageError, attributed, pipe, silentLogger, type Stage, type StageContext } from '../../stages/stage.js';
import { createDecodeStage } from '../../stages/transforms/decode.js';
import type { DecodedField } from '../../stages/types.js';
import { sharedData } from '../paths.js';
import { constantFieldClaiming } from '../support/hostile-grib2.js';

const context: StageContext = { log: silentLogger, signal: new AbortController().signal };
const source = { store: 'file://', key: 'hrrr.20221014.t01z.wrfsubhf.REFC-VBDSF.grib2' };
const bytes = readFileSync(join(sharedData, 'hrrr', source.key));

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('the decode stage', () => {
  it('yields every field of a file of several messages, with its source', async () => {
    const fields = await collect(createDecodeStage().process({ source, bytes }, context));
    assert.deepEqual(fields.map(({ field }) => field.parameter.shortName), ['REFC', 'VBDSF']);
    assert.ok(fields.every((field) => field.source === source && field.values.length === 1799 * 1059));
  });

  it('decodes only the fields whose inventory line matches, with the regex an .idx search uses', async () => {
    const fields = await collect(createDecodeStage({ match: /:REFC:entire atmosphere:/ }).process({ source, bytes }, context));
    assert.deepEqual(fields.map(({ field }) => inventoryLine(field)), ['1:0:d=2022101401:REFC:entire atmosphere:15 min fcst:']);
  });

  it('a failure is a StageError naming the stage, with the Grib2Error as its cause', async () => {
    const corrupt = Uint8Array.from(bytes.subarray(0, 1000));
    await assert.rejects(collect(attributed(createDecodeStage(), { source, bytes: corrupt }, context)), (error: unknown) => {
      assert.ok(error instanceof StageError);
      assert.equal(error.stage, 'decode');
      assert.ok(error.cause instanceof Grib2Error);
      assert.match(error.message, /^stage decode: GRIB2 section 0 at byte 8: message declares 432197 bytes/);
      return true;
    });
  });
});

describe('a message the decode stage cannot read, next to good ones', () => {
  const refcLength = 432197;
  /** The file with VBDSF's product template (its message's section 4, octets 8-9) changed to 4.32, which the decoder does not read. */
  function withUnreadableVbdsf(): Uint8Array {
    const copy = Uint8Array.from(bytes);
    const view = new DataView(copy.buffer);
    let at = refcLength + 16;
    while (copy[at + 4] !== 4) at += view.getUint32(at);
    view.setUint16(at + 7, 32);
    return copy;
  }

  it('does not cost the fields that match in the other messages: it is named in a warning', async () => {
    const warnings: object[] = [];
    const log = { ...silentLogger, warn: (object: object) => void warnings.push(object) };
    const fields = await collect(createDecodeStage({ match: /:REFC:/ }).process({ source, bytes: withUnreadableVbdsf() }, { ...context, log }));
    assert.deepEqual(fields.map(({ field }) => field.parameter.shortName), ['REFC']);
    assert.equal(warnings.length, 1);
    assert.match(JSON.stringify(warnings[0]), /"message":2.*GRIB2 section 4 template 4.32 at byte \d+: only product templates 4.0 and 4.8 are supported/);
  });

  it('fails the stage when no other field matches, or when every field is wanted', async () => {
    for (const match of [/:VBDSF:/, undefined]) {
      await assert.rejects(collect(createDecodeStage(match && { match }).process({ source, bytes: withUnreadableVbdsf() }, context)), (error: unknown) => {
        assert.ok(error instanceof Grib2Error);
        assert.equal(error.kind, 'unsupported-template');
        return true;
      });
    }
  });
});

describe('stages compose with pipe', () => {
  const maxima: Stage<DecodedField, number> = {
    name: 'maximum',
    async *process({ values }) {
      yield values.reduce((max, value) => (value > max ? value : max), -Infinity);
    },
  };
  const failing: Stage<number, number> = {
    name: 'failing',
    async *process(input) {
      throw new Error(`cannot take ${input}`);
    },
  };

  it('runs the second stage on every output of the first', async () => {
    const both = pipe(createDecodeStage(), maxima);
    assert.equal(both.name, 'decode | maximum');
    assert.deepEqual(await collect(both.process({ source, bytes }, context)), [73, 484]);
  });

  it('names the stage that failed, not the pipe', async () => {
    await assert.rejects(collect(pipe(pipe(createDecodeStage(), maxima), failing).process({ source, bytes }, context)), (error: unknown) => {
      assert.ok(error instanceof StageError);
      assert.equal(error.stage, 'failing');
      assert.equal(error.message, 'stage failing: cannot take 73');
      return true;
    });
  });
});

describe('a message that claims a grid other than the one the consumer takes', () => {
  const grid = { nx: 70, ny: 38 };

  it('is refused, naming both grids, before its values are unpacked: 188 bytes may claim 2^28 points (1 GiB of values)', async () => {
    const claiming = constantFieldClaiming(16_384, 16_384);
    await assert.rejects(collect(attributed(createDecodeStage({ grid }), { source, bytes: claiming }, context)), (error: unknown) => {
      assert.ok(error instanceof StageError);
      assert.equal(error.stage, 'decode');
      assert.match(error.message, /16384 x 16384 points.*70 x 38/);
      return true;
    });
  });

  it('lets a field on that grid through', async () => {
    const fields = await collect(createDecodeStage({ grid }).process({ source, bytes: constantFieldClaiming(70, 38) }, context));
    assert.deepEqual(fields.map(({ values }) => values.length), [70 * 38]);
  });
});
