// Serves the embedded store over the ClickHouse HTTP interface (default 127.0.0.1:8123) so
// Grafana's ClickHouse datasource, @clickhouse/client and the CLI read it like a server.
// Read-only unless `readonly: false`; GET requests are always read-only, as on a server.
// Reads run on connections of their own whose session settings the engine enforces: readonly=1
// and the limits of query-limits.ts; engine-guard.ts refuses what readonly leaves open.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { EmbeddedStore, type EngineConnection } from './embedded.js';
import { ConnectionPool } from './connection-pool.js';
import { guardQuery, loadGuardCatalog } from './engine-guard.js';
import { toErrorReply } from './http-errors.js';
import { parseRequest, readBody } from './http-request.js';
import { bindParams } from './query-params.js';
import { checkUrlSettings, readerSettings, resolveLimits, writerSettings, type QueryLimits } from './query-limits.js';
import { ClickHouseError, inspectQuery, READONLY_ERROR } from './sql-guard.js';
import type { SpanStore } from './types.js';
import { logger } from '../logger.js';

export interface ClickHouseHttpOptions {
  /** The embedded store (a remote server has its own HTTP interface). */
  store: SpanStore;
  host?: string;
  port?: number;
  /** Default true: only SELECT-like statements. */
  readonly?: boolean;
  displayName?: string;
  /** Limits on every query (defaults, then SWITCHYARD_CH_* variables, then these). */
  limits?: Partial<QueryLimits>;
}

// An INSERT whose data (the request body) is Native: the prefix before FORMAT, run over the body.
const NATIVE_INSERT = /^\s*(INSERT\s+INTO\s[\s\S]+?)\s+FORMAT\s+Native\s*;?\s*$/i;

const READ_KINDS = new Set(['SELECT', 'WITH', 'SHOW', 'DESCRIBE', 'DESC', 'EXISTS', 'EXPLAIN', 'CHECK']);

function contentType(format: string): string {
  const f = format.toLowerCase();
  if (f.startsWith('json')) return 'application/json; charset=UTF-8';
  if (f.startsWith('tabseparated') || f.startsWith('tsv')) return 'text/tab-separated-values; charset=UTF-8';
  if (f.startsWith('csv')) return 'text/csv; charset=UTF-8; header=absent';
  if (
    [
      'native',
      'rowbinary',
      'rowbinarywithnames',
      'rowbinarywithnamesandtypes',
      'parquet',
      'arrow',
      'arrowstream',
    ].includes(f)
  )
    return 'application/octet-stream';
  return 'text/plain; charset=UTF-8';
}

const compressors: Record<string, (b: Uint8Array) => Promise<Buffer>> = {
  gzip: promisify(zlib.gzip),
  deflate: promisify(zlib.deflate),
  br: promisify(zlib.brotliCompress),
};

export async function startClickHouseHttp(
  opts: ClickHouseHttpOptions,
): Promise<{ port: number; host: string; close(): Promise<void> }> {
  if (!(opts.store instanceof EmbeddedStore)) {
    throw new Error(
      'startClickHouseHttp serves the embedded store; with CLICKHOUSE_URL set, point clients at that server instead',
    );
  }
  const store = opts.store;
  const host = opts.host ?? '127.0.0.1';
  const readonly = opts.readonly ?? true;
  const displayName = opts.displayName ?? 'switchyard';
  const timezone = (await store.query('SELECT timezone()', 'TabSeparated')).trim() || 'UTC';
  const limits = resolveLimits(opts.limits);
  const readers: EngineConnection[] = [];
  for (let i = 0; i < limits.max_concurrent_queries; i++)
    readers.push(await store.openConnection(readerSettings(limits)));
  const writer = readonly ? undefined : await store.openConnection(writerSettings(limits));
  const catalog = await loadGuardCatalog(readers[0]);
  const pool = new ConnectionPool(readers, limits.max_queued_queries);

  const baseHeaders = (queryId: string): Record<string, string> => ({
    'X-ClickHouse-Server-Display-Name': displayName,
    'X-ClickHouse-Query-Id': queryId,
    'X-ClickHouse-Timezone': timezone,
    'Keep-Alive': 'timeout=10',
  });

  /** INSERT … FORMAT Native in the URL, its data in the body (binary: not joined to the query as text). */
  async function handleBinaryInsert(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    prefix: string,
    body: Buffer,
    queryId: string,
  ) {
    const parsed = parseRequest(url, Buffer.alloc(0), undefined);
    if (readonly || req.method === 'GET' || parsed.readonlyRequested) throw READONLY_ERROR();
    const database = parsed.database ?? (req.headers['x-clickhouse-database'] as string | undefined);
    const started = process.hrtime.bigint();
    await store.insertFile(prefix, 'Native', body, { database });
    const summary = {
      read_rows: '0',
      read_bytes: '0',
      written_rows: '0',
      written_bytes: '0',
      total_rows_to_read: '0',
      result_bytes: '0',
    };
    const elapsed_ns = String(process.hrtime.bigint() - started);
    send(
      res,
      200,
      {
        ...baseHeaders(queryId),
        'Content-Type': 'text/plain; charset=UTF-8',
        'X-ClickHouse-Summary': JSON.stringify({ ...summary, elapsed_ns }),
      },
      '',
    );
  }

  async function handleQuery(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    let queryId = url.searchParams.get('query_id') || randomUUID();
    try {
      const body = await readBody(req);
      const nativePrefix = body.length > 0 ? NATIVE_INSERT.exec(url.searchParams.get('query') ?? '')?.[1] : undefined;
      if (nativePrefix) return await handleBinaryInsert(req, res, url, nativePrefix, body, queryId);
      const parsed = parseRequest(url, body, req.headers['content-type']);
      queryId = parsed.queryId ?? queryId;
      if (parsed.query.trim() === '') {
        if (req.method === 'GET') return send(res, 200, { 'Content-Type': 'text/plain; charset=UTF-8' }, 'Ok.\n');
        throw new ClickHouseError(62, 'SYNTAX_ERROR', 'Empty query');
      }
      const shape = inspectQuery(parsed.query);
      const database = parsed.database ?? (req.headers['x-clickhouse-database'] as string | undefined);
      checkUrlSettings(parsed.fields, limits);
      const writable = writer !== undefined && req.method !== 'GET' && !parsed.readonlyRequested;
      const isRead = READ_KINDS.has(shape.kind);
      const format = shape.format ?? parsed.defaultFormat ?? 'TabSeparated';
      const bound = bindParams(shape.sql, parsed.params);
      const queryOpts = { format, params: bound.params, database };
      const started = process.hrtime.bigint();
      const run = async (conn: EngineConnection) => {
        await guardQuery(conn, catalog, bound.sql, queryOpts, writable);
        return conn.run(bound.sql, queryOpts);
      };
      const result = writable && writer ? await run(writer) : await pool.run(run);
      const elapsedNs = process.hrtime.bigint() - started;
      const headers: Record<string, string> = {
        ...baseHeaders(queryId),
        'Content-Type': isRead ? contentType(format) : 'text/plain; charset=UTF-8',
        'X-ClickHouse-Summary': JSON.stringify({
          read_rows: String(result.rowsRead),
          read_bytes: String(result.bytesRead),
          written_rows: '0',
          written_bytes: '0',
          total_rows_to_read: String(result.rowsRead),
          result_bytes: String(result.bytes.length),
          elapsed_ns: String(elapsedNs),
        }),
      };
      if (isRead) headers['X-ClickHouse-Format'] = format;
      let payload: Uint8Array = result.bytes;
      if (parsed.compressResponse) {
        const accepted = String(req.headers['accept-encoding'] ?? '');
        const codec = ['gzip', 'br', 'deflate'].find((c) => new RegExp(`\\b${c}\\b`).test(accepted));
        if (codec) {
          payload = await compressors[codec](payload);
          headers['Content-Encoding'] = codec;
        }
      }
      send(res, 200, headers, payload);
    } catch (err) {
      const reply = toErrorReply(err);
      if (reply.status >= 500 && reply.code !== 164) logger.warn('clickhouse http: query failed', { code: reply.code });
      send(
        res,
        reply.status,
        {
          ...baseHeaders(queryId),
          'Content-Type': 'text/plain; charset=UTF-8',
          'X-ClickHouse-Exception-Code': String(reply.code),
        },
        reply.body,
      );
    }
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if ((path === '/ping' || path === '/replicas_status') && (req.method === 'GET' || req.method === 'HEAD')) {
      return send(res, 200, { 'Content-Type': 'text/plain; charset=UTF-8' }, 'Ok.\n');
    }
    if (path === '/' && (req.method === 'GET' || req.method === 'POST')) {
      handleQuery(req, res, url).catch((err: unknown) => {
        logger.error('clickhouse http: handler crashed', { error: err instanceof Error ? err.message : String(err) });
        if (!res.headersSent) send(res, 500, {}, 'Code: 1001. DB::Exception: internal error. (STD_EXCEPTION)\n');
      });
      return;
    }
    if (path === '/' && req.method === 'HEAD') return send(res, 200, {}, '');
    const reply = toErrorReply(
      new ClickHouseError(1, 'UNSUPPORTED_METHOD', `There is no handle ${path} for ${req.method}. Use / or /ping`),
    );
    send(res, 404, { 'Content-Type': 'text/plain; charset=UTF-8', 'X-ClickHouse-Exception-Code': '1' }, reply.body);
  });
  server.keepAliveTimeout = 10_000;
  // Slow clients (slowloris): the request head within 10 s, the whole request within 60 s (results
  // may stream longer), checked every second instead of Node's 30 s (see src/http-limits.ts).
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;
  Object.assign(server, { connectionsCheckingInterval: 1_000 });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8123, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    host,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }).then(async () => {
        await Promise.all([...readers, ...(writer ? [writer] : [])].map((c) => c.close()));
      }),
  };
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: Uint8Array | string): void {
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, { ...headers, 'Content-Length': String(buf.length) });
  res.end(buf);
}
