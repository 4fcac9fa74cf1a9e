/**
 * The entry point of the device bundle (infra/device/bundle.ts makes it into bench.mjs): the
 * benchmarks' command line, bench/main.ts, as it is. The bundle carries what `bench model` and
 * `bench train` need and nothing more; a benchmark that fails for want of something it leaves
 * out ends with a line that says so after its error, rather than with the error alone.
 */
try {
  await import('../../bench/main.js');
} catch (error) {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n\n` +
      'bench: this is the device bundle (npm run bundle:device), which carries Node.js code, dawn.node and the wasm ' +
      'binaries only: benchmarks that need ecCodes and a C compiler (decode), moto (backfill), a Kafka broker or the ' +
      'Avro schemas (bus, consumer) or the shared HRRR files (shards) run from the repository instead\n',
  );
  process.exitCode = 1;
}
