// Migrations: the single-node render runs on the real engine and is idempotent; the cluster
// render is checked statement by statement (no cluster here to run it on).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedStore, parseJsonEachRow } from '../../src/store/embedded.js';
import { listMigrations, migrate, renderSchema, type MigrationTarget } from '../../src/store/migrate.js';
import { render } from '../../src/store/template.js';
import { tempDataDir } from './helpers.js';

let store: EmbeddedStore;
const tmp = tempDataDir('migrate');
const target = (): MigrationTarget => ({
  exec: async (sql) => void (await store.run(sql, {})),
  queryRows: async (sql) => parseJsonEachRow(await store.query(sql)),
});
const rows = async (sql: string) => parseJsonEachRow(await store.query(sql));

beforeAll(async () => {
  store = await EmbeddedStore.open({ dataDir: tmp.dir });
});
afterAll(async () => {
  await store?.close();
  tmp.cleanup();
});

const CONTRACT_OBJECTS = [
  'otel_traces',
  'otel_traces_trace_id_ts',
  'otel_traces_trace_id_ts_mv',
  'llm_attempts',
  'llm_requests',
  'llm_feedback',
  'llm_latency_1m',
  'llm_rescued_1m',
  'llm_cost_1h',
  'llm_feedback_scores',
  'llm_spend_1d',
  'llm_guardrails_1h',
  'llm_cache_1h',
];

describe('migrations on chdb', () => {
  it('applied every version on open and creates every contract table and view', async () => {
    expect(store.lastMigration?.applied.map((m) => m.version)).toEqual(listMigrations().map((m) => m.version));
    const names = (await rows(`SELECT name FROM system.tables WHERE database = 'switchyard'`)).map((r) => r.name);
    for (const n of CONTRACT_OBJECTS) expect(names).toContain(n);
  });

  it('is idempotent: a second run applies nothing and records nothing twice', async () => {
    const again = await migrate(target(), { database: 'switchyard' });
    expect(again.applied).toEqual([]);
    expect(again.alreadyApplied).toHaveLength(listMigrations().length);
    const [r] = await rows(`SELECT count() AS n, uniqExact(Version) AS v FROM switchyard.schema_migrations`);
    expect(r).toEqual({ n: String(listMigrations().length), v: String(listMigrations().length) });
    // Re-running every statement (as after a crash mid-migration) is harmless too.
    for (const stmt of renderSchema({ database: 'switchyard' })) await store.run(stmt, {});
  });

  it('creates otel_traces with the exporter columns, types, codecs, indexes, partition and sort key', async () => {
    const cols = await rows(
      `SELECT name, type, compression_codec AS codec FROM system.columns WHERE database = 'switchyard' AND table = 'otel_traces' ORDER BY position`,
    );
    const map = 'Map(LowCardinality(String), String)';
    expect(cols.map((c) => [c.name, c.type])).toEqual([
      ['Timestamp', 'DateTime64(9)'],
      ['TraceId', 'String'],
      ['SpanId', 'String'],
      ['ParentSpanId', 'String'],
      ['TraceState', 'String'],
      ['SpanName', 'LowCardinality(String)'],
      ['SpanKind', 'LowCardinality(String)'],
      ['ServiceName', 'LowCardinality(String)'],
      ['ResourceAttributes', map],
      ['ScopeName', 'String'],
      ['ScopeVersion', 'String'],
      ['SpanAttributes', map],
      ['Duration', 'UInt64'],
      ['StatusCode', 'LowCardinality(String)'],
      ['StatusMessage', 'String'],
      ['Events.Timestamp', 'Array(DateTime64(9))'],
      ['Events.Name', 'Array(LowCardinality(String))'],
      ['Events.Attributes', `Array(${map})`],
      ['Links.TraceId', 'Array(String)'],
      ['Links.SpanId', 'Array(String)'],
      ['Links.TraceState', 'Array(String)'],
      ['Links.Attributes', `Array(${map})`],
    ]);
    expect(cols[0].codec).toBe('CODEC(Delta(8), ZSTD(1))');
    expect(cols.slice(1).every((c) => c.codec === 'CODEC(ZSTD(1))')).toBe(true);
    const idx = await rows(
      `SELECT name, type_full, expr FROM system.data_skipping_indices WHERE database = 'switchyard' AND table = 'otel_traces' ORDER BY name`,
    );
    expect(idx.map((i) => `${i.name} ${i.type_full} ${i.expr}`)).toEqual([
      'idx_duration minmax Duration',
      'idx_res_attr_key bloom_filter(0.01) mapKeys(ResourceAttributes)',
      'idx_res_attr_value bloom_filter(0.01) mapValues(ResourceAttributes)',
      'idx_span_attr_key bloom_filter(0.01) mapKeys(SpanAttributes)',
      'idx_span_attr_value bloom_filter(0.01) mapValues(SpanAttributes)',
      'idx_trace_id bloom_filter(0.001) TraceId',
    ]);
    const [t] = await rows(
      `SELECT engine, partition_key, sorting_key, engine_full FROM system.tables WHERE database = 'switchyard' AND name = 'otel_traces'`,
    );
    expect(t.engine).toBe('MergeTree');
    expect(t.partition_key).toBe('toDate(Timestamp)');
    expect(t.sorting_key).toBe('ServiceName, SpanName, toDateTime(Timestamp)');
    expect(String(t.engine_full)).toContain('index_granularity = 8192, ttl_only_drop_parts = 1');
  });

  it('renders the database name and a TTL, and that render runs too', async () => {
    const opts = { database: 'sy_ttl', ttlDays: 7 };
    const res = await migrate(target(), opts);
    expect(res.applied).toHaveLength(listMigrations().length);
    const [t] = await rows(`SELECT engine_full FROM system.tables WHERE database = 'sy_ttl' AND name = 'otel_traces'`);
    expect(String(t.engine_full)).toContain('TTL toDateTime(Timestamp) + toIntervalDay(7)');
    const views = await rows(`SELECT name FROM system.tables WHERE database = 'sy_ttl' AND name = 'llm_latency_1m'`);
    expect(views).toHaveLength(1);
  });
});

describe('cluster render', () => {
  const stmts = renderSchema({ database: 'sy', cluster: '{cluster}' });
  const single = renderSchema({ database: 'sy' });

  it('puts ON CLUSTER on every statement that creates, changes or drops something', () => {
    for (const s of stmts) expect(s, s.slice(0, 80)).toMatch(/^(CREATE|ALTER|DROP) [\s\S]*? ON CLUSTER '\{cluster\}'/);
    for (const s of single) expect(s).not.toMatch(/ON CLUSTER|Replicated|Distributed|_local\b/);
  });

  it('uses Replicated engines for every local table and no plain MergeTree', () => {
    const tables = stmts.filter((s) => /ENGINE = /.test(s) && !/Distributed\(/.test(s));
    expect(tables.length).toBeGreaterThanOrEqual(9);
    for (const s of tables) {
      expect(s).toMatch(
        /ENGINE = Replicated(MergeTree|AggregatingMergeTree)\('\/clickhouse\/tables\/(\{shard\}|all)\/\{database\}\/\{table\}', '\{replica\}'\)/,
      );
    }
    const otel = stmts.find((s) => s.includes('CREATE TABLE IF NOT EXISTS sy.otel_traces_local'));
    expect(otel).toContain("ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')");
    const migrations = stmts.find((s) => s.includes('sy.schema_migrations'));
    expect(migrations).toContain("ReplicatedMergeTree('/clickhouse/tables/all/{database}/{table}', '{replica}')");
  });

  it('creates a Distributed table over each local table under the contract name', () => {
    const dist = stmts.filter((s) => s.includes('ENGINE = Distributed('));
    // llm_requests' is created again after 011 adds columns to its local table.
    const names = [...new Set(dist.map((s) => /CREATE TABLE IF NOT EXISTS sy\.(\w+) /.exec(s)?.[1]))].sort();
    expect(names).toEqual([
      'llm_attempts',
      'llm_cache_1h_state',
      'llm_cost_1h_state',
      'llm_feedback',
      'llm_guardrails_1h_state',
      'llm_latency_1h_state',
      'llm_latency_1m_state',
      'llm_requests',
      'llm_rescued_1m_state',
      'llm_spend_1d_state',
      'otel_traces',
      'otel_traces_trace_id_ts',
    ]);
    const creates = stmts
      .map((s, i) => (s.includes('CREATE TABLE IF NOT EXISTS sy.llm_requests ON') ? i : -1))
      .filter((i) => i >= 0);
    expect(stmts.findIndex((s) => s.startsWith('DROP TABLE IF EXISTS sy.llm_requests ON'))).toBeLessThan(
      Math.max(...creates),
    );
    expect(dist.find((s) => s.includes('sy.otel_traces ON'))).toContain(
      "AS sy.otel_traces_local\nENGINE = Distributed('{cluster}', 'sy', 'otel_traces_local', cityHash64(TraceId))",
    );
  });

  it('feeds materialized views from local tables into local tables, and reads views from Distributed ones', () => {
    const mvs = stmts.filter((s) => s.startsWith('CREATE MATERIALIZED VIEW'));
    expect(mvs).toHaveLength(12); // llm_requests_mv twice (011 recreates it), llm_attempts_mv twice (015)
    for (const s of mvs) {
      expect(s).toMatch(/\sTO sy\.\w+_local\b/);
      expect(s).toMatch(/FROM sy\.\w+_local\b/);
    }
    const views = stmts.filter((s) => s.startsWith('CREATE VIEW'));
    expect(views).toHaveLength(8);
    for (const s of views) expect(s).not.toMatch(/_local\b/);
  });

  it('rejects names that would break out of the DDL', () => {
    expect(() => render('{{database}}', { database: 'x; DROP TABLE y' })).toThrow(/plain identifier/);
    expect(() => render('{{on_cluster}}', { cluster: "c' ; DROP" })).toThrow(/cluster name/);
  });
});
