/**
 * A one-node Apache Kafka broker on loopback for tests and benchmarks: KRaft mode, broker and
 * controller in one JVM, replication factors 1, free ports chosen at start, data in a temporary
 * folder that stop() removes. The jars come from Maven Central once (fetch-jars.sh) into
 * .work/kafka/libs; Java 17 runs them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root, from infra/kafka/ or from its compiled copy in dist/infra/kafka/. */
const repoRoot = join(here, '..', '..', ...(here.split(/[\\/]/).includes('dist') ? ['..'] : []));
const libs = join(repoRoot, '.work', 'kafka', 'libs');
const classpath = `${libs}/*`;
// A small heap and the client JIT: the broker serves a few test topics, and starts faster so.
const jvmOptions = ['-Xms128m', '-Xmx512m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Djava.awt.headless=true'];

/** Consumer timing for tests on this broker: quick rebalances and closes, at more requests. */
export const testConsumerTiming = { heartbeatInterval: 500, sessionTimeout: 10_000, rebalanceTimeout: 10_000, maxWaitTimeInMs: 250 };

export interface TestBroker {
  /** "127.0.0.1:PORT", the bootstrap address for clients. */
  readonly address: string;
  /** Where the broker's log (stdout and stderr of the JVM) goes: read it when a test fails. */
  readonly logFile: string;
  /** With `secured`: "127.0.0.1:PORT" of the listener that takes SASL (PLAIN) only, over TLS when it has a `pemFile`. */
  readonly securedAddress: string | undefined;
  /** Stops the JVM and keeps the data, so that start() brings back the same broker and topics. */
  pause(): Promise<void>;
  /** Starts the broker again after pause(), on the same ports and data; resolves when it answers. */
  resume(): Promise<void>;
  /** Stops the JVM and removes the broker's data. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** How long to wait for the broker to answer describeCluster; default 120 s (a cold JVM on 2 cores). */
  readyTimeoutMs?: number;
  /**
   * A second listener, as a production cluster has: SASL PLAIN with these users and passwords,
   * over TLS with the key and certificate chain of `pemFile` (PEM: an unencrypted PKCS#8 key, then
   * the certificates): SASL_SSL; without `pemFile`, SASL_PLAINTEXT. The PLAINTEXT listener stays
   * for readiness and the broker.
   */
  secured?: { pemFile?: string; users: Record<string, string> };
  /**
   * ACLs enforced, as an administered cluster has them: the secured listener's users may do only
   * what ACLs allow them; the PLAINTEXT listener's clients (the tests' administrator) may do all.
   */
  acls?: boolean;
}

/** Starts a fresh broker and resolves once it answers a describeCluster request. */
export async function startBroker(options: StartOptions = {}): Promise<TestBroker> {
  ensureJars();
  const folder = await mkdtemp(join(tmpdir(), 'hrrr-embed-kafka-'));
  const [brokerPort, controllerPort, securedPort] = await freePorts(3);
  const address = `127.0.0.1:${brokerPort}`;
  const logFile = join(folder, 'broker.log');
  const properties = join(folder, 'server.properties');

  const readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
  let jvm: ChildProcess | undefined;
  // A test process that ends without stop() (a crash, process.exit) must not leave a broker behind.
  const cleanUpOnExit = () => {
    jvm?.kill('SIGKILL');
    rmSync(folder, { recursive: true, force: true });
  };
  process.once('exit', cleanUpOnExit);
  try {
    await writeFile(properties, serverProperties({ brokerPort: brokerPort!, controllerPort: controllerPort!, logDir: join(folder, 'data'), ...(options.secured && { secured: { port: securedPort!, ...options.secured } }), acls: options.acls ?? false }));
    formatStorage(properties, logFile);
    jvm = await launch(properties, logFile, address, readyTimeoutMs);
  } catch (error) {
    process.off('exit', cleanUpOnExit);
    await rm(folder, { recursive: true, force: true });
    throw error;
  }
  const halt = async () => {
    if (jvm) await terminate(jvm);
    jvm = undefined;
  };
  return {
    address,
    securedAddress: options.secured && `127.0.0.1:${securedPort}`,
    logFile,
    pause: halt,
    async resume() {
      if (jvm) throw new Error('the broker is running');
      jvm = await launch(properties, logFile, address, readyTimeoutMs);
    },
    async stop() {
      await halt();
      await rm(folder, { recursive: true, force: true });
      process.off('exit', cleanUpOnExit);
    },
  };
}

function serverProperties({ brokerPort, controllerPort, logDir, secured, acls }: { brokerPort: number; controllerPort: number; logDir: string; secured?: { port: number; pemFile?: string; users: Record<string, string> }; acls: boolean }): string {
  const users = secured && Object.entries(secured.users).map(([user, password]) => `user_${user}="${password}"`).join(' ');
  const protocol = secured?.pemFile === undefined ? 'SASL_PLAINTEXT' : 'SASL_SSL';
  const listener = protocol.toLowerCase();
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${brokerPort},CONTROLLER://127.0.0.1:${controllerPort}${secured ? `,${protocol}://127.0.0.1:${secured.port}` : ''}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${brokerPort}${secured ? `,${protocol}://127.0.0.1:${secured.port}` : ''}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT${secured ? `,${protocol}:${protocol}` : ''}`,
    ...(secured
      ? [
          `listener.name.${listener}.sasl.enabled.mechanisms=PLAIN`,
          `listener.name.${listener}.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required ${users};`,
          ...(secured.pemFile === undefined ? [] : [`listener.name.${listener}.ssl.keystore.type=PEM`, `listener.name.${listener}.ssl.keystore.location=${secured.pemFile}`]),
        ]
      : []),
    // The broker and the controller talk over PLAINTEXT as ANONYMOUS, which must stay allowed all.
    ...(acls ? ['authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer', 'super.users=User:ANONYMOUS', 'allow.everyone.if.no.acl.found=false'] : []),
    `log.dirs=${logDir}`,
    'num.partitions=1',
    'default.replication.factor=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=1',
    // A consumer group forms at once instead of waiting 3 s for more members.
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=false',
    '',
  ].join('\n');
}

function ensureJars(): void {
  if (existsSync(join(libs, '.pom.sha256'))) return;
  const fetched = spawnSync(join(repoRoot, 'infra', 'kafka', 'fetch-jars.sh'), { stdio: 'inherit' });
  if (fetched.status !== 0) throw new Error('infra/kafka/fetch-jars.sh failed: are Maven and Java 17 installed (infra/install-test-deps.sh)?');
}

function formatStorage(properties: string, logFile: string): void {
  const uuid = java(['kafka.tools.StorageTool', 'random-uuid'], logFile).trim().split('\n').at(-1)!;
  java(['kafka.tools.StorageTool', 'format', '--ignore-formatted', '-t', uuid, '-c', properties], logFile);
}

function java(args: string[], logFile: string): string {
  const result = spawnSync('java', [...jvmOptions, '-cp', classpath, ...args], { encoding: 'utf8' });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error('java is not on the PATH: the Kafka broker needs Java 17 (infra/install-test-deps.sh installs it)');
  }
  if (result.status !== 0) {
    throw new Error(`java ${args.slice(0, 2).join(' ')} failed (${result.error?.message ?? `exit ${result.status}`}): ${(result.stderr ?? '').slice(-2000)} (log: ${logFile})`);
  }
  return result.stdout;
}

async function launch(properties: string, logFile: string, address: string, readyTimeoutMs: number): Promise<ChildProcess> {
  // Opened here and now: opened later, off the main thread, it could reappear in a folder that an
  // exit (a benchmark's SIGTERM) is removing, and the folder stay.
  const log = createWriteStream(logFile, { fd: openSync(logFile, 'a') });
  const jvm = spawn('java', [...jvmOptions, '-cp', classpath, 'kafka.Kafka', properties], { stdio: ['ignore', 'pipe', 'pipe'] });
  jvm.stdout!.pipe(log);
  jvm.stderr!.pipe(log);
  const exited = new Promise<never>((_, reject) => {
    jvm.once('exit', (code, signal) => reject(new Error(`the Kafka broker exited (${signal ?? code}) before it was ready; log: ${logFile}\n${tail(logFile)}`)));
    jvm.once('error', reject);
  });
  exited.catch(() => {});
  // A JVM that exits ends the wait: asking a dead broker until the deadline would hold the process.
  const stopAsking = new AbortController();
  try {
    await Promise.race([waitUntilReady(address, readyTimeoutMs, logFile, stopAsking.signal), exited]);
  } catch (error) {
    await terminate(jvm);
    throw error;
  } finally {
    stopAsking.abort();
  }
  return jvm;
}

/** Asks the broker for its cluster description until it answers: the broker is ready when it says so. */
async function waitUntilReady(address: string, timeoutMs: number, logFile: string, stop: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const admin = new Kafka({ brokers: [address], clientId: 'hrrr-embed-readiness', logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 1000 }).admin();
  let lastError: unknown;
  try {
    while (Date.now() < deadline && !stop.aborted) {
      try {
        await admin.connect();
        const { brokers, controller } = await admin.describeCluster();
        if (brokers.length > 0 && controller !== null) return;
      } catch (error) {
        lastError = error;
        await admin.disconnect().catch(() => {});
      }
      await delay(100, undefined, { signal: stop }).catch(() => {});
    }
  } finally {
    await admin.disconnect().catch(() => {});
  }
  throw new Error(`the Kafka broker at ${address} did not answer within ${timeoutMs} ms (${String(lastError)}); log: ${logFile}\n${tail(logFile)}`);
}

async function terminate(jvm: ChildProcess): Promise<void> {
  if (jvm.exitCode !== null || jvm.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => jvm.once('exit', () => resolve()));
  jvm.kill('SIGTERM');
  const killer = setTimeout(() => jvm.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(killer);
}

async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(server));
    })),
  );
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

function tail(logFile: string): string {
  try {
    return readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '';
  }
}
