// The collector's HTTP server: OTLP/HTTP traces, feedback intake, health and metrics, in
// front of two durable writers (spans → otel_traces, feedback → llm_feedback).
// node:http directly: the ingest path is one route and every microsecond is per request.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { applyServerLimits, DEFAULT_SERVER_LIMITS } from '../http-limits.js';
import { logger } from '../logger.js';
import { encodeFeedbackRows, encodeTraceRows, type EncodedKind } from '../store/rows.js';
import type { FeedbackRow, OtelTraceRow, SpanStore } from '../store/types.js';
import { handleFeedback, sendError, sendJson } from './feedback-route.js';
import { DecodePool } from './decode-pool.js';
import { otlpAuthorized } from './ingest-auth.js';
import { createCollectorMetrics } from './metrics.js';
import { Spool } from './spool.js';
import { handleTraces } from './traces-route.js';
import { DurableWriter } from './writer.js';

// Span payloads in the spool, by format version: 1 = JSONCompactEachRow lines (written by
// versions before Native blocks), 2 = Native blocks (encodeTraceRows). Old segments still replay.
const SPAN_SPOOL_FORMAT = 2;
const SPAN_FORMAT_KINDS: Record<number, EncodedKind> = { 1: 'tracesJson', 2: 'traces' };

function spanPayloadKind(format: number): EncodedKind {
  const kind = SPAN_FORMAT_KINDS[format];
  if (!kind)
    throw new Error(
      `spool segment has span payload format ${format}, which this version cannot read (written by a newer one?)`,
    );
  return kind;
}

// Feedback bodies are a trace id, a score and a little metadata (the sidecar enforces the same).
const FEEDBACK_MAX_BODY_BYTES = 64 * 1024;

export interface CollectorOptions {
  store: SpanStore;
  /** Spool folder; spans and feedback get a subfolder each. */
  spoolDir: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  maxBodyBytes?: number;
  batchSize?: number;
  flushIntervalMs?: number;
  /** With no write running, this many waiting rows start one without waiting for the interval. */
  eagerFlushRows?: number;
  /** When set, POST /v1/feedback requires `Authorization: Bearer <token>`. */
  feedbackToken?: string;
  /** When set, OTLP ingest (POST /v1/traces) requires `Authorization: Bearer <token>`, and so does
   *  feedback when `feedbackToken` is not set. */
  ingestToken?: string;
  /** Slow clients (src/http-limits.ts): the request head, then the whole request, within these. */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  maxHeaderBytes?: number;
  /** Acknowledged rows not yet stored, per writer, before senders get 429 (store up). */
  maxBufferedRows?: number;
  /** Spool (write-ahead log) size bound per writer; past it senders get 503. */
  maxSpoolBytes?: number;
  retryIntervalMs?: number;
  maxRetryIntervalMs?: number;
  insertTimeoutMs?: number;
  /** Idle store ping period; a failed ping switches writes to the spool (0 = off). */
  healthCheckIntervalMs?: number;
  /** How long close() waits for buffered rows to reach the store before spooling them. */
  closeTimeoutMs?: number;
  /** Store writes in flight at once per writer while the store is healthy. */
  maxConcurrentWrites?: number;
  /** Rows that must wait before a write starts beside one already running. */
  concurrentWriteRows?: number;
  /** Worker threads decoding export bodies (0: in the request thread). Default: one per core, at most 4. */
  decodeThreads?: number;
}

export interface RunningCollector {
  port: number;
  url: string;
  /** Prometheus text of GET /metrics (also handy in tests). */
  metricsText(): Promise<string>;
  /**
   * Resolves once every decode worker takes requests (or after `timeoutMs`; true when all do).
   * Until then exports are decoded in the request thread: accepted at once, just slower.
   */
  decodersReady(timeoutMs?: number): Promise<boolean>;
  /** Stops accepting, flushes buffered rows (store, else spool), closes the server. */
  close(): Promise<void>;
}

export const COLLECTOR_DEFAULTS = {
  host: '0.0.0.0',
  port: 4318,
  // The OpenTelemetry Collector's default max_request_body_size.
  maxBodyBytes: 20 * 1024 * 1024,
  // OTel SDK exporters give up on a request after 10 s, so 30 s for one is already generous.
  headersTimeoutMs: DEFAULT_SERVER_LIMITS.headersTimeoutMs,
  requestTimeoutMs: DEFAULT_SERVER_LIMITS.requestTimeoutMs,
  keepAliveTimeoutMs: DEFAULT_SERVER_LIMITS.keepAliveTimeoutMs,
  maxHeaderBytes: DEFAULT_SERVER_LIMITS.maxHeaderBytes,
  // A segment of the write-ahead spool is one insert: large ones cost ClickHouse far less per
  // row (bench/ingest.ts). The interval bounds the visibility delay at light load, where it
  // also sets the insert size: each insert costs the engine a fixed ~100 ms of CPU (a part per
  // table and materialized view, then their merges), so at 1,500 spans/s 500 ms made that most
  // of the cost per span, 2 s a quarter of it (bench/collector-batch.ts).
  batchSize: 65_536,
  flushIntervalMs: 2_000,
  eagerFlushRows: 16_384,
  maxBufferedRows: 100_000,
  maxSpoolBytes: 1024 * 1024 * 1024,
  retryIntervalMs: 500,
  maxRetryIntervalMs: 10_000,
  // Below the OpenTelemetry SDK exporters' 10 s timeout: a stuck store write is spooled and
  // acknowledged before the sender gives up and resends (which would duplicate spans).
  insertTimeoutMs: 8_000,
  healthCheckIntervalMs: 5_000,
  closeTimeoutMs: 10_000,
  // Measured with bench/ingest.ts: a second insert keeps the engine busy while the first one's
  // rows are parsed and the next segment fills.
  maxConcurrentWrites: 2,
  concurrentWriteRows: 16_384,
  // Decoding, mapping and encoding spans is most of the ingest CPU in JS; on its own threads it
  // runs beside HTTP and the spool instead of capping them. One per core up to 4: on 2 cores,
  // 2 threads beat 1 end to end (~43.5k vs ~40k spans/s, bench/ingest.ts) although the engine
  // shares the cores.
  decodeThreads: Math.max(1, Math.min(4, os.availableParallelism())),
} as const;

export async function startCollector(options: CollectorOptions): Promise<RunningCollector> {
  const o = { ...COLLECTOR_DEFAULTS, ...stripUndefined(options), store: options.store, spoolDir: options.spoolDir };
  const metrics = createCollectorMetrics();
  const writerOpts = {
    batchSize: o.batchSize,
    flushIntervalMs: o.flushIntervalMs,
    eagerFlushRows: o.eagerFlushRows,
    maxBufferedRows: o.maxBufferedRows,
    retryIntervalMs: o.retryIntervalMs,
    maxRetryIntervalMs: o.maxRetryIntervalMs,
    insertTimeoutMs: o.insertTimeoutMs,
    healthCheckIntervalMs: o.healthCheckIntervalMs,
    maxConcurrentWrites: o.maxConcurrentWrites,
    concurrentWriteRows: o.concurrentWriteRows,
    ping: () => o.store.ping(),
  };
  const decoder = new DecodePool(o.decodeThreads);
  const spanWriter = new DurableWriter<OtelTraceRow>({
    ...writerOpts,
    name: 'spans',
    encode: encodeTraceRows,
    insert: (payload, format) => o.store.insertEncoded(spanPayloadKind(format), payload),
    spool: await Spool.open(path.join(o.spoolDir, 'spans'), o.maxSpoolBytes, {
      legacyEncode: (rows) => encodeTraceRows(rows as OtelTraceRow[]),
      format: SPAN_SPOOL_FORMAT,
    }),
    metrics: metrics.spans,
  });
  const feedbackWriter = new DurableWriter<FeedbackRow>({
    ...writerOpts,
    name: 'feedback',
    encode: encodeFeedbackRows,
    insert: (payload) => o.store.insertEncoded('feedback', payload),
    spool: await Spool.open(path.join(o.spoolDir, 'feedback'), o.maxSpoolBytes, {
      legacyEncode: (rows) => encodeFeedbackRows(rows as FeedbackRow[]),
    }),
    metrics: metrics.feedback,
  });
  const retryAfter = {
    retryAfterFullSeconds: 1,
    retryAfterUnavailableSeconds: Math.max(1, Math.ceil(o.maxRetryIntervalMs / 1000)),
  };
  let closing = false;

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<[string, number]> {
    const url = req.url ?? '/';
    const pathname = url.split('?')[0];
    if (closing && req.method === 'POST') {
      req.resume();
      return [
        pathname,
        sendError(
          res,
          503,
          'api_error',
          'shutting_down',
          'collector is shutting down',
          {},
          { 'retry-after': '1', connection: 'close' },
        ),
      ];
    }
    if (pathname === '/v1/traces') {
      if (req.method !== 'POST') return [pathname, methodNotAllowed(req, res, 'POST')];
      if (!otlpAuthorized(o.ingestToken, req, res)) return [pathname, 401];
      return [
        pathname,
        await handleTraces(req, res, {
          writer: spanWriter,
          decoder,
          metrics: metrics.spans,
          maxBodyBytes: o.maxBodyBytes,
          ...retryAfter,
        }),
      ];
    }
    if (pathname === '/v1/feedback') {
      if (req.method !== 'POST') return [pathname, methodNotAllowed(req, res, 'POST')];
      return [
        pathname,
        await handleFeedback(req, res, {
          writer: feedbackWriter,
          metrics: metrics.feedback,
          token: o.feedbackToken ?? o.ingestToken,
          maxBodyBytes: Math.min(o.maxBodyBytes, FEEDBACK_MAX_BODY_BYTES),
          ...retryAfter,
        }),
      ];
    }
    if (pathname === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      return [pathname, sendJson(res, 200, { status: 'ok' })];
    }
    if (pathname === '/metrics' && req.method === 'GET') {
      const text = await metrics.registry.metrics();
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      res.end(text);
      return [pathname, 200];
    }
    if (pathname === '/healthz' || pathname === '/metrics')
      return [pathname, methodNotAllowed(req, res, pathname === '/healthz' ? 'GET, HEAD' : 'GET')];
    req.resume();
    return [
      'other',
      sendError(res, 404, 'invalid_request_error', 'not_found', `no route for ${req.method} ${pathname}`),
    ];
  }

  const server = http.createServer((req, res) => {
    route(req, res)
      .then(([name, status]) => metrics.httpRequests.inc({ route: knownRoute(name), status: String(status) }))
      .catch((err: unknown) => {
        const route = knownRoute((req.url ?? '').split('?')[0]);
        // A client that went away mid-body (or sent a malformed one, answered by clientError
        // below) is no collector failure.
        if (req.socket.destroyed) return void metrics.httpRequests.inc({ route, status: 'aborted' });
        logger.error('collector request failed', { path: req.url, error: (err as Error)?.message ?? String(err) });
        if (!res.headersSent) sendError(res, 500, 'api_error', 'internal_error', 'internal error');
        else res.destroy();
        metrics.httpRequests.inc({ route, status: '500' });
      });
  });
  applyServerLimits(
    server,
    {
      headersTimeoutMs: o.headersTimeoutMs,
      requestTimeoutMs: o.requestTimeoutMs,
      keepAliveTimeoutMs: o.keepAliveTimeoutMs,
      maxHeaderBytes: o.maxHeaderBytes,
    },
    (status, code, message) => ({ error: { message, type: 'invalid_request_error', code, status } }),
  );

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = o.host === '0.0.0.0' || o.host === '::' ? '127.0.0.1' : o.host;
  logger.info('collector listening', { host: o.host, port });

  let closed: Promise<void> | undefined;
  return {
    port,
    url: `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`,
    metricsText: () => metrics.registry.metrics(),
    decodersReady: (timeoutMs?: number) => decoder.ready(timeoutMs),
    close() {
      closed ??= (async () => {
        closing = true;
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await Promise.all([spanWriter.close(o.closeTimeoutMs), feedbackWriter.close(o.closeTimeoutMs)]);
        // Requests that were waiting on the writers have been answered by now.
        server.closeIdleConnections();
        const grace = setTimeout(() => server.closeAllConnections(), 1000);
        await serverClosed;
        clearTimeout(grace);
        await decoder.close();
      })();
      return closed;
    },
  };
}

function methodNotAllowed(req: http.IncomingMessage, res: http.ServerResponse, allow: string): number {
  req.resume();
  return sendError(res, 405, 'invalid_request_error', 'method_not_allowed', `use ${allow}`, {}, { allow });
}

function knownRoute(p: string): string {
  return ['/v1/traces', '/v1/feedback', '/healthz', '/metrics'].includes(p) ? p : 'other';
}

function stripUndefined<T extends object>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}
