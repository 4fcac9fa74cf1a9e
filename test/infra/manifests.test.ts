import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { loadRetrainSettings, loadRunSettings, loadTrainerSettings } from '../../runtime/config.js';
import { startOperationsServer } from '../../runtime/operations-server.js';
import { repoRoot } from '../paths.js';

const venv = join(repoRoot, '.work', 'infra-venv', 'bin');
const infra = join(repoRoot, 'infra');
const k8sFiles = ['configmap.yaml', 'consumer.yaml', 'scaledobject.yaml', 'topics-job.yaml', 'retrain-cronjob.yaml'].map((name) => join(infra, 'k8s', name));
const work = mkdtempSync(join(tmpdir(), 'hrrr-embed-infra-'));
after(() => rmSync(work, { recursive: true, force: true }));

function tool(name: string, args: string[]) {
  const path = join(venv, name);
  assert.ok(existsSync(path), `${path} is missing: run infra/install-infra-checks.sh (npm test runs it)`);
  return spawnSync(path, args, { encoding: 'utf8', timeout: 60_000 });
}

/** The YAML documents of a file, parsed by PyYAML. */
function yamlDocuments(file: string): any[] {
  const result = tool('python', ['-c', 'import sys, json, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))', file]);
  assert.equal(result.status, 0, result.stderr);
  return (JSON.parse(result.stdout) as unknown[]).filter((document) => document !== null);
}

const manifests = k8sFiles.flatMap((file) => yamlDocuments(file));
const byKind = (kind: string) => manifests.filter((manifest) => manifest.kind === kind);
const compose = yamlDocuments(join(infra, 'compose.yaml'))[0];

/** The `create NAME PARTITIONS` lines of a topic-creation script. */
const topicLines = (script: string) => script.split('\n').map((line) => line.trim()).filter((line) => /^create [a-z-]+ \d+/.test(line));

/** Runs `hrrr-embed COMMAND --help`: its usage text, or undefined when there is no such command. */
function usageOf(command: string): string | undefined {
  const result = spawnSync(process.execPath, [join(repoRoot, 'dist', 'cli', 'main.js'), command, '--help'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout : undefined;
}

describe('infra/compose.yaml', () => {
  it('is valid against the Compose Specification, and an invalid copy is refused', () => {
    const valid = tool('check-jsonschema', ['--builtin-schema', 'vendor.compose-spec', join(infra, 'compose.yaml')]);
    assert.equal(valid.status, 0, valid.stdout + valid.stderr);
    const broken = join(work, 'compose.yaml');
    writeFileSync(broken, readFileSync(join(infra, 'compose.yaml'), 'utf8').replace('    stop_grace_period: 90s', '    stop_grace_period: 90s\n    restart_policy: always'));
    assert.notEqual(tool('check-jsonschema', ['--builtin-schema', 'vendor.compose-spec', broken]).status, 0);
  });

  it("runs the consumer with settings `run` accepts, and Kafka, a schema registry, an S3 store and the topics beside it", () => {
    for (const service of ['kafka', 'topics', 'schema-registry', 'minio', 'buckets', 'consumer', 'trainer']) assert.ok(compose.services[service], service);
    const consumer = compose.services.consumer;
    assert.equal(consumer.command[0], 'run');
    const settings = loadRunSettings(consumer.command.slice(1), consumer.environment).values;
    assert.equal(settings.kafka, 'kafka:9092');
    assert.equal(settings.partitions, 6);
    assert.equal(compose.services.kafka.image, 'apache/kafka:3.9.0');
  });
});

describe('infra/compose.yaml: the sample analyses', () => {
  it('points the consumer at the folder the samples service writes its analyses into (demo: DIR/source)', () => {
    const samples = compose.services.samples.command as string[];
    assert.equal(samples[0], 'demo');
    const dir = samples[samples.indexOf('--dir') + 1];
    assert.match(usageOf('demo') ?? '', /into DIR\/source in the bucket's\s+layout/);
    const consumer = compose.services.consumer;
    assert.equal(loadRunSettings(consumer.command.slice(1), consumer.environment).values.source, `${dir}/source`);
    assert.ok(consumer.volumes.includes(`${compose.services.samples.volumes[0].split(':')[0]}:${dir}:ro`), 'the samples volume, where the consumer looks');
  });
});

describe('infra/compose.yaml: ports on the host', () => {
  it('publishes every port on loopback only: Kafka takes no credentials, and MinIO\'s are in this file', () => {
    for (const [name, service] of Object.entries(compose.services as Record<string, any>)) {
      for (const port of service.ports ?? []) assert.match(String(port), /^127\.0\.0\.1:\d+:\d+$/, `${name}: ${port}`);
    }
  });

  it('advertises the Kafka port it publishes at an address the host can reach, so a client there (tail, run --kafka) is not sent to "kafka"', () => {
    const kafka = compose.services.kafka;
    const advertised = new Map<number, string>(
      String(kafka.environment.KAFKA_ADVERTISED_LISTENERS).split(',').map((listener) => {
        const match = /^\w+:\/\/([^:]*):(\d+)$/.exec(listener);
        assert.ok(match, listener);
        return [Number(match[2]), match[1]!];
      }),
    );
    assert.ok(kafka.ports?.length > 0, 'Kafka is published for the host');
    for (const port of kafka.ports) {
      const [, , hostPort, containerPort] = /^(.*:)?(\d+):(\d+)$/.exec(String(port))!;
      assert.equal(hostPort, containerPort, `${port}: the advertised port must be the one the host dials`);
      assert.match(advertised.get(Number(containerPort)) ?? '(none)', /^(localhost|127\.0\.0\.1)$/, `the listener on ${containerPort}`);
    }
  });
});

describe('infra/k8s', () => {
  it('is valid against the Kubernetes 1.37 API (strict: no unknown fields), and an invalid copy is refused', () => {
    const valid = tool('kubernetes-validate', ['--strict', ...k8sFiles]);
    assert.equal(valid.status, 0, valid.stdout + valid.stderr);
    for (const kind of ['ConfigMap', 'Deployment', 'Service', 'CronJob', 'Job']) assert.match(valid.stdout + valid.stderr, new RegExp(`passed for resource ${kind.toLowerCase()}/`), kind);
    const broken = join(work, 'consumer.yaml');
    writeFileSync(broken, readFileSync(join(infra, 'k8s', 'consumer.yaml'), 'utf8').replace('terminationGracePeriodSeconds: 90', 'terminationGracePeriodSecond: 90'));
    assert.notEqual(tool('kubernetes-validate', ['--strict', broken]).status, 0);
  });

  it("gives the consumer Deployment settings `run` accepts, from its ConfigMap and environment", () => {
    const [deployment] = byKind('Deployment');
    const container = deployment.spec.template.spec.containers[0];
    assert.deepEqual(container.args, ['run']);
    const configMap = byKind('ConfigMap').find((map) => map.metadata.name === deployment.spec.template.spec.volumes.find((v: any) => v.configMap).configMap.name);
    const file = join(work, 'run.json');
    writeFileSync(file, configMap.data['run.json']);
    const env = Object.fromEntries(container.env.map(({ name, value }: { name: string; value: string }) => [name, name === 'HRRR_EMBED_CONFIG' ? file : value]));
    assert.equal(container.env.find((e: any) => e.name === 'HRRR_EMBED_CONFIG').value, `${container.volumeMounts.find((m: any) => m.name === 'settings').mountPath}/run.json`);
    const settings = loadRunSettings([], env).values;
    assert.equal(settings.metricsPort, container.ports[0].containerPort);
    assert.equal(settings.metricsHost, '0.0.0.0');
    assert.ok(deployment.spec.template.spec.terminationGracePeriodSeconds > settings.drainSeconds, 'a drain fits in the grace period');
    assert.ok(deployment.spec.template.spec.securityContext.runAsNonRoot);
  });

  it('runs every pod as a namespace enforcing the Pod Security Standard "restricted" admits it (non-root, no privilege escalation, all capabilities dropped, the runtime\'s seccomp profile), hrrr-embed on a read-only root filesystem with /tmp its own', () => {
    const pods = [...byKind('Deployment'), ...byKind('Job')].map((owner) => owner.spec.template.spec).concat(byKind('CronJob').map((cron) => cron.spec.jobTemplate.spec.template.spec));
    assert.equal(pods.length, 3);
    for (const pod of pods) {
      for (const container of pod.containers) {
        const context = { ...pod.securityContext, ...container.securityContext };
        const name = container.name;
        assert.equal(context.runAsNonRoot, true, `${name}: runAsNonRoot`);
        assert.equal(container.securityContext?.allowPrivilegeEscalation, false, `${name}: allowPrivilegeEscalation`);
        assert.deepEqual(container.securityContext?.capabilities?.drop, ['ALL'], `${name}: capabilities`);
        assert.equal(context.seccompProfile?.type, 'RuntimeDefault', `${name}: seccompProfile`);
        if (!String(container.image).includes('hrrr-embed')) continue;
        assert.equal(container.securityContext.readOnlyRootFilesystem, true, `${name}: readOnlyRootFilesystem`);
        const tmp = container.volumeMounts?.find((mount: any) => mount.mountPath === '/tmp');
        assert.ok(tmp && pod.volumes.find((volume: any) => volume.name === tmp.name)?.emptyDir, `${name}: /tmp on an emptyDir`);
      }
    }
  });

  it("scales the consumer on its own group's lag on its events topic, to at most that topic's partition count", () => {
    const [scaled] = byKind('ScaledObject');
    const [deployment] = byKind('Deployment');
    const settings = JSON.parse(byKind('ConfigMap').find((map) => map.data['run.json']).data['run.json']);
    const [trigger] = scaled.spec.triggers;
    assert.equal(scaled.spec.scaleTargetRef.name, deployment.metadata.name);
    assert.equal(trigger.type, 'kafka');
    assert.equal(trigger.metadata.consumerGroup, settings.group);
    assert.equal(trigger.metadata.topic, settings.events);
    assert.equal(trigger.metadata.bootstrapServers, settings.kafka);
    assert.ok(Number(trigger.metadata.lagThreshold) >= 1);
    const script = byKind('ConfigMap').find((map) => map.data['create-topics.sh']).data['create-topics.sh'];
    const prefix = byKind('Job')[0].spec.template.spec.containers[0].env.find((e: any) => e.name === 'TOPIC_PREFIX').value;
    const events = topicLines(script).find((line) => `${prefix}${line.split(' ')[1]}` === settings.events);
    assert.ok(events, `the Job creates ${settings.events}`);
    assert.equal(scaled.spec.maxReplicaCount, Number(events.split(' ')[2]), 'one replica per partition at most');
  });

  it('creates the same topics with the same partition counts in Kubernetes and in compose', () => {
    const inCluster = byKind('ConfigMap').find((map) => map.data['create-topics.sh']).data['create-topics.sh'];
    assert.deepEqual(topicLines(inCluster), topicLines(readFileSync(join(infra, 'kafka', 'create-topics.sh'), 'utf8')));
    assert.deepEqual(topicLines(inCluster).map((line) => line.split(' ')[1]).slice(0, 4), ['embeddings', 'alerts', 'dead-letters', 'model-versions']);
  });
});

describe('the hrrr-embed commands the manifests run', () => {
  const invocations = [
    ...byKind('Deployment').map((d) => d.spec.template.spec.containers[0].args as string[]),
    ...byKind('CronJob').map((c) => c.spec.jobTemplate.spec.template.spec.containers[0].args as string[]),
    ...Object.values(compose.services as Record<string, any>).filter((s) => s.image === 'hrrr-embed:latest').map((s) => s.command as string[]),
  ];
  for (const args of invocations) {
    it(`${args.join(' ')}: every option is one the command knows`, () => {
      const usage = usageOf(args[0]!);
      assert.ok(usage, `hrrr-embed ${args[0]} --help`);
      for (const option of args.filter((arg) => arg.startsWith('--'))) assert.ok(usage.includes(option), `${args[0]} ${option}`);
    });
  }
});

/** The consumer's settings in Kubernetes: its ConfigMap's run.json under its container's environment. */
function clusterConsumerSettings() {
  const [deployment] = byKind('Deployment');
  const container = deployment.spec.template.spec.containers[0];
  const configMap = byKind('ConfigMap').find((map) => map.data['run.json']);
  const file = join(work, 'consumer-run.json');
  writeFileSync(file, configMap.data['run.json']);
  const env = Object.fromEntries(container.env.map(({ name, value }: { name: string; value: string }) => [name, name === 'HRRR_EMBED_CONFIG' ? file : value]));
  return loadRunSettings([], env).values;
}

describe("the trainer's settings in the manifests", () => {
  const trainers = [
    { where: 'the CronJob', container: byKind('CronJob')[0].spec.jobTemplate.spec.template.spec.containers[0], load: loadRetrainSettings },
    { where: 'compose', container: { args: compose.services.trainer.command, env: Object.entries(compose.services.trainer.environment).map(([name, value]) => ({ name, value })) }, load: loadTrainerSettings },
  ];
  for (const { where, container, load } of trainers) {
    it(`${where}: the trainer reads its Kafka broker from its own variables`, () => {
      const env = Object.fromEntries((container.env as Array<{ name: string; value?: string }>).filter((e) => e.value !== undefined).map(({ name, value }) => [name, value]));
      const { values } = load((container.args as string[]).slice(1), env);
      assert.ok(values.kafka, 'HRRR_EMBED_TRAINER_KAFKA');
      assert.ok(values.models?.startsWith('s3://') && values.shards?.startsWith('s3://'));
    });
  }

  it("the CronJob: each Job's run is named after the Job, so that the Job's next pod (the first died, was evicted or preempted) resumes its checkpoint rather than start over", () => {
    const cronJob = byKind('CronJob')[0];
    assert.ok(cronJob.spec.jobTemplate.spec.backoffLimit > 0, 'a Job that tries again');
    const container = cronJob.spec.jobTemplate.spec.template.spec.containers[0];
    const runId = (container.env as Array<{ name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }>).find((e) => e.name === 'HRRR_EMBED_TRAINER_RUN_ID');
    // The label the Job controller puts on each pod of a Job: the same for every pod of it, another for the next Job.
    assert.equal(runId?.valueFrom?.fieldRef?.fieldPath, "metadata.labels['batch.kubernetes.io/job-name']");
    const env = Object.fromEntries((container.env as Array<{ name: string; value?: string }>).filter((e) => e.value !== undefined).map(({ name, value }) => [name, value]));
    const { values } = loadRetrainSettings((container.args as string[]).slice(1), { ...env, HRRR_EMBED_TRAINER_RUN_ID: 'hrrr-embed-retrain-29415600' });
    assert.equal(values.runId, 'hrrr-embed-retrain-29415600', 'retrain takes it as its --run-id');
  });

  it("compose: the trainer serves its operations port on every interface, published on loopback, and its healthcheck asks that port's /healthz and exits 0 only on an answer", async () => {
    const trainer = compose.services.trainer;
    const { values } = loadTrainerSettings(trainer.command.slice(1), trainer.environment);
    assert.equal(values.metricsHost, '0.0.0.0', 'reachable from outside the container');
    assert.ok((trainer.ports as string[]).some((port) => port.endsWith(`:${values.metricsPort}`)), 'published');
    const [kind, ...command] = trainer.healthcheck.test as string[];
    assert.equal(kind, 'CMD');
    assert.ok(command.join(' ').includes(`http://127.0.0.1:${values.metricsPort}/healthz`));
    // The check itself, against an operations server on another port: alive, then gone.
    const server = await startOperationsServer({ host: '127.0.0.1', port: 0, registry: new Registry(), readiness: { check: () => ({ ready: false, reason: 'waiting' }) } });
    // Not spawnSync: the server answers from this process's event loop.
    const check = () =>
      new Promise<number | null>((resolve) => {
        const args = command.slice(1).map((arg) => arg.replace(`http://127.0.0.1:${values.metricsPort}`, server.url));
        spawn(command[0] === 'node' ? process.execPath : command[0]!, args, { stdio: 'ignore', timeout: 30_000 }).on('close', resolve);
      });
    assert.equal(command[0], 'node', "the image's own runtime, no curl needed");
    assert.equal(await check(), 0, 'alive');
    await server.close();
    assert.equal(await check(), 1, 'nothing listening');
  });

  // Without the consumers' registry, the trainer's model-versions records would be plain Avro on a
  // cluster whose other records are in Confluent's wire format, and their schema never registered.
  const consumers = [
    { where: 'the CronJob', consumer: clusterConsumerSettings },
    { where: 'compose', consumer: () => loadRunSettings(compose.services.consumer.command.slice(1), compose.services.consumer.environment).values },
  ];
  for (const [index, { where, consumer }] of consumers.entries()) {
    it(`${where}: the trainer publishes to the consumer's Kafka, under its topic prefix, with its schema registry`, () => {
      const { container, load } = trainers[index]!;
      const env = Object.fromEntries((container.env as Array<{ name: string; value?: string }>).filter((e) => e.value !== undefined).map(({ name, value }) => [name, value]));
      const trainer = load((container.args as string[]).slice(1), env).values;
      const settings = consumer();
      assert.equal(trainer.kafka, settings.kafka);
      assert.equal(trainer.topicPrefix, settings.topicPrefix);
      assert.equal(trainer.registry, settings.registry);
    });
  }
});

describe('infra/container/Dockerfile', () => {
  it('runs the command line as an unprivileged user in both targets', () => {
    const dockerfile = readFileSync(join(infra, 'container', 'Dockerfile'), 'utf8');
    const stages = dockerfile.split(/^FROM /m).slice(1);
    const finals = stages.filter((stage) => / AS (runtime|cuda)\b/.test(stage.split('\n')[0]!));
    assert.equal(finals.length, 2);
    for (const stage of finals) {
      assert.match(stage, /^USER (node|hrrr)$/m);
    }
    assert.match(dockerfile, /mesa-vulkan-drivers/);
    assert.match(dockerfile, /@tensorflow\/tfjs-node-gpu@4\.22\.0/);
  });

  it('leaves the folders it writes to group 0, writable by it, in both targets: OpenShift runs an image as an arbitrary uid of group 0', () => {
    const dockerfile = readFileSync(join(infra, 'container', 'Dockerfile'), 'utf8');
    const stage = (name: string) => dockerfile.split(/^FROM /m).find((text) => new RegExp(` AS ${name}\\b`).test(text.split('\n')[0]!))!;
    assert.match(stage('runtime'), /chown node:0 \/samples \/app\/\.work && chmod g=u \/samples \/app\/\.work/);
    assert.match(stage('cuda'), /chown -R hrrr:0 \/app \/samples && chmod -R g=u \/app \/samples/);
  });

  it('runs node under tini in both targets: as PID 1, node ignores a SIGTERM it has no handler for (while run starts, in every other command)', () => {
    const dockerfile = readFileSync(join(infra, 'container', 'Dockerfile'), 'utf8');
    const stage = (name: string) => dockerfile.split(/^FROM /m).find((text) => new RegExp(` AS ${name}\\b`).test(text.split('\n')[0]!))!;
    const [runtime, cuda] = [stage('runtime'), stage('cuda')];
    for (const target of [runtime, cuda]) assert.match(target, /^ENTRYPOINT \["\/usr\/bin\/tini", "--", "node", "\/app\/dist\/cli\/main\.js"\]$/m);
    assert.match(runtime, /apt-get install [^\n]*\btini\b/, 'Debian\'s tini in the runtime image');
    assert.match(cuda, /^COPY --from=runtime \/usr\/bin\/tini-static \/usr\/bin\/tini$/m, 'its static build in the cuda image (Ubuntu, another libc)');
  });

  it('records the commit of its COMMIT build argument (the context holds no .git) into build-info.json, which both targets carry', () => {
    const dockerfile = readFileSync(join(infra, 'container', 'Dockerfile'), 'utf8');
    const stage = (name: string) => dockerfile.split(/^FROM /m).find((text) => new RegExp(` AS ${name}\\b`).test(text.split('\n')[0]!))!;
    assert.match(stage('build'), /^ARG COMMIT=$/m);
    assert.match(stage('build'), /^RUN [^\n]*node dist\/infra\/record-build\.js "\$COMMIT"/m);
    assert.match(stage('runtime'), /^COPY --from=build \/app\/build-info\.json \.\/$/m);
    assert.match(stage('cuda'), /^COPY --from=runtime \/app \/app$/m, 'the cuda target takes the runtime\'s /app whole');
  });
});
