// llm_cache_1h against the workload's truth, through the real exporter path (sidecar → OTLP →
// collector → embedded ClickHouse): requests, hits, misses, refreshes, and the saved cost equal
// to what the original answers cost (priced from the usage the client saw).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { startDevStack, type DevStack } from '../../src/commands/dev-stack.js';
import { parseJsonEachRow } from '../../src/store/embedded.js';
import { renderReport } from '../../src/store/report.js';
import { startFakeOpenAI, type FakeServer } from '../fakes/openai.js';
import { post } from '../helpers/sidecar.js';

const KEY = 'sk-FAKE-cache-ch-0123456789';
// gpt-4o at the built-in price: $2.50 in / $10 out per 1M tokens.
const cost = (u: { prompt_tokens: number; completion_tokens: number }) =>
  u.prompt_tokens * 2.5e-6 + u.completion_tokens * 10e-6;
let fake: FakeServer;
let stack: DevStack;
let dir: string;

beforeAll(async () => {
  fake = await startFakeOpenAI({ apiKey: KEY });
  dir = mkdtempSync(join(tmpdir(), 'sy-cache-ch-'));
  const config = parseConfigText(
    `
providers:
  a: {type: openai, api_key: "${KEY}", base_url: "${fake.url}/v1"}
configs:
  cached: {provider: "@a", override_params: {model: gpt-4o}, cache: {mode: simple}}
  plain: {provider: "@a", override_params: {model: gpt-4o}}
default_config: cached
server: {require_virtual_key: false}
`,
    'cache-ch.yaml',
    {},
  );
  delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  process.env.OTEL_BSP_SCHEDULE_DELAY = '100';
  stack = await startDevStack({ argv: [], config, dataDir: dir, sidecarPort: 0, otlpPort: 0, clickhouseHttpPort: 0 });
}, 120_000);

afterAll(async () => {
  await stack?.close();
  await fake?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('llm_cache_1h', () => {
  it('counts hits, misses and refreshes and sums the saved cost as the workload did', {
    timeout: 120_000,
  }, async () => {
    const base = `http://127.0.0.1:${stack.sidecarPort}/v1/chat/completions`;
    const truth = { requests: 0, hits: 0, misses: 0, refreshes: 0, disabled: 0, savedUsd: 0 };
    const seen = new Map<number, number>(); // body index -> cost of the answer in the cache
    const statusOf = (r: { headers: Headers }) => r.headers.get('x-switchyard-cache-status');
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 4; i++) {
        const body = {
          model: 'gpt-4o',
          max_tokens: 10 + i * 5,
          messages: [{ role: 'user', content: `question ${i} `.repeat(i + 1) }],
          stream: round === 2 && i % 2 === 0 ? true : undefined,
        };
        const refresh = round === 1 && i === 3;
        const r = await post(base, body, refresh ? { 'x-switchyard-cache-force-refresh': 'true' } : {});
        expect(r.status).toBe(200);
        truth.requests++;
        const s = statusOf(r);
        if (s === 'HIT') {
          truth.hits++;
          truth.savedUsd += seen.get(i)!;
        } else {
          expect(s).toBe(refresh ? 'REFRESH' : 'MISS');
          if (refresh) truth.refreshes++;
          else truth.misses++;
          seen.set(i, cost(r.json.usage));
        }
      }
    }
    // Another config: DISABLED, counted as a request, not as cacheable.
    await post(
      base,
      { model: 'gpt-4o', messages: [{ role: 'user', content: 'plain' }] },
      { 'x-switchyard-config': 'plain' },
    );
    truth.requests++;
    truth.disabled++;
    expect(truth).toMatchObject({ hits: 7, misses: 4, refreshes: 1 });

    const deadline = Date.now() + 60_000;
    let rows: Record<string, unknown>[] = [];
    for (;;) {
      await stack.sidecar.telemetry.flush();
      rows = parseJsonEachRow(
        await stack.store.query(
          'SELECT sum(Requests) AS requests, sum(Cacheable) AS cacheable, sum(Hits) AS hits, sum(SemanticHits) AS semantic, sum(Misses) AS misses, sum(Refreshes) AS refreshes, sum(SavedCostUSD) AS saved, sum(SavedMs) AS ms FROM llm_cache_1h',
          'JSONEachRow',
        ),
      );
      if (Number(rows[0].requests) >= truth.requests || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const r = rows[0];
    expect([
      Number(r.requests),
      Number(r.cacheable),
      Number(r.hits),
      Number(r.semantic),
      Number(r.misses),
      Number(r.refreshes),
    ]).toEqual([truth.requests, truth.requests - truth.disabled, truth.hits, 0, truth.misses, truth.refreshes]);
    expect(Number(r.saved)).toBeCloseTo(truth.savedUsd, 12);
    expect(Number(r.ms)).toBeGreaterThanOrEqual(0);
    // llm_requests carries the status; hits have no attempts and no cost.
    const byStatus = parseJsonEachRow(
      await stack.store.query(
        'SELECT CacheStatus AS s, count() AS n, max(Attempts) AS a FROM llm_requests GROUP BY s ORDER BY s',
        'JSONEachRow',
      ),
    );
    expect(byStatus.map((x) => [x.s, Number(x.n), Number(x.a)])).toEqual([
      ['DISABLED', 1, 1],
      ['HIT', 7, 0],
      ['MISS', 4, 1],
      ['REFRESH', 1, 1],
    ]);
    // switchyard report: a cache section from the dashboard panel's SQL.
    const report = await renderReport(async (sql) => parseJsonEachRow(await stack.store.query(sql, 'JSONEachRow')), {
      since: '1h',
    });
    const section = report.slice(report.indexOf('Response cache per config'));
    expect(section).toMatch(/cached\s+12\s+7\s+0\s+4\s+1\s+58\.3%/);
    expect(section).not.toMatch(/^plain/m);
  });
});
