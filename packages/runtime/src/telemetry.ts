import { createRequire } from 'node:module';
import { enableTracing } from '@bindery/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace';

export type { SpanExporter };

export interface TelemetryOptions {
  /** `service.name` of the process's spans: `orders`, `orders-worker`, `gateway`. */
  service: string;
  /** `service.instance.id`: tells the instances of one service apart. */
  instance: string;
  /**
   * Receives every span as it ends, one at a time (tests pass an `InMemorySpanExporter`).
   * @defaultValue an OTLP/HTTP exporter, batching, when `OTEL_EXPORTER_OTLP_ENDPOINT` or
   * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set; otherwise none, and nothing is started
   */
  spanExporter?: SpanExporter;
}

export interface Telemetry {
  /** False when no exporter was configured: no SDK runs and every span is the API's no-op. */
  enabled: boolean;
  /** Exports the spans still buffered and stops the SDK. */
  shutdown(): Promise<void>;
}

/** Paths a process answers for probes and scrapes: no trace is worth keeping for them. */
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics', '/procedures']);

let running: Promise<Telemetry> | undefined;

/**
 * Starts OpenTelemetry tracing for this process: W3C trace context in and out, spans for incoming
 * HTTP requests, outgoing `fetch` (the gateway's upstream calls and peer clients) and ioredis
 * commands. Call it once, first thing in a process; later calls return the running one.
 *
 * Without an exporter (no `spanExporter`, no `OTEL_EXPORTER_OTLP_ENDPOINT`) it starts nothing and
 * does not even load the SDK: `@opentelemetry/api` stays a no-op, so the spans Bindery's own code
 * opens (tRPC procedures, queries, jobs) cost a function call each, and calls pass on the
 * `traceparent` they came with. `OTEL_SDK_DISABLED=true` turns it off too. The SDK reads the other
 * standard `OTEL_*` variables (sampler, batch sizes, resource attributes, exporter headers).
 * https://opentelemetry.io/docs/languages/js/getting-started/nodejs/
 */
export function startTelemetry(options: TelemetryOptions): Promise<Telemetry> {
  running ??= start(options);
  return running;
}

async function start(options: TelemetryOptions): Promise<Telemetry> {
  const endpoint = process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const disabled = ['true', '1'].includes((process.env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase());
  if (disabled || (!options.spanExporter && !endpoint)) return { enabled: false, shutdown: async () => {} };

  // Loaded only when tracing is on: the SDK alone adds about 200 ms and 20 MB to a process's start.
  const [{ core, NodeSDK, resources }, { SimpleSpanProcessor }, http, undici, ioredis] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-undici'),
    import('@opentelemetry/instrumentation-ioredis'),
  ]);
  const sdk = new NodeSDK({
    resource: resources.resourceFromAttributes({
      'service.name': options.service,
      'service.namespace': 'bindery',
      'service.instance.id': options.instance,
    }),
    ...(options.spanExporter
      ? { spanProcessors: [new SimpleSpanProcessor({ exporter: options.spanExporter })] }
      : { traceExporter: new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter() }),
    textMapPropagator: new core.W3CTraceContextPropagator(),
    instrumentations: [
      new http.HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.has((req.url ?? '/').split('?', 1)[0]!),
        requireParentforOutgoingSpans: true,
      }),
      // Without a parent span it neither records nor injects: `traceHeaders` in @bindery/api relies
      // on that, sending the `traceparent` itself exactly when this instrumentation does not.
      new undici.UndiciInstrumentation({ requireParentforSpans: true }),
      new ioredis.IORedisInstrumentation({ requireParentSpan: true }),
    ],
    // Metrics are prom-client's (`/metrics`) and logs pino's (stdout): without these the SDK would
    // start OTLP exporters for both by default.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  enableTracing();
  // The processes are ES modules: `node:http` and `ioredis` were imported before this ran, and the
  // instrumentations hook only `require`. Requiring them now hands the instrumentations the same
  // module objects, whose prototypes (`Server.prototype.emit`, `Redis.prototype.sendCommand`) they
  // patch for every server and connection, including those made through the ESM imports.
  const require = createRequire(import.meta.url);
  require('node:http');
  require('ioredis');
  return { enabled: true, shutdown: () => sdk.shutdown() };
}
