// `switchyard collector` settings from flags and environment, validated with zod.
// Flags win over environment; everything has a default.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { flagString } from '../args.js';
import { COLLECTOR_DEFAULTS } from './server.js';

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();

const schema = z
  .object({
    host: z.string().min(1),
    port,
    dataDir: z.string().min(1),
    spoolDir: z.string().min(1),
    maxBodyBytes: positiveInt,
    batchSize: positiveInt,
    flushIntervalMs: positiveInt,
    eagerFlushRows: positiveInt,
    maxConcurrentWrites: positiveInt,
    concurrentWriteRows: positiveInt,
    decodeThreads: z.coerce.number().int().min(0).max(64),
    maxBufferedRows: positiveInt,
    maxSpoolBytes: positiveInt,
    closeTimeoutMs: positiveInt,
    feedbackToken: z.string().min(1).optional(),
    ingestToken: z.string().min(1).optional(),
    headersTimeoutMs: positiveInt,
    requestTimeoutMs: positiveInt,
    keepAliveTimeoutMs: positiveInt,
    maxHeaderBytes: z.coerce.number().int().min(1024),
    clickhouseHttpHost: z.string().min(1),
    clickhouseHttpPort: port,
  })
  .refine((o) => o.headersTimeoutMs <= o.requestTimeoutMs, {
    path: ['headersTimeoutMs'],
    message: 'must not exceed --request-timeout-ms',
  });

export type CollectorCliOptions = z.infer<typeof schema>;

export const collectorUsage = `usage: switchyard collector [flags]
  --host H                 listen address (SWITCHYARD_COLLECTOR_HOST, default 0.0.0.0)
  --port N                 OTLP/HTTP port (SWITCHYARD_COLLECTOR_PORT, default 4318)
  --data-dir DIR           embedded store folder (SWITCHYARD_DATA_DIR, default ./.switchyard)
  --spool-dir DIR          outage spool (SWITCHYARD_SPOOL_DIR, default <data-dir>/spool)
  --max-body-bytes N       request size limit (SWITCHYARD_COLLECTOR_MAX_BODY_BYTES, default 20 MiB)
  --batch-size N           most rows per store insert (SWITCHYARD_COLLECTOR_BATCH_SIZE, default 65536)
  --flush-interval-ms N    longest wait before a row's insert starts (SWITCHYARD_COLLECTOR_FLUSH_INTERVAL_MS, default 500)
  --eager-flush-rows N     rows that start an insert without waiting (SWITCHYARD_COLLECTOR_EAGER_FLUSH_ROWS, default 16384)
  --max-concurrent-writes N  store inserts in flight while healthy (SWITCHYARD_COLLECTOR_MAX_CONCURRENT_WRITES, default 2)
  --concurrent-write-rows N  rows waiting before an extra insert starts (SWITCHYARD_COLLECTOR_CONCURRENT_WRITE_ROWS, default 16384)
  --decode-threads N       worker threads decoding OTLP bodies, 0 = in the request thread (SWITCHYARD_COLLECTOR_DECODE_THREADS, default one per core, at most 4)
  --max-buffered-rows N    acknowledged rows not yet stored before 429 (SWITCHYARD_COLLECTOR_MAX_BUFFERED_ROWS, default 100000)
  --max-spool-bytes N      write-ahead spool bound before 503 (SWITCHYARD_COLLECTOR_MAX_SPOOL_BYTES, default 1 GiB)
  --clickhouse-http-port N embedded mode: ClickHouse HTTP interface port (default 8123, 127.0.0.1)
  --headers-timeout-ms N   a request's head must arrive within this (SWITCHYARD_COLLECTOR_HEADERS_TIMEOUT_MS, default 10000)
  --request-timeout-ms N   a whole request must arrive within this (SWITCHYARD_COLLECTOR_REQUEST_TIMEOUT_MS, default 30000)
  --keep-alive-timeout-ms N  idle keep-alive connections close after this (SWITCHYARD_COLLECTOR_KEEP_ALIVE_TIMEOUT_MS, default 65000)
  --max-header-bytes N     larger request heads get 431 (SWITCHYARD_COLLECTOR_MAX_HEADER_BYTES, default 16384)
  --token-file FILE        read the ingest token from FILE (instead of SWITCHYARD_COLLECTOR_TOKEN)
  env SWITCHYARD_COLLECTOR_TOKEN: bearer token required on POST /v1/traces (and feedback, unless it has its own)
  env SWITCHYARD_FEEDBACK_TOKEN: bearer token required on POST /v1/feedback
  env CLICKHOUSE_URL (+ CLICKHOUSE_USER, CLICKHOUSE_PASSWORD, CLICKHOUSE_DATABASE): use a server`;

export function resolveCollectorOptions(
  flags: Record<string, string | true>,
  env: NodeJS.ProcessEnv,
): CollectorCliOptions {
  const pick = (flag: string, envName: string): string | undefined =>
    flagString(flags, flag) ?? (env[envName] || undefined);
  const dataDir = pick('data-dir', 'SWITCHYARD_DATA_DIR') ?? './.switchyard';
  const raw = {
    host: pick('host', 'SWITCHYARD_COLLECTOR_HOST') ?? COLLECTOR_DEFAULTS.host,
    port: pick('port', 'SWITCHYARD_COLLECTOR_PORT') ?? COLLECTOR_DEFAULTS.port,
    dataDir,
    spoolDir: pick('spool-dir', 'SWITCHYARD_SPOOL_DIR') ?? path.join(dataDir, 'spool'),
    maxBodyBytes: pick('max-body-bytes', 'SWITCHYARD_COLLECTOR_MAX_BODY_BYTES') ?? COLLECTOR_DEFAULTS.maxBodyBytes,
    batchSize: pick('batch-size', 'SWITCHYARD_COLLECTOR_BATCH_SIZE') ?? COLLECTOR_DEFAULTS.batchSize,
    flushIntervalMs:
      pick('flush-interval-ms', 'SWITCHYARD_COLLECTOR_FLUSH_INTERVAL_MS') ?? COLLECTOR_DEFAULTS.flushIntervalMs,
    eagerFlushRows:
      pick('eager-flush-rows', 'SWITCHYARD_COLLECTOR_EAGER_FLUSH_ROWS') ?? COLLECTOR_DEFAULTS.eagerFlushRows,
    maxConcurrentWrites:
      pick('max-concurrent-writes', 'SWITCHYARD_COLLECTOR_MAX_CONCURRENT_WRITES') ??
      COLLECTOR_DEFAULTS.maxConcurrentWrites,
    concurrentWriteRows:
      pick('concurrent-write-rows', 'SWITCHYARD_COLLECTOR_CONCURRENT_WRITE_ROWS') ??
      COLLECTOR_DEFAULTS.concurrentWriteRows,
    decodeThreads: pick('decode-threads', 'SWITCHYARD_COLLECTOR_DECODE_THREADS') ?? COLLECTOR_DEFAULTS.decodeThreads,
    maxBufferedRows:
      pick('max-buffered-rows', 'SWITCHYARD_COLLECTOR_MAX_BUFFERED_ROWS') ?? COLLECTOR_DEFAULTS.maxBufferedRows,
    maxSpoolBytes: pick('max-spool-bytes', 'SWITCHYARD_COLLECTOR_MAX_SPOOL_BYTES') ?? COLLECTOR_DEFAULTS.maxSpoolBytes,
    closeTimeoutMs:
      pick('close-timeout-ms', 'SWITCHYARD_COLLECTOR_CLOSE_TIMEOUT_MS') ?? COLLECTOR_DEFAULTS.closeTimeoutMs,
    // A secret on the command line shows in `ps`: the token comes from the environment only.
    feedbackToken: env.SWITCHYARD_FEEDBACK_TOKEN || undefined,
    ingestToken: ingestToken(flagString(flags, 'token-file'), env),
    headersTimeoutMs:
      pick('headers-timeout-ms', 'SWITCHYARD_COLLECTOR_HEADERS_TIMEOUT_MS') ?? COLLECTOR_DEFAULTS.headersTimeoutMs,
    requestTimeoutMs:
      pick('request-timeout-ms', 'SWITCHYARD_COLLECTOR_REQUEST_TIMEOUT_MS') ?? COLLECTOR_DEFAULTS.requestTimeoutMs,
    keepAliveTimeoutMs:
      pick('keep-alive-timeout-ms', 'SWITCHYARD_COLLECTOR_KEEP_ALIVE_TIMEOUT_MS') ??
      COLLECTOR_DEFAULTS.keepAliveTimeoutMs,
    maxHeaderBytes:
      pick('max-header-bytes', 'SWITCHYARD_COLLECTOR_MAX_HEADER_BYTES') ?? COLLECTOR_DEFAULTS.maxHeaderBytes,
    clickhouseHttpHost: pick('clickhouse-http-host', 'SWITCHYARD_CLICKHOUSE_HTTP_HOST') ?? '127.0.0.1',
    clickhouseHttpPort: pick('clickhouse-http-port', 'SWITCHYARD_CLICKHOUSE_HTTP_PORT') ?? 8123,
  };
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = String(issue.path[0] ?? 'options').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    throw new Error(`invalid --${field}: ${issue.message}`);
  }
  return parsed.data;
}

/** The OTLP ingest token: a file (a mounted Secret; a flag naming the secret itself would show
 *  in `ps`) or SWITCHYARD_COLLECTOR_TOKEN. */
function ingestToken(file: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (file === undefined) return env.SWITCHYARD_COLLECTOR_TOKEN || undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`invalid --token-file: ${(err as Error).message}`);
  }
  const token = text.trim();
  if (!token) throw new Error(`invalid --token-file: ${file} is empty`);
  return token;
}
