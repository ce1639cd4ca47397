// Limits on every query through the ClickHouse HTTP interface. They are the reading
// connections' session settings, set before `readonly=1`, so the engine enforces them and no
// query can lift them (a SETTINGS clause or SET is refused with READONLY). A client may ask for
// a limit at or below the cap in URL parameters, as ClickHouse's settings constraints allow;
// above it gets SETTING_CONSTRAINT_VIOLATION.
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { ClickHouseError } from './sql-guard.js';

const positiveInt = z.coerce.number().int().positive();

export const QueryLimits = z
  .object({
    /** Seconds; a query past it fails with TIMEOUT_EXCEEDED (159). */
    max_execution_time: positiveInt.default(30),
    /** Bytes of memory one query may use (MEMORY_LIMIT_EXCEEDED, 241). */
    max_memory_usage: positiveInt.default(2 * 1024 ** 3),
    /** Rows and bytes of a result (TOO_MANY_ROWS_OR_BYTES, 396). */
    max_result_rows: positiveInt.default(1_000_000),
    max_result_bytes: positiveInt.default(256 * 1024 ** 2),
    /** Engine threads per query: reads leave the other cores to ingestion. */
    max_threads: positiveInt.default(Math.max(1, Math.floor(availableParallelism() / 2))),
    /** Queries running at once (each on a connection of its own). */
    max_concurrent_queries: positiveInt.default(2),
    /** Queries waiting for a connection; beyond it TOO_MANY_SIMULTANEOUS_QUERIES (202). */
    max_queued_queries: z.coerce.number().int().nonnegative().default(32),
  })
  .strict();
export type QueryLimits = z.infer<typeof QueryLimits>;

/** The limits from `SWITCHYARD_CH_<NAME>` environment variables (e.g. SWITCHYARD_CH_MAX_EXECUTION_TIME), over `given`. */
export function resolveLimits(given: Partial<QueryLimits> = {}, env: NodeJS.ProcessEnv = process.env): QueryLimits {
  const fromEnv: Record<string, string> = {};
  for (const key of Object.keys(QueryLimits.shape)) {
    const v = env[`SWITCHYARD_CH_${key.toUpperCase()}`];
    if (v !== undefined && v !== '') fromEnv[key] = v;
  }
  const parsed = QueryLimits.safeParse({ ...fromEnv, ...given });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`ClickHouse interface limit ${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}

/** Session settings of a reading connection, in the order they are set (readonly last). */
export function readerSettings(l: QueryLimits): Array<readonly [string, string | number]> {
  return [...writerSettings(l), ['readonly', 1]];
}

/** The same limits for the writing connection of an interface configured `readonly: false`. */
export function writerSettings(l: QueryLimits): Array<readonly [string, string | number]> {
  return [
    ['max_execution_time', l.max_execution_time],
    ['timeout_overflow_mode', 'throw'],
    ['max_memory_usage', l.max_memory_usage],
    ['max_result_rows', l.max_result_rows],
    ['max_result_bytes', l.max_result_bytes],
    ['result_overflow_mode', 'throw'],
    ['max_threads', l.max_threads],
  ];
}

// Parameters of the HTTP interface itself (not settings).
const HTTP_PARAMS = new Set([
  'query',
  'database',
  'default_format',
  'query_id',
  'readonly',
  'enable_http_compression',
  'user',
  'password',
  'session_id',
  'session_timeout',
  'session_check',
  'compress',
  'decompress',
  'quota_key',
  'buffer_size',
  'wait_end_of_query',
  'send_progress_in_http_headers',
  'http_headers_progress_interval_ms',
  'cancel_http_readonly_queries_on_client_close',
  'add_http_cors_header',
  'http_zlib_compression_level',
]);
// Output-shaping settings clients send by habit; they change nothing about access or cost.
// Accepted and not applied (the interface's own output settings stay), as before.
const HARMLESS = /^(output_format_|date_time_output_format$|format_|extremes$|http_)/;
// The limits a client may tighten: settings name → the cap's key.
const LIMIT_SETTINGS: Record<string, keyof QueryLimits> = {
  max_execution_time: 'max_execution_time',
  max_memory_usage: 'max_memory_usage',
  max_result_rows: 'max_result_rows',
  max_result_bytes: 'max_result_bytes',
  max_threads: 'max_threads',
};

/**
 * Checks settings sent as URL (or form) parameters. Anything else than the interface's own
 * parameters, harmless output settings and limits at or below the cap is refused as a
 * ClickHouse server in readonly mode refuses it.
 */
export function checkUrlSettings(fields: ReadonlyMap<string, string>, limits: QueryLimits): void {
  for (const [name, value] of fields) {
    if (HTTP_PARAMS.has(name) || name.startsWith('param_') || HARMLESS.test(name)) continue;
    const cap = LIMIT_SETTINGS[name];
    if (cap) {
      const n = Number(value);
      if (value.trim() !== '' && Number.isFinite(n) && n > 0 && n <= limits[cap]) continue;
      throw new ClickHouseError(
        452,
        'SETTING_CONSTRAINT_VIOLATION',
        `Setting ${name} shouldn't be greater than ${limits[cap]} or zero (the interface's limit)`,
      );
    }
    throw new ClickHouseError(164, 'READONLY', `Cannot modify '${name}' setting in readonly mode`);
  }
}
