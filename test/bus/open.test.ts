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

  it('refuses a broker port that is not one (0, or past 65535) at once, naming it: it was tried for 6 tries, or 2 minutes in run', () => {
    for (const [kafka, port] of [['127.0.0.1:99999', '99999'], ['broker-1:9092,broker-2:0', '0']] as const) {
      assert.throws(() => openBus({ kafka }), new Error(`${JSON.stringify(kafka)}: port ${port} is not one from 1 to 65535`), kafka);
    }
    assert.doesNotThrow(() => openBus({ kafka: 'broker-1:9092,broker-2:65535' }));
  });
});
