import { parseArgs } from 'node:util';
import { AvroCodec } from '../bus/avro/codec.js';
import { listSchemaFiles } from '../bus/avro/schema-files.js';
import { SchemaRegistryClient, type Compatibility } from '../bus/avro/schema-registry.js';
import { defaultTopics, topicNames, type TopicRole } from '../bus/bus.js';
import { optionOrUsage, UsageError } from './usage.js';

const compatibilities: Compatibility[] = ['BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE', 'NONE'];

export const schemasUsage = `usage: hrrr-embed schemas register --registry URL [--topic-prefix P] [--compatibility RULE]
       hrrr-embed schemas list [--topic-prefix P]

register: registers the key and value schemas of every topic (schemas/*.avsc) in a
Confluent-compatible schema registry, under TOPIC-key and TOPIC-value, as run, retrain and
trainer would at their start: for a registry where those may only look them up
(--registry-lookup-only), run by someone who may register. Prints one JSON line per subject: subject, id, schema file. Registering a
schema that is there already changes nothing; one the subject's compatibility rule refuses fails,
naming the file and the subject (exit 1).

  --registry URL        the registry; a user and password in it (https://KEY:SECRET@HOST) are
                        sent as basic auth (or HRRR_EMBED_REGISTRY)
  --topic-prefix P      the topics' prefix, as run is given it (default none)
  --compatibility RULE  then set each subject's compatibility rule: ${compatibilities.join(', ')}
                        (BACKWARD is how this project's schemas evolve; default: leave it)

list: prints one JSON line per schema file of this build, for a reader of the topics in another
stack: topic, part (key or value), file (schemas/ holds the current ones, schemas/past/ the
earlier ones records may still have been written with), current, fingerprint (SHA-256, in hex, of
the schema's Parsing Canonical Form: what a record's avro.key.schema-sha256 or
avro.value.schema-sha256 header carries) and version (its place among the released versions of
schemas/released.json, 1 the first; null where it was never released). By topic, key before
value, the past versions oldest first.`;

export async function schemasCommand(args: string[], out: (line: string) => void): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      registry: { type: 'string' },
      'topic-prefix': { type: 'string', default: '' },
      compatibility: { type: 'string' },
    },
  });
  if (positionals.length !== 1 || (positionals[0] !== 'register' && positionals[0] !== 'list')) throw new UsageError('schemas takes one subcommand: register or list', schemasUsage);
  const topics = optionOrUsage('--topic-prefix', schemasUsage, () => topicNames(values['topic-prefix']));
  if (positionals[0] === 'list') {
    for (const option of ['registry', 'compatibility'] as const) if (values[option] !== undefined) throw new UsageError(`--${option} is for schemas register; schemas list reads only the files`, schemasUsage);
    for (const { role, part, file, current, fingerprint, version } of await listSchemaFiles()) out(JSON.stringify({ topic: topics[role], part, file, current, fingerprint, version }));
    return;
  }
  const url = values.registry ?? (process.env.HRRR_EMBED_REGISTRY || undefined);
  if (url === undefined) throw new UsageError('--registry is required', schemasUsage);
  const compatibility = values.compatibility?.toUpperCase() as Compatibility | undefined;
  if (compatibility !== undefined && !compatibilities.includes(compatibility)) throw new UsageError(`--compatibility: ${JSON.stringify(values.compatibility)} is not one of ${compatibilities.join(', ')}`, schemasUsage);
  const registry = optionOrUsage('--registry', schemasUsage, () => new SchemaRegistryClient(url));
  const codec = await AvroCodec.create({ topics, registry });
  for (const { subject, id, file } of await codec.registerSchemas(Object.keys(defaultTopics) as TopicRole[])) {
    if (compatibility !== undefined) await registry.setCompatibility(subject, compatibility);
    out(JSON.stringify({ subject, id, schema: file, ...(compatibility !== undefined && { compatibility }) }));
  }
}
