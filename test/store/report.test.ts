// `switchyard report` and `switchyard migrate` against the embedded store: the report prints
// the numbers seeded in the last hour (spend per virtual key included) and leaves older data out.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run as runMigrate } from '../../src/commands/migrate.js';
import { run as runReport } from '../../src/commands/report.js';
import { EmbeddedStore, parseJsonEachRow } from '../../src/store/embedded.js';
import { startClickHouseHttp } from '../../src/store/http-interface.js';
import { parseSince, renderReport } from '../../src/store/report.js';
import { tempDataDir } from './helpers.js';
import { requestSpans } from './spans.js';

let store: EmbeddedStore;
let http: { port: number; close(): Promise<void> };
const tmp = tempDataDir('report');
const query = async (sql: string) => parseJsonEachRow(await store.query(sql));

beforeAll(async () => {
  store = await EmbeddedStore.open({ dataDir: tmp.dir });
  const now = Date.now() - 5 * 60_000;
  const ok = (d: number, cost: number | null = 0.002) => ({
    provider: 'openai',
    model: 'gpt-4o',
    durationMs: d,
    costUsd: cost,
    inputTokens: 10,
    outputTokens: 5,
  });
  const spans = [];
  // 15 with the virtual key support-chat, 5 with batch-jobs, whose budget is nearly spent...
  for (let i = 0; i < 20; i++) {
    const key =
      i < 15 ? { virtualKey: 'support-chat', budgetUsage: 0.42 } : { virtualKey: 'batch-jobs', budgetUsage: 0.9 };
    spans.push(
      ...requestSpans({ atMs: now + i * 100, requestTraceId: `r-${i}`, ...key, attempts: [ok(100 + i * 10)] }),
    );
  }
  // ...so its next request is refused (412, no attempt).
  spans.push(...requestSpans({ atMs: now + 2000, virtualKey: 'batch-jobs', status: 412, attempts: [] }));
  // Two rescued by anthropic after an openai 503; one failed outright.
  for (let i = 0; i < 2; i++) {
    spans.push(
      ...requestSpans({
        atMs: now,
        attempts: [
          { ...ok(50), outcome: 'http_error', status: 503, costUsd: null },
          { provider: 'anthropic', model: 'claude-sonnet-4-6', durationMs: 300, costUsd: 0.01 },
        ],
      }),
    );
  }
  spans.push(...requestSpans({ atMs: now, attempts: [{ ...ok(40), outcome: 'timeout', status: 0, costUsd: null }] }));
  // Three hours old: outside --since 1h.
  spans.push(
    ...requestSpans({
      atMs: Date.now() - 3 * 3600_000,
      attempts: [{ provider: 'old-prov', model: 'old', durationMs: 5 }],
    }),
  );
  await store.insertTraces(spans);
  await store.insertFeedback([
    { Timestamp: Date.now(), TraceId: 'r-1', Value: 8, Weight: 1, Metadata: {} },
    { Timestamp: Date.now(), TraceId: 'r-2', Value: 2, Weight: 0.5, Metadata: {} },
  ]);
  http = await startClickHouseHttp({ store, port: 0 });
});

afterAll(async () => {
  await http?.close();
  await store?.close();
  tmp.cleanup();
});

describe('renderReport', () => {
  it('prints latency, rescues, cost and feedback for the window', async () => {
    const text = await renderReport(query, { since: '1h' });
    const line = (prefix: string) => text.split('\n').find((l) => l.startsWith(prefix)) ?? '';
    // 24 requests, 2 failed (8.3 %: one after its attempt, one refused), 2 rescued of 3 failed
    // first attempts (66.7 %), 25 attempts, cost 20 x 0.002 + 2 x 0.01 = 0.06 (failed attempts unpriced).
    expect(text).toMatch(/\n\s*24\s+8\.3%\s+2\s+66\.7%\s+1\.04\s+0\.06\n/);
    // openai: 20 ok + 3 failed attempts (503 twice, one timeout)
    expect(text).toMatch(/\nopenai\s+gpt-4o\s+0\s+3\s+23\s+13\.0%\s+503, /);
    // P95 of the openai attempts (40, 50, 50, 100..290 step 10): between the ranks around it
    // (270, 280), within DDSketch's 1 %.
    const p95 = Number(line('openai gpt-4o').split(/\s+/)[3]);
    expect(p95).toBeGreaterThan(270 * 0.99);
    expect(p95).toBeLessThan(280 * 1.01);
    expect(text).toMatch(/\ngpt-4o\s+0\.04\n/);
    expect(text).toMatch(/\nclaude-sonnet-4-6\s+0\.02\n/);
    expect(text).toMatch(/openai\s+gpt-4o\s+2\s+5\s+6\s+0\.0%/); // mean (8+2)/2, weighted (8+1)/1.5
    expect(text).not.toContain('old-prov');
  });

  it('prints spend per virtual key: requests, refused, cost, tokens and peak budget usage', async () => {
    const text = await renderReport(query, { since: '1h' });
    const section = text.split('\nSpend per virtual key\n')[1]?.split('\n\n')[0];
    expect(section, text).toBeDefined();
    const rows = section!
      .split('\n')
      .slice(2)
      .map((l) => l.split(/\s{2,}/));
    expect(rows).toEqual([
      ['support-chat', '15', '0', '0.03', '150', '75', '42.0%'],
      // the rescued and failed requests carried no key: 2 x 0.01 (the answering attempts had no token counts)
      ['(no key)', '3', '0', '0.02', '0', '0', '0.0%'],
      ['batch-jobs', '6', '1', '0.01', '50', '25', '90.0%'],
    ]);
    expect(section!.split('\n')[0].split(/\s{2,}/)).toEqual([
      'virtual key',
      'requests',
      'refused',
      'cost usd',
      'input tokens',
      'output tokens',
      'peak budget',
    ]);
  });

  it('prints no spend section where no virtual key is in use', async () => {
    // Every panel empty except the spend one, which has only requests without a key.
    const keyless = async (sql: string) =>
      sql.includes('llm_spend_1d')
        ? [
            {
              virtual_key: '',
              requests: '3',
              refused: '0',
              cost_usd: 0.02,
              input_tokens: '0',
              output_tokens: '0',
              peak_budget_usage: 0,
            },
          ]
        : [];
    const text = await renderReport(keyless, { since: '1h' });
    expect(text).toContain('Cost per model');
    expect(text).not.toMatch(/virtual key|no key/i);
    expect(await renderReport(async () => [], { since: '1h' })).not.toMatch(/virtual key/i);
  });

  it('parses --since and refuses nonsense', () => {
    expect(parseSince('1h')).toBe(3600);
    expect(parseSince('30m')).toBe(1800);
    expect(() => parseSince('1 week')).toThrow(/--since/);
  });
});

describe('commands', () => {
  it('report reads through the HTTP interface at CLICKHOUSE_URL', async () => {
    vi.stubEnv('CLICKHOUSE_URL', `http://127.0.0.1:${http.port}`);
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
    try {
      await runReport(['--since', '1h']);
    } finally {
      spy.mockRestore();
      vi.unstubAllEnvs();
    }
    expect(out.join('')).toMatch(/\nclaude-sonnet-4-6\s+0\.02\n/);
    expect(out.join('')).toMatch(/\nsupport-chat\s+15\s+0\s+0\.03\s/); // the spend query passes the read-only interface
  });

  it('migrate explains itself when CLICKHOUSE_URL is unset, and prints the cluster DDL', async () => {
    vi.stubEnv('CLICKHOUSE_URL', '');
    try {
      await expect(runMigrate([])).rejects.toThrow(/CLICKHOUSE_URL is not set/);
      const out: string[] = [];
      const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (out.push(String(chunk)), true));
      try {
        await runMigrate(['--print', '--cluster', 'prod']);
      } finally {
        spy.mockRestore();
      }
      expect(out.join('')).toContain("CREATE TABLE IF NOT EXISTS switchyard.otel_traces_local ON CLUSTER 'prod'");
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
