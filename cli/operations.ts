import type { BuildInfo } from '../runtime/build-info.js';
import { processRegistry } from '../runtime/metrics.js';
import { startOperationsServer, type OperationsServer } from '../runtime/operations-server.js';
import type { ReadinessCheck } from '../runtime/readiness.js';
import type { LivenessCheck } from '../runtime/watchdog.js';
import { UsageError } from './usage.js';

/**
 * The operations server of a long-running command (`run`, `trainer`) when --metrics-port is
 * given; a port it cannot serve on is a usage error naming both settings and where they came from.
 */
export async function serveOperations(
  values: { metricsPort?: number | undefined; metricsHost: string },
  origin: (key: 'metricsPort' | 'metricsHost') => string,
  { readiness, liveness, build }: { readiness: ReadinessCheck; liveness: LivenessCheck; build: BuildInfo },
  usage: string,
): Promise<OperationsServer | undefined> {
  if (values.metricsPort === undefined) return undefined;
  return startOperationsServer({ host: values.metricsHost, port: values.metricsPort, registry: processRegistry(build), readiness, liveness }).catch((error: Error) => {
    throw new UsageError(`${origin('metricsHost')} ${JSON.stringify(values.metricsHost)}, ${origin('metricsPort')} ${values.metricsPort}: cannot serve there: ${error.message}`, usage);
  });
}
