// One-off measurement, not a test (it takes about 8 minutes): how long a KafkaBus send takes to
// fail once the broker stops answering (its JVM stopped with SIGSTOP: connections stay open, no
// answer comes). Run after `npx tsc -p tsconfig.json`: node notes/measure-kafka-frozen-send.mjs
// Measured 2026-11-25 on the 2-core machine: failed after 452.7 s, KafkaJSNumberOfRetriesExceeded.
import { execSync } from 'node:child_process';
import { startBroker } from '../dist/infra/kafka/broker.js';
import { KafkaBus } from '../dist/bus/kafka/kafka-bus.js';

const broker = await startBroker();
const log = { info() {}, debug() {}, trace() {}, fatal() {}, warn: (_, message) => console.error('warn', message), error: (_, message) => console.error('error', message), child: () => log };
const bus = new KafkaBus({ brokers: [broker.address], log });
const record = (text) => ({ key: Buffer.from('k'), value: Buffer.from(text) });
await bus.createTopic('t');
await bus.produce('t', [record('answered')]);
// The broker's JVM is the one whose command line names this broker's own folder.
const folder = broker.logFile.replace(/\/broker\.log$/, '');
const pid = execSync(`ps -eo pid,args | grep -F ${folder}/server.properties | grep -v grep | awk '{print $1}'`).toString().trim();
execSync(`kill -STOP ${pid}`);
const started = performance.now();
try {
  await bus.produce('t', [record('unanswered')]);
  console.error(`produced after ${((performance.now() - started) / 1000).toFixed(1)} s`);
} catch (error) {
  console.error(`failed after ${((performance.now() - started) / 1000).toFixed(1)} s: ${error.name}: ${error.message}`);
}
execSync(`kill -CONT ${pid}`);
await bus.close().catch(() => {});
await broker.stop();
