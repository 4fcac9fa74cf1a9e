import { parseArgs } from 'node:util';
import { defaultDataFolder } from '../bus/open.js';
import { requestRetraining } from '../training/requests.js';
import { commandBusFlags, openCommandBus } from './command-bus.js';
import { kafkaSecurityFlags, kafkaSecurityUsage } from './kafka-security.js';
import { commandLogger, storeOption } from './sources.js';
import { UsageError } from './usage.js';

export const requestRetrainUsage = `usage: hrrr-embed request-retrain --models LOC --reason TEXT [--force] [--data DIR | --kafka HOST:PORT]

Asks the trainer of model store LOC to retrain now: a RetrainRequest (requestedAt now, reason,
force) on the retrain-requests topic, keyed by the store's URL as the trainer names it (a folder
and its file:// URL are one store), so that only that store's trainer acts on it. A trainer that
is running hears it at once; one that is stopped, when it starts again (a group that has never
read the topic, or whose offsets Kafka dropped, starts with the requests of the last 24 hours).
Prints one JSON line: the request, its key, the bus, and the topic, partition and offset it was
written at.

  --models LOC       the model store the trainer trains (a folder or s3://BUCKET)
  --endpoint URL     an S3-compatible server for s3:// stores (default AWS_ENDPOINT_URL, else
                     AWS); --region R, the bucket's region (default us-east-1)
  --reason TEXT      who asks and why, for the trainer's log (required)
  --force            promote the candidate even when it is worse than the promoted version
  --data DIR         the trainer's embedded bus (a trainer given no bus reads ${defaultDataFolder})
  --kafka HOST:PORT  or Kafka; when no broker answers, it fails after 6 tries, about 10 s;
                     --registry URL, --registry-lookup-only, --topic-prefix P as for the trainer
${kafkaSecurityUsage}
  -v, --verbose      debug logs on stderr
exit codes: 0 sent; 1 not sent (no broker answering, the registry refusing the schema); 2 wrong command line.`;

export async function requestRetrainCommand(args: string[], out: (line: string) => void): Promise<void> {
  const { values: options, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      models: { type: 'string' },
      endpoint: { type: 'string' },
      region: { type: 'string' },
      reason: { type: 'string' },
      force: { type: 'boolean', default: false },
      ...commandBusFlags,
      verbose: { type: 'boolean', short: 'v' },
      ...kafkaSecurityFlags,
    },
  });
  if (positionals.length > 0) throw new UsageError(`request-retrain takes no argument (${JSON.stringify(positionals[0])}): the options say it all`, requestRetrainUsage);
  if (options.models === undefined) throw new UsageError('--models is required: the model store whose trainer is asked', requestRetrainUsage);
  const reason = options.reason?.trim();
  if (!reason) throw new UsageError('--reason is required: who asks and why, for the trainer\'s log', requestRetrainUsage);
  if (options.data === undefined && options.kafka === undefined) throw new UsageError(`give the trainer's bus: --data DIR (a trainer given no bus reads ${defaultDataFolder}) or --kafka HOST:PORT`, requestRetrainUsage);
  const log = commandLogger(options.verbose ?? false);
  const models = storeOption('--models', options.models, requestRetrainUsage, { log, ...(options.endpoint !== undefined && { endpoint: options.endpoint }), ...(options.region !== undefined && { region: options.region }) });
  const { bus, codec } = (await openCommandBus(options, ['retrainRequests'], 'sending the request', requestRetrainUsage))!;
  try {
    const request = { requestedAt: new Date(), reason, force: options.force };
    const written = await requestRetraining(bus, codec, models.url, request).catch((error: Error) => {
      throw new Error(`the retrain request was not sent (${error.message}): nothing was asked; request-retrain again sends it`, { cause: error });
    });
    log.info({ ...written, modelStore: models.url }, `retrain request for ${models.url} written to ${written.topic} on ${bus.url}`);
    out(JSON.stringify({ request: { ...request, requestedAt: request.requestedAt.toISOString() }, key: models.url, bus: bus.url, topic: written.topic, partition: written.partition, offset: written.offset }));
  } finally {
    await bus.close();
  }
}
