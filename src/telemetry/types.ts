// The gateway's view of telemetry: one handle per request, plus /metrics and shutdown.
import type { IncomingHttpHeaders } from 'node:http';
import type { Operation } from '../providers/types.js';
import type { RequestObserver } from '../routing/observer.js';
import type { ExecResult } from '../routing/executor.js';
import type { PriceTable } from './pricing.js';
import type { EventRecord } from './records.js';

export interface RequestSummary {
  switchyardTraceId: string;
  configId: string;
  strategy: string;
  metadata: Record<string, string>;
  status: number;
  result?: ExecResult;
  errorType?: string;
  /** Request-span attributes the policy stages added (switchyard.virtual_key, switchyard.budget.*). */
  attributes?: Record<string, string | number | boolean>;
  /** Request-span events the policy stages added (switchyard.guardrail, one per check). */
  events?: EventRecord[];
}

export interface RequestTelemetry {
  /** W3C trace id of the request span ('' when telemetry is off). */
  readonly traceId: string;
  readonly observer: RequestObserver;
  finish(summary: RequestSummary): void;
}

export interface Telemetry {
  startRequest(op: Operation, route: string, headers: IncomingHttpHeaders): RequestTelemetry;
  metricsText(): Promise<{ contentType: string; body: string }>;
  /** Exports what is queued now (the demo waits for its spans before reporting). */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
  /** Applies the config's `pricing:` overrides (at start and on every reload). */
  setPricing?(overrides: PriceTable | undefined): void;
}
