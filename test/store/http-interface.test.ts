// The embedded store served over the ClickHouse HTTP interface, exercised with @clickhouse/client
// (what Grafana-style clients and the CLI use) and with raw HTTP for headers and formats.
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../../src/store/embedded.js';
import { startClickHouseHttp } from '../../src/store/http-interface.js';
import { RemoteStore } from '../../src/store/remote.js';
import { encodeFeedbackRows, encodeTraceRows } from '../../src/store/rows.js';
import { tempDataDir } from './helpers.js';
import { requestSpans } from './spans.js';

let store: EmbeddedStore;
let ro: { port: number; close(): Promise<void> };
let rw: { port: number; close(): Promise<void> };
let client: ClickHouseClient;
const tmp = tempDataDir('http');
const base = () => `http://127.0.0.1:${ro.port}`;

beforeAll(async () => {
  store = await EmbeddedStore.open({ dataDir: tmp.dir });
  await store.insertTraces([
    ...requestSpans({ atMs: Date.now(), attempts: [{ provider: 'openai', model: 'gpt-4o', durationMs: 100 }] }),
    ...requestSpans({ atMs: Date.now(), attempts: [{ provider: 'anthropic', model: 'claude', durationMs: 200 }] }),
  ]);
  ro = await startClickHouseHttp({ store, port: 0 });
  rw = await startClickHouseHttp({ store, port: 0, readonly: false });
  client = createClient({ url: base(), database: 'switchyard' });
});

afterAll(async () => {
  await client?.close();
  await ro?.close();
  await rw?.close();
  await store?.close();
  tmp.cleanup();
});

describe('with @clickhouse/client', () => {
  it('pings', async () => {
    expect((await client.ping()).success).toBe(true);
  });

  it('queries JSONEachRow and JSON', async () => {
    const rs = await client.query({
      query: 'SELECT Provider, count() AS n FROM llm_attempts GROUP BY Provider ORDER BY Provider',
      format: 'JSONEachRow',
    });
    expect(await rs.json()).toEqual([
      { Provider: 'anthropic', n: '1' },
      { Provider: 'openai', n: '1' },
    ]);
    const js = await client.query({ query: "SELECT toUInt8(3) AS x, 'a' AS s", format: 'JSON' });
    const body = await js.json<{ x: number; s: string }>();
    expect(body.meta).toEqual([
      { name: 'x', type: 'UInt8' },
      { name: 's', type: 'String' },
    ]);
    expect(body.data).toEqual([{ x: 3, s: 'a' }]);
    expect(body.rows).toBe(1);
  });

  it('binds query_params {name:Type}, including strings that need escaping', async () => {
    const tricky = 'tab\there\nnew \'quote\' \\ back "dq" ünï';
    const rs = await client.query({
      query: 'SELECT {s:String} AS s, {n:UInt32} + 1 AS n, {arr:Array(String)} AS arr',
      query_params: { s: tricky, n: 41, arr: ['x', "y'z"] },
      format: 'JSONEachRow',
    });
    expect(await rs.json()).toEqual([{ s: tricky, n: '42', arr: ['x', "y'z"] }]); // UInt64 is quoted, as a server does
  });

  it('surfaces ClickHouse errors with their code', async () => {
    await expect(client.query({ query: 'SELEC 1', format: 'JSONEachRow' })).rejects.toMatchObject({
      code: '62',
      type: 'SYNTAX_ERROR',
    });
    await expect(client.query({ query: 'SELECT * FROM no_such_table', format: 'JSONEachRow' })).rejects.toMatchObject({
      code: '60',
      type: 'UNKNOWN_TABLE',
    });
  });

  it('reads a gzip-compressed response', async () => {
    const gz = createClient({ url: base(), compression: { response: true } });
    try {
      const rs = await gz.query({ query: 'SELECT number FROM system.numbers LIMIT 3', format: 'JSONEachRow' });
      expect(await rs.json()).toEqual([{ number: '0' }, { number: '1' }, { number: '2' }]);
    } finally {
      await gz.close();
    }
  });

  it('writes through a server configured readonly: false', async () => {
    const w = createClient({ url: `http://127.0.0.1:${rw.port}`, database: 'switchyard' });
    try {
      await w.insert({
        table: 'llm_feedback',
        values: [{ Timestamp: '1700000000.000', TraceId: 'http-fb', Value: 3, Weight: 1, Metadata: {} }],
        format: 'JSONEachRow',
      });
      const rs = await w.query({
        query: "SELECT Value FROM llm_feedback WHERE TraceId = 'http-fb'",
        format: 'JSONEachRow',
      });
      expect(await rs.json()).toEqual([{ Value: 3 }]);
    } finally {
      await w.close();
    }
  });
});

describe('RemoteStore against the writable interface', () => {
  it('migrates (nothing left to apply), inserts spans and feedback, and reads the views', async () => {
    const remote = new RemoteStore({ url: `http://127.0.0.1:${rw.port}`, database: 'switchyard' });
    try {
      expect(await remote.ping()).toBe(true);
      const m = await remote.migrate();
      expect(m.applied).toEqual([]);
      await remote.insertTraces(
        requestSpans({
          atMs: Date.now(),
          requestTraceId: 'via-remote',
          attempts: [{ provider: 'remote-p', model: 'x', durationMs: 12, costUsd: 0.5 }],
        }),
      );
      await remote.insertFeedback([
        { Timestamp: Date.now(), TraceId: 'via-remote', Value: 9, Weight: 1, Metadata: { k: 'v' } },
      ]);
      const text = await remote.query(
        "SELECT Model, Count, MeanScore FROM llm_feedback_scores WHERE Provider = 'remote-p'",
      );
      expect(text).toBe('{"Model":"x","Count":"1","MeanScore":9}\n');
      expect(await remote.query("SELECT CostUSD FROM llm_requests WHERE RequestTraceId = 'via-remote'", 'CSV')).toBe(
        '0.5\n',
      );
    } finally {
      await remote.close();
    }
  });

  it("inserts the write-ahead spool's encoded payloads (the collector's path) byte for byte", async () => {
    const remote = new RemoteStore({ url: `http://127.0.0.1:${rw.port}`, database: 'switchyard' });
    try {
      // Strings JSON must escape, and column names with dots (Events.Timestamp), through @clickhouse/client.
      const spans = requestSpans({
        atMs: Date.now(),
        requestTraceId: 'encoded "q"\n✓',
        metadata: { user: 'a\tb' },
        attempts: [{ provider: 'enc-p', model: 'm', durationMs: 7, costUsd: 0.25 }],
      });
      await remote.insertEncoded('traces', encodeTraceRows(spans));
      await remote.insertEncoded(
        'feedback',
        encodeFeedbackRows([
          { Timestamp: Date.now(), TraceId: 'encoded "q"\n✓', Value: -4, Weight: 0.5, Metadata: {} },
        ]),
      );
      const got = await remote.query(
        "SELECT RequestTraceId, Metadata['user'] AS user, CostUSD FROM llm_requests WHERE Provider = 'enc-p'",
      );
      expect(got).toBe(`${JSON.stringify({ RequestTraceId: 'encoded "q"\n✓', user: 'a\tb', CostUSD: 0.25 })}\n`);
      expect(await remote.query(`SELECT count() FROM otel_traces WHERE TraceId = '${spans[0].TraceId}'`, 'CSV')).toBe(
        `${spans.length}\n`,
      );
      expect(
        await remote.query("SELECT Count, WeightedScore FROM llm_feedback_scores WHERE Provider = 'enc-p'", 'CSV'),
      ).toBe('1,-4\n');
    } finally {
      await remote.close();
    }
  });
});

describe('raw HTTP', () => {
  it('answers /ping and GET / with Ok.', async () => {
    for (const path of ['/ping', '/']) {
      const r = await fetch(base() + path);
      expect(r.status).toBe(200);
      expect(await r.text()).toBe('Ok.\n');
    }
  });

  it('takes the query from the URL, the body, or a URL prefix plus body', async () => {
    const get = await fetch(`${base()}/?query=${encodeURIComponent('SELECT 1 + 1')}`);
    expect(await get.text()).toBe('2\n');
    expect(get.headers.get('x-clickhouse-format')).toBe('TabSeparated');
    const post = await fetch(base(), { method: 'POST', body: 'SELECT 40 + 2 AS x FORMAT JSONEachRow' });
    expect(await post.text()).toBe('{"x":42}\n');
    const both = await fetch(`${base()}/?query=${encodeURIComponent('SELECT 7 AS')}`, {
      method: 'POST',
      body: 'y FORMAT JSONEachRow',
    });
    expect(await both.text()).toBe('{"y":7}\n');
  });

  it('sends the X-ClickHouse-* headers', async () => {
    const r = await fetch(
      `${base()}/?query_id=abc-123&query=${encodeURIComponent('SELECT number FROM numbers(10) FORMAT CSV')}`,
    );
    expect(r.headers.get('x-clickhouse-query-id')).toBe('abc-123');
    expect(r.headers.get('x-clickhouse-format')).toBe('CSV');
    expect(r.headers.get('x-clickhouse-server-display-name')).toBe('switchyard');
    expect(r.headers.get('x-clickhouse-timezone')).toMatch(/UTC|\//);
    expect(r.headers.get('content-type')).toMatch(/^text\/csv/);
    const summary = JSON.parse(r.headers.get('x-clickhouse-summary') ?? '{}') as Record<string, string>;
    expect(Number(summary.read_rows)).toBe(10);
    expect((await r.text()).split('\n')).toHaveLength(11);
  });

  it('honours default_format and FORMAT for JSONCompact, TabSeparated, CSV and Native', async () => {
    const q = (sql: string, params = '') => fetch(`${base()}/?query=${encodeURIComponent(sql)}${params}`);
    expect(await (await q("SELECT 1 AS a, 'x' AS b", '&default_format=CSV')).text()).toBe('1,"x"\n');
    const compact = JSON.parse(await (await q("SELECT 1 AS a, 'x' AS b FORMAT JSONCompact")).text()) as {
      data: unknown;
    };
    expect(compact.data).toEqual([[1, 'x']]);
    expect(await (await q("SELECT 'a\tb' AS s FORMAT TabSeparated")).text()).toBe('a\\tb\n');
    // Native: 1 column, 1 row, name "x", type "UInt8", value 7 — byte for byte.
    const native = Buffer.from(await (await q('SELECT toUInt8(7) AS x FORMAT Native')).arrayBuffer());
    expect([...native]).toEqual([1, 1, 1, 0x78, 5, ...Buffer.from('UInt8'), 7]);
  });

  it('uses the database parameter for unqualified names', async () => {
    const r = await fetch(`${base()}/?database=system&query=${encodeURIComponent('SELECT dummy FROM one')}`);
    expect(await r.text()).toBe('0\n');
    // ...and does not leave the session there.
    const after = await fetch(`${base()}/?query=${encodeURIComponent('SELECT currentDatabase()')}`);
    expect(await after.text()).toBe('switchyard\n');
  });

  it('returns ClickHouse-style errors with the server status and exception code', async () => {
    const syntax = await fetch(base(), { method: 'POST', body: 'SELEC 1' });
    expect(syntax.status).toBe(400);
    expect(syntax.headers.get('x-clickhouse-exception-code')).toBe('62');
    expect(await syntax.text()).toMatch(/^Code: 62\. DB::Exception: .*\(SYNTAX_ERROR\)/);
    const unknown = await fetch(base(), { method: 'POST', body: 'SELECT * FROM nope' });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('x-clickhouse-exception-code')).toBe('60');
    const multi = await fetch(base(), { method: 'POST', body: "SELECT 1; SELECT ';'" });
    expect(multi.status).toBe(400);
    expect(await multi.text()).toMatch(/Multi-statements are not allowed.*\(SYNTAX_ERROR\)/);
  });

  it('rejects writes (READONLY, 164) and escapes to the outside world (READONLY or ACCESS_DENIED, 497)', async () => {
    for (const sql of [
      'DROP TABLE llm_feedback',
      "INSERT INTO llm_feedback (TraceId, Value) VALUES ('x', 1)",
      'CREATE TABLE t (a UInt8) ENGINE = Memory',
      "SELECT * FROM file('/etc/passwd', 'LineAsString')",
      "SELECT * FROM url('http://127.0.0.1:1/', 'CSV', 'a String')",
      "SELECT 1 INTO OUTFILE '/tmp/x.csv'",
    ]) {
      const r = await fetch(base(), { method: 'POST', body: sql });
      // READONLY (164, answered with 500 as a server does) from the engine, or ACCESS_DENIED (497, 403)
      // from the guard for what readonly leaves open (engine-guard.ts).
      const code = r.headers.get('x-clickhouse-exception-code');
      expect(
        [
          ['164', 500],
          ['497', 403],
        ],
        sql,
      ).toContainEqual([code, r.status]);
      expect(await r.text()).toMatch(/^Code: (164|497)\. DB::Exception: .*\((READONLY|ACCESS_DENIED)\)/);
    }
    const stillThere = await fetch(`${base()}/?query=${encodeURIComponent('EXISTS TABLE llm_feedback')}`);
    expect(await stillThere.text()).toBe('1\n');
    // A keyword inside a string literal is not a write.
    const literal = await fetch(base(), { method: 'POST', body: "SELECT 'DROP TABLE x; file(1)' AS s FORMAT TSV" });
    expect(await literal.text()).toBe('DROP TABLE x; file(1)\n');
    // GET is read-only even on a writable server, as on ClickHouse.
    const get = await fetch(
      `http://127.0.0.1:${rw.port}/?query=${encodeURIComponent('CREATE TABLE t2 (a UInt8) ENGINE = Memory')}`,
    );
    expect(get.headers.get('x-clickhouse-exception-code')).toBe('164');
  });
});
