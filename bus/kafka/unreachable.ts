import kafkajs from 'kafkajs';

// kafkajs is CommonJS: its error classes are not named exports Node can see.
const { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded } = kafkajs;

/**
 * kafkajs's error when no broker took a connection however often it tried (refused, no such host,
 * or no answer: "Closed connection"), as the brokers' address and the count of tries: its own
 * message names at most the last broker tried, and not that it gave up. Any other error (a broker
 * that answered and refused) is returned as it is.
 */
export function unreachable(url: string, error: unknown): unknown {
  if (!(error instanceof KafkaJSNumberOfRetriesExceeded && error.cause instanceof KafkaJSConnectionError)) return error;
  return new Error(`${url}: no broker answered (${error.retryCount + 1} tries): ${error.message}`, { cause: error });
}
