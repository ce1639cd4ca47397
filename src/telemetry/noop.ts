// Telemetry off: no spans, no metrics; a random trace id still identifies each request.
import { noopObserver } from '../routing/observer.js';
import { ids } from './ids.js';
import type { RequestTelemetry, Telemetry } from './types.js';

const handle = (): RequestTelemetry => ({
  traceId: ids.generateTraceId(),
  observer: noopObserver,
  finish() {},
});

export const noopTelemetry: Telemetry = {
  startRequest: handle,
  metricsText: async () => ({ contentType: 'text/plain; version=0.0.4', body: '' }),
  flush: async () => {},
  shutdown: async () => {},
};
