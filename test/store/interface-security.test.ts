// The ClickHouse HTTP interface is what Grafana and @clickhouse/client users point at: read-only
// enforced by the engine (readonly=1 connections plus the engine's own parse for what readonly
// leaves open), limits on every query, and ingestion unharmed by a long read.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector } from '../../src/collector/index.js';
import { allSelected, listQueries, loadQuery } from '../../src/dashboards/queries.js';
import { expandQuery } from '../../src/dashboards/macros.js';
import { EmbeddedStore } from '../../src/store/embedded.js';
import { guardQuery, loadGuardCatalog } from '../../src/store/engine-guard.js';
import { readerSettings, resolveLimits } from '../../src/store/query-limits.js';
import { startClickHouseHttp } from '../../src/store/http-interface.js';
import { countingListener, tempDataDir } from './helpers.js';
import { requestSpans } from './spans.js';

const MARKER = `switchyard-secret-${process.pid}-${Date.now()}`;
let store: EmbeddedStore;
let ro: Awaited<ReturnType<typeof startClickHouseHttp>>;
let rw: Awaited<ReturnType<typeof startClickHouseHttp>>;
let listener: Awaited<ReturnType<typeof countingListener>>;
let listenerPort = 0;
const tmp = tempDataDir('iface-sec');
const scratch = mkdtempSync(join(tmpdir(), 'sy-iface-sec-'));
const secret = join(scratch, 'secret.txt');

const post = (port: number, sql: string, search = '') =>
  fetch(`http://127.0.0.1:${port}/${search}`, { method: 'POST', body: sql });

beforeAll(async () => {
  writeFileSync(secret, `${MARKER}\n`);
  listener = await countingListener();
  listenerPort = listener.port;
  store = await EmbeddedStore.open({ dataDir: tmp.dir });
  await store.insertTraces(
    requestSpans({ atMs: Date.now(), attempts: [{ provider: 'openai', model: 'gpt-4o', durationMs: 100 }] }),
  );
  ro = await startClickHouseHttp({ store, port: 0 });
  rw = await startClickHouseHttp({ store, port: 0, readonly: false });
});

afterAll(async () => {
  await ro?.close();
  await rw?.close();
  await store?.close();
  await listener?.close();
  tmp.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

const host = () => `127.0.0.1:${listenerPort}`;
const out = (name: string) => join(scratch, name);

// Each: SQL text, and optionally URL parameters. Every one must be refused by whichever layer.
const ATTEMPTS = (): Array<[string, string?]> => [
  [`SELECT * FROM file('${secret}', 'LineAsString')`],
  [`SELECT * FROM \`file\`('${secret}', 'LineAsString')`],
  [`SELECT * FROM "file"('${secret}', 'LineAsString')`],
  [`select * from FILE('${secret}', 'LineAsString')`],
  [`SELECT * FROM fi/* a comment */le('${secret}', 'LineAsString')`],
  [`SELECT * FROM /* x */ file /* y */ ('${secret}', 'LineAsString')`],
  [`SELECT file('${secret}')`],
  [`SELECT \`file\`('${secret}') AS s`],
  [`SELECT lower(toString(file('${secret}'))) FORMAT JSON`],
  [`WITH x AS (SELECT * FROM file('${secret}', 'LineAsString')) SELECT * FROM x`],
  [`WITH (SELECT file('${secret}')) AS c SELECT c`],
  [`SELECT * FROM (SELECT * FROM (SELECT * FROM file('${secret}', 'LineAsString')))`],
  [`SELECT * FROM system.one AS o JOIN file('${secret}', 'LineAsString') AS f ON 1 = 1`],
  [`SELECT 1 WHERE '${MARKER}' IN (SELECT * FROM file('${secret}', 'LineAsString'))`],
  [`SELECT * FROM view(SELECT file('${secret}'))`],
  [`DESCRIBE TABLE file('${secret}', 'LineAsString')`],
  [`SELECT * FROM url('http://${host()}/', 'CSV', 'a String')`],
  [`SELECT * FROM URL('http://${host()}/', 'CSV', 'a String')`],
  [`SELECT * FROM s3('http://${host()}/bucket/key.csv', 'CSV', 'a String')`],
  [`SELECT * FROM remote('${host()}', system.one)`],
  [`SELECT * FROM remoteSecure('${host()}', system.one)`],
  [`SELECT * FROM mysql('${host()}', 'db', 't', 'u', 'p')`],
  [`SELECT * FROM postgresql('${host()}', 'db', 't', 'u', 'p')`],
  [`SELECT * FROM cluster('default', system.one)`],
  [`SELECT * FROM executable('cat', 'LineAsString', 'l String', (SELECT '${secret}'))`],
  [`SELECT * FROM loop(file('${secret}', 'LineAsString')) LIMIT 1`],
  [`SELECT catboostEvaluate('${secret}', 1)`],
  [`SELECT 1 INTO OUTFILE '${out('o1.txt')}'`],
  [`SELECT * FROM system.one INTO OUTFILE '${out('o2.csv')}' FORMAT CSV`],
  [`EXPLAIN SELECT 1 INTO OUTFILE '${out('o3.txt')}'`],
  [`SHOW TABLES INTO OUTFILE '${out('o4.txt')}'`],
  [`SELECT 1 INTO OUTFILE '${out('o5.gz')}' COMPRESSION 'gzip'`],
  ['SELECT 1 SETTINGS readonly = 0'],
  [`SELECT * FROM file('${secret}', 'LineAsString') SETTINGS readonly = 0`],
  ['SELECT 1 SETTINGS max_execution_time = 0'],
  ['SET readonly = 0'],
  ['SET max_execution_time = 0'],
  ['SET allow_introspection_functions = 1'],
  ['SYSTEM FLUSH LOGS'],
  ['SYSTEM DROP DNS CACHE'],
  ['KILL QUERY WHERE 1'],
  [`SELECT 1; SELECT file('${secret}')`],
  [`SELECT 1 ; SELECT * FROM file('${secret}', 'LineAsString');`],
  ["SELECT 1; INSERT INTO llm_feedback (TraceId, Value) VALUES ('x', 1)"],
  ["INSERT INTO llm_feedback (TraceId, Value) VALUES ('x', 1)"],
  [`INSERT INTO FUNCTION file('${out('w.csv')}', 'CSV', 'a String') VALUES ('x')`],
  ['DROP TABLE llm_feedback'],
  ['TRUNCATE TABLE llm_feedback'],
  ['ALTER TABLE llm_feedback DELETE WHERE 1'],
  [`CREATE TABLE t_file (l String) ENGINE = File(LineAsString, '${secret}')`],
  ['CREATE TEMPORARY TABLE t (a UInt8)'],
  ["SELECT * FROM input('a String')"],
  // Settings and escapes in URL parameters.
  [`SELECT * FROM file('${secret}', 'LineAsString')`, '?readonly=0'],
  ['SELECT 1', '?readonly=0&max_execution_time=0'],
  ['SELECT 1', '?max_execution_time=100000'],
  ['SELECT 1', '?allow_introspection_functions=1'],
  ['SELECT 1', '?max_memory_usage=0'],
  ['SELECT 1', '?allow_ddl=1'],
  [`SELECT {f:String}`, `?param_f=x&query=${encodeURIComponent(`SELECT file('${secret}')`)}`],
];

describe('the read-only interface', () => {
  it('refuses every attempt to read files, reach hosts, change settings or write', async () => {
    const before = await store.query('SELECT count() FROM llm_feedback', 'TabSeparated');
    const attempts = ATTEMPTS();
    expect(attempts.length).toBeGreaterThanOrEqual(30);
    for (const [sql, search] of attempts) {
      const r = await post(ro.port, sql, search);
      const text = await r.text();
      expect(r.status, `${sql} ${search ?? ''}: ${text}`).toBeGreaterThanOrEqual(400);
      expect(text, sql).toMatch(/^Code: \d+\. DB::Exception: /);
      expect(text, sql).not.toContain(MARKER);
      expect(Number(r.headers.get('x-clickhouse-exception-code')), sql).toBeGreaterThan(0);
    }
    for (const f of ['o1.txt', 'o2.csv', 'o3.txt', 'o4.txt', 'o5.gz', 'w.csv'])
      expect(existsSync(out(f)), f).toBe(false);
    expect(listener.connections()).toBe(0);
    expect(await store.query('SELECT count() FROM llm_feedback', 'TabSeparated')).toBe(before);
  });

  it("answers each kind of refusal with ClickHouse's own code", async () => {
    const code = async (sql: string, search = '') => {
      const r = await post(ro.port, sql, search);
      await r.text();
      return [r.status, r.headers.get('x-clickhouse-exception-code')];
    };
    expect(await code("INSERT INTO llm_feedback (TraceId, Value) VALUES ('x', 1)")).toEqual([500, '164']); // READONLY, as a server
    expect(await code('SELECT 1 SETTINGS readonly = 0')).toEqual([500, '164']);
    expect(await code(`SELECT file('${secret}')`)).toEqual([403, '497']); // ACCESS_DENIED
    expect(await code(`SELECT 1 INTO OUTFILE '${out('x.txt')}'`)).toEqual([403, '497']);
    expect(await code('SELECT 1', '?max_execution_time=100000')).toEqual([500, '452']); // SETTING_CONSTRAINT_VIOLATION
    expect(await code('SELECT 1', '?max_execution_time=5')).toEqual([200, null]); // tightening is allowed
  });

  it('runs every dashboard, variable and alert query, and reads system tables', async () => {
    const now = Date.now();
    const names = ['overview', 'explorer', 'alerts', 'variables'].flatMap((f) => listQueries(f));
    expect(names.length).toBeGreaterThan(10);
    for (const name of names) {
      const sql = expandQuery(loadQuery(name), {
        from: new Date(now - 3_600_000),
        to: new Date(now),
        intervalMs: 60_000,
        variables: allSelected(),
        mode: name.startsWith('alerts/') ? 'alert' : undefined,
      });
      const r = await post(ro.port, `${sql}\nFORMAT JSON`);
      expect(r.status, `${name}: ${r.status === 200 ? '' : await r.text()}`).toBe(200);
      await r.arrayBuffer();
    }
    const sys = await post(ro.port, "SELECT count() > 0 FROM system.tables WHERE database = 'switchyard'");
    expect(await sys.text()).toBe('1\n');
    const series = await post(ro.port, 'SELECT sum(number) FROM numbers(10)');
    expect(await series.text()).toBe('45\n');
  });

  it('keeps writes working on an interface configured readonly: false, with escapes still refused', async () => {
    const w = await post(rw.port, "INSERT INTO llm_feedback (TraceId, Value) VALUES ('rw-ok', 1)");
    expect(w.status, await w.text()).toBe(200);
    for (const sql of [
      `SELECT * FROM file('${secret}', 'LineAsString')`,
      `SELECT file('${secret}')`,
      `INSERT INTO FUNCTION file('${out('w2.csv')}', 'CSV', 'a String') VALUES ('x')`,
      `SELECT * FROM url('http://${host()}/', 'CSV', 'a String')`,
      `SELECT 1 INTO OUTFILE '${out('o6.txt')}'`,
    ]) {
      const r = await post(rw.port, sql);
      const text = await r.text();
      expect(r.status, sql).toBeGreaterThanOrEqual(400);
      expect(text).not.toContain(MARKER);
    }
    expect(existsSync(out('w2.csv'))).toBe(false);
    expect(existsSync(out('o6.txt'))).toBe(false);
    expect(listener.connections()).toBe(0);
  });
});

describe('each layer on its own', () => {
  it('the engine refuses writes, settings and outside table functions on a reading connection, without the guard', async () => {
    const conn = await store.openConnection(readerSettings(resolveLimits()));
    try {
      for (const sql of [
        `SELECT * FROM file('${secret}', 'LineAsString')`,
        `SELECT * FROM url('http://${host()}/', 'CSV', 'a String')`,
        "INSERT INTO llm_feedback (TraceId, Value) VALUES ('x', 1)",
        'SELECT 1 SETTINGS max_execution_time = 0',
        'SET readonly = 0',
      ]) {
        await expect(conn.run(sql, {}), sql).rejects.toThrow(/Code: 164\..*READONLY/);
      }
      expect(listener.connections()).toBe(0);
    } finally {
      await conn.close();
    }
  });

  it('the guard asks the engine where statements end and what they call', async () => {
    const conn = await store.openConnection(readerSettings(resolveLimits()));
    try {
      const catalog = await loadGuardCatalog(conn);
      const guard = (sql: string) => guardQuery(conn, catalog, sql, {}, false);
      // A second statement the text scanner would miss is still one more statement to the engine.
      await expect(guard(`SELECT 1; SELECT file('${secret}')`)).rejects.toThrow(/Multi-statements are not allowed/);
      await expect(guard(`SELECT /* ; */ \`file\`('${secret}')`)).rejects.toThrow(/ACCESS_DENIED/);
      await expect(guard(`SELECT 1 INTO OUTFILE '${out('g.txt')}'`)).rejects.toThrow(/ACCESS_DENIED/);
      await expect(guard("SELECT 'file(1)' AS s, 'INTO OUTFILE' AS t FORMAT JSON")).resolves.toBeUndefined();
      await expect(guard('SHOW TABLES')).resolves.toBeUndefined();
      expect(existsSync(out('g.txt'))).toBe(false);
    } finally {
      await conn.close();
    }
  });
});

describe('limits on every query', () => {
  it('stops a query at the result limit by default, and at the time limit with 159 when results are unbounded', async () => {
    const r = await post(ro.port, 'SELECT * FROM numbers(1e11) FORMAT Null');
    expect(r.headers.get('x-clickhouse-exception-code')).toBe('396'); // TOO_MANY_ROWS_OR_BYTES, at 1M rows
    await r.text();
    const timed = await startClickHouseHttp({
      store,
      port: 0,
      limits: { max_execution_time: 1, max_result_rows: 1e15, max_result_bytes: 1e15 },
    });
    try {
      const started = Date.now();
      const t = await post(timed.port, 'SELECT * FROM numbers(1e11) FORMAT Null');
      const text = await t.text();
      expect(t.status).toBe(408);
      expect(t.headers.get('x-clickhouse-exception-code')).toBe('159');
      expect(text).toMatch(/TIMEOUT_EXCEEDED/);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await timed.close();
    }
  });

  it('refuses queries beyond the queue with 503 TOO_MANY_SIMULTANEOUS_QUERIES', async () => {
    const small = await startClickHouseHttp({
      store,
      port: 0,
      limits: { max_concurrent_queries: 1, max_queued_queries: 1, max_execution_time: 2 },
    });
    try {
      const slow = 'SELECT count() FROM numbers(1e11) WHERE sipHash64(number) = 0';
      const replies = await Promise.all([0, 1, 2, 3].map(() => post(small.port, slow)));
      const codes = await Promise.all(
        replies.map(async (r) => (await r.text(), `${r.status}:${r.headers.get('x-clickhouse-exception-code')}`)),
      );
      expect(codes.filter((c) => c === '503:202').length).toBeGreaterThanOrEqual(2);
      expect(codes.filter((c) => c === '408:159').length).toBeGreaterThanOrEqual(1);
    } finally {
      await small.close();
    }
  });

  it('keeps acknowledging spans during a long read, and stores them all when it ends', async () => {
    const timed = await startClickHouseHttp({ store, port: 0, limits: { max_execution_time: 4 } });
    const spool = mkdtempSync(join(tmpdir(), 'sy-iface-spool-'));
    const collector = await startCollector({ store, spoolDir: spool, host: '127.0.0.1', port: 0, flushIntervalMs: 20 });
    try {
      const service = `long-read-${Date.now()}`;
      const read = post(timed.port, 'SELECT count() FROM numbers(1e11) WHERE sipHash64(number) = 0');
      await new Promise((r) => setTimeout(r, 300)); // the read is running
      const acks: number[] = [];
      const sent = 40;
      for (let i = 0; i < sent; i++) {
        const started = Date.now();
        const r = await fetch(`${collector.url}/v1/traces`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(exportBody(service, i)),
        });
        expect(r.status).toBe(200);
        await r.arrayBuffer();
        acks.push(Date.now() - started);
        await new Promise((res) => setTimeout(res, 50));
      }
      const res = await read;
      expect(res.headers.get('x-clickhouse-exception-code')).toBe('159');
      await res.text();
      acks.sort((a, b) => a - b);
      expect(acks[Math.floor(acks.length * 0.95)]).toBeLessThan(1000); // acknowledged while the read ran
      const deadline = Date.now() + 20_000;
      let stored = 0;
      while (Date.now() < deadline) {
        stored = Number(
          (
            await store.query(`SELECT count() FROM otel_traces WHERE ServiceName = '${service}'`, 'TabSeparated')
          ).trim(),
        );
        if (stored === sent) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(stored).toBe(sent);
    } finally {
      await collector.close();
      await timed.close();
      rmSync(spool, { recursive: true, force: true });
    }
  });
});

function exportBody(service: string, i: number) {
  const hex = (n: number, len: number) => n.toString(16).padStart(len, '0');
  const now = BigInt(Date.now()) * 1_000_000n;
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [
          {
            scope: { name: 'test' },
            spans: [
              {
                traceId: hex(i + 1, 32),
                spanId: hex(i + 1, 16),
                name: 'chat gpt-4o',
                kind: 3,
                startTimeUnixNano: String(now),
                endTimeUnixNano: String(now + 1_000_000n),
                attributes: [{ key: 'gen_ai.operation.name', value: { stringValue: 'chat' } }],
              },
            ],
          },
        ],
      },
    ],
  };
}
