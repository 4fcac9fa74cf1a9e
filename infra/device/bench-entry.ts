/**
 * The entry point of the device bundle (infra/device/bundle.ts makes it into bench.mjs): the
 * benchmarks' command line, bench/main.ts, as it is. The bundle carries what `bench model`,
 * `bench train` and `bench consumer --no-kafka` need and nothing more; a benchmark that fails for
 * want of something it leaves out ends with a line that says so after its error.
 */
try {
  await import('../../bench/main.js');
} catch (error) {
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n\n` +
      'bench: this is the device bundle (npm run bundle:device), which carries Node.js code, dawn.node, the wasm ' +
      'binaries and the Avro schemas only: what needs ecCodes and a C compiler (decode), moto (backfill), a Kafka ' +
      'broker (bus, consumer without --no-kafka), the encoder thread (consumer --worker) or the shared HRRR files ' +
      '(shards) runs from the repository instead\n',
  );
  process.exitCode = 1;
}
