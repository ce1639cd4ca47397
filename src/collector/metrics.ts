// Prometheus metrics of one collector instance, in its own registry so several collectors
// (tests, `switchyard dev`) can live in one process.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/** The counters one durable writer (spans or feedback) reports into. */
export interface SignalMetrics {
  received: Counter;
  rejected: Counter;
  written: Counter;
  queued: Gauge;
  spooled: Counter;
  replayed: Counter;
  refused: Counter;
  dropped: Counter;
  spoolBytes: Gauge;
  spoolRows: Gauge;
  storeUp: Gauge;
}

export interface CollectorMetrics {
  registry: Registry;
  spans: SignalMetrics;
  feedback: SignalMetrics;
  httpRequests: Counter<'route' | 'status'>;
}

function signalMetrics(registry: Registry, signal: 'spans' | 'feedback'): SignalMetrics {
  const what = signal === 'spans' ? 'spans' : 'feedback rows';
  const counter = (name: string, help: string) =>
    new Counter({ name: `switchyard_collector_${signal}_${name}_total`, help, registers: [registry] });
  const gauge = (name: string, help: string) =>
    new Gauge({ name: `switchyard_collector_${signal}_${name}`, help, registers: [registry] });
  return {
    received: counter('received', `${what} received in decodable requests`),
    rejected: counter('rejected', `${what} rejected as invalid (reported in partial_success or a 400)`),
    written: counter('written', `${what} written to the store directly`),
    queued: gauge('queued', `${what} buffered in memory, waiting for the store or the spool`),
    spooled: counter('spooled', `${what} appended to the on-disk spool while the store was unavailable`),
    replayed: counter('replayed', `${what} replayed from the spool into the store`),
    refused: counter('refused', `${what} refused with 429 because the memory buffer was full`),
    dropped: counter('dropped', `${what} refused with 503 because the store was down and the spool full`),
    spoolBytes: gauge('spool_bytes', `bytes of ${what} waiting in the on-disk spool`),
    spoolRows: gauge('spool_rows', `${what} waiting in the on-disk spool`),
    storeUp: gauge('store_up', `1 when the last store write of ${what} succeeded, 0 while spooling`),
  };
}

export function createCollectorMetrics(): CollectorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'switchyard_collector_' });
  return {
    registry,
    spans: signalMetrics(registry, 'spans'),
    feedback: signalMetrics(registry, 'feedback'),
    httpRequests: new Counter({
      name: 'switchyard_collector_http_requests_total',
      help: 'HTTP requests answered by the collector, by route and status',
      labelNames: ['route', 'status'],
      registers: [registry],
    }),
  };
}
