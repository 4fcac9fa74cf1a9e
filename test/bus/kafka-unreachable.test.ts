import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { unreachable } from '../../bus/kafka/unreachable.js';

const { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } = kafkajs;
// What a connection that timed out gives (kafkajs's types leave it out): a KafkaJSConnectionError too.
const { KafkaJSConnectionClosedError } = kafkajs as unknown as { KafkaJSConnectionClosedError: typeof KafkaJSConnectionError };

describe('unreachable', () => {
  it('names the brokers and the tries when every connection failed: refused, no such host, or no answer ("Closed connection")', () => {
    for (const cause of [new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:1'), new KafkaJSConnectionClosedError('Closed connection')]) {
      const error = unreachable('kafka://10.255.255.1:9092', new KafkaJSNumberOfRetriesExceeded(cause, { retryCount: 5, retryTime: 4_800 }));
      assert.equal((error as Error).message, `kafka://10.255.255.1:9092: no broker answered (6 tries): ${cause.message}`);
    }
  });

  it('leaves a broker’s own refusal as it is', () => {
    const refusal = new KafkaJSNumberOfRetriesExceeded(new KafkaJSProtocolError('SASL PLAIN authentication failed'), { retryCount: 0, retryTime: 300 });
    assert.equal(unreachable('kafka://127.0.0.1:9093', refusal), refusal);
  });
});
