// Messages between the request thread (worker-sink.ts) and the export worker.
import type { PriceTable } from './pricing.js';
import type { EncodedBatch } from './record-codec.js';

/** The longest shutdown waits for queued spans to be sent (a terminating pod is not held longer). */
export const SHUTDOWN_FLUSH_MS = 2_000;

export type ToWorker =
  | { t: 'records'; batch: EncodedBatch; spans: number; dropped: number }
  | { t: 'pricing'; table: PriceTable | undefined }
  | { t: 'metrics' | 'flush' | 'shutdown'; id: number };

export type FromWorker = { t: 'ack'; spans: number } | { t: 'reply'; id: number; value?: unknown; error?: string };
