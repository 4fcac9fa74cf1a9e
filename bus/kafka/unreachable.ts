/**
 * kafkajs's error when no broker took a connection however often it tried, as the brokers' address
 * and the count of tries: its own message names only the last broker tried, and not that it gave up.
 * Any other error (a broker that answered and refused) is returned as it is.
 */
export function unreachable(url: string, error: unknown): unknown {
  const { name, cause, retryCount } = error as { name?: string; cause?: { name?: string }; retryCount?: number };
  if (name !== 'KafkaJSNumberOfRetriesExceeded' || cause?.name !== 'KafkaJSConnectionError' || retryCount === undefined) return error;
  return new Error(`${url}: no broker answered (${retryCount + 1} tries): ${(error as Error).message}`, { cause: error });
}
