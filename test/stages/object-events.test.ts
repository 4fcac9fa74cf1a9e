import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { timeOfKey } from '../../stages/sources/hrrr-archive.js';
import { ObjectEventError, parseObjectCreated } from '../../stages/sources/object-events.js';

const s3Event = {
  Records: [
    {
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'us-east-1',
      eventTime: '2019-09-20T05:51:02.123Z',
      eventName: 'ObjectCreated:Put',
      s3: { bucket: { name: 'noaa-hrrr-bdp-pds' }, object: { key: 'hrrr.20190920/conus/hrrr.t05z.wrfsfcf00.grib2', size: 104857600 } },
    },
    { eventName: 'ObjectRemoved:Delete', s3: { bucket: { name: 'noaa-hrrr-bdp-pds' }, object: { key: 'old' } } },
  ],
};

describe('object-created events (S3 notifications, plain or in an SNS envelope)', () => {
  it('reads the created objects of an S3 event notification and leaves other events out', () => {
    assert.deepEqual(parseObjectCreated(JSON.stringify(s3Event)), [
      { bucket: 'noaa-hrrr-bdp-pds', key: 'hrrr.20190920/conus/hrrr.t05z.wrfsfcf00.grib2', size: 104857600, eventTime: new Date('2019-09-20T05:51:02.123Z') },
    ]);
  });

  it('unwraps the SNS notification NOAA sends on NewHRRRObject', () => {
    const sns = { Type: 'Notification', MessageId: 'x', TopicArn: 'arn:aws:sns:us-east-1:123901341784:NewHRRRObject', Message: JSON.stringify(s3Event), Timestamp: '2019-09-20T05:51:02.200Z' };
    const [created] = parseObjectCreated(new TextEncoder().encode(JSON.stringify(sns)));
    assert.equal(created?.key, 'hrrr.20190920/conus/hrrr.t05z.wrfsfcf00.grib2');
    assert.deepEqual(timeOfKey(created!.key), new Date('2019-09-20T05:00:00Z'));
  });

  it('decodes URL-encoded keys and takes an S3 test event as no objects', () => {
    const encoded = { Records: [{ eventName: 'ObjectCreated:CompleteMultipartUpload', s3: { bucket: { name: 'b' }, object: { key: 'a+b%3Dc' } } }] };
    assert.equal(parseObjectCreated(JSON.stringify(encoded))[0]?.key, 'a b=c');
    assert.deepEqual(parseObjectCreated(JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent' })), []);
  });

  it('names what is wrong with a malformed message', () => {
    assert.throws(() => parseObjectCreated('{not json'), (error: unknown) => error instanceof ObjectEventError && /not JSON/.test(error.message));
    assert.throws(() => parseObjectCreated('{"Type":"Notification"}'), /SNS notification without a string "Message"/);
    assert.throws(() => parseObjectCreated('{"hello":1}'), /no "Records" array/);
    assert.throws(() => parseObjectCreated('{"Records":[{"eventName":"ObjectCreated:Put","s3":{}}]}'), /Records\[0\] has no s3.bucket.name/);
    const badEscape = { Records: [{ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'b' }, object: { key: 'hrrr.t00z%E0%A4%A' } } }] };
    assert.throws(() => parseObjectCreated(JSON.stringify(badEscape)), (error: unknown) => error instanceof ObjectEventError && /Records\[0\]: key "hrrr.t00z%E0%A4%A" is not URL-encoded/.test(error.message));
  });

  it('maps only keys of the configured product to their cycle hour', () => {
    assert.deepEqual(timeOfKey('hrrr.20190920/conus/hrrr.t05z.wrfsfcf00.grib2.idx'), new Date('2019-09-20T05:00:00Z'));
    assert.equal(timeOfKey('hrrr.20190920/conus/hrrr.t05z.wrfsfcf01.grib2'), undefined);
    assert.equal(timeOfKey('hrrr.20190920/alaska/hrrr.t05z.wrfsfcf00.grib2'), undefined);
    assert.deepEqual(timeOfKey('hrrr.20190920/conus/hrrr.t05z.wrfprsf00.grib2', { domain: 'conus', product: 'wrfprsf00' }), new Date('2019-09-20T05:00:00Z'));
  });

  it('maps a key to its own hour across day, month, year and leap-day ends, and no key to an hour that is not its own', () => {
    assert.deepEqual(timeOfKey('hrrr.20191231/conus/hrrr.t23z.wrfsfcf00.grib2'), new Date('2019-12-31T23:00:00Z'));
    assert.deepEqual(timeOfKey('hrrr.20200101/conus/hrrr.t00z.wrfsfcf00.grib2'), new Date('2020-01-01T00:00:00Z'));
    assert.deepEqual(timeOfKey('hrrr.20200229/conus/hrrr.t12z.wrfsfcf00.grib2'), new Date('2020-02-29T12:00:00Z'));
    // Date.UTC rolls these over to another hour, whose object the consumer would then have done for this key's event.
    for (const key of ['hrrr.20190229/conus/hrrr.t00z.wrfsfcf00.grib2', 'hrrr.21000229/conus/hrrr.t00z.wrfsfcf00.grib2', 'hrrr.20190920/conus/hrrr.t24z.wrfsfcf00.grib2', 'hrrr.20191301/conus/hrrr.t00z.wrfsfcf00.grib2', 'hrrr.20190900/conus/hrrr.t05z.wrfsfcf00.grib2.idx']) {
      assert.equal(timeOfKey(key), undefined, key);
    }
  });
});
