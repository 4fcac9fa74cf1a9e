import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openBus } from '../../bus/open.js';

describe('bus locations', () => {
  it('refuses a user and password written into the Kafka brokers (a connection string), without repeating them, and says where they go', () => {
    for (const kafka of ['alice:S3cretPw@broker:9092', 'kafka://alice:S3cretPw@broker:9092', 'SASL_SSL://alice:S3cret/Pw@broker-1:9092,broker-2:9092']) {
      assert.throws(
        () => openBus({ kafka }),
        (error: unknown) => error instanceof Error && !/alice|S3cret|Pw/.test(error.message) && /--kafka-username/.test(error.message) && /HRRR_EMBED_KAFKA_PASSWORD/.test(error.message),
        kafka,
      );
    }
  });
});
