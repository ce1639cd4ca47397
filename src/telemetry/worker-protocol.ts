// Messages between the request thread (worker-sink.ts) and the export worker.
import type { PriceTable } from './pricing.js';
import type { RequestRecord } from './records.js';

export type ToWorker =
  | { t: 'records'; records: RequestRecord[]; spans: number; dropped: number }
  | { t: 'pricing'; table: PriceTable | undefined }
  | { t: 'metrics' | 'flush' | 'shutdown'; id: number };

export type FromWorker = { t: 'ack'; spans: number } | { t: 'reply'; id: number; value?: unknown; error?: string };
