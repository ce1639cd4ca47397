// A key's budget counter against what ClickHouse shows for it: after a mixed run (plain,
// streamed, rescued after a failed attempt, embeddings, refused) through the real exporter path
// (sidecar → OTLP → collector → embedded ClickHouse), the settled spend equals the sum of
// llm_requests.CostUSD for that key.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { startDevStack, type DevStack } from '../../src/commands/dev-stack.js';
import { parseJsonEachRow } from '../../src/store/embedded.js';
import { startFakeOpenAI, type FakeServer } from '../fakes/openai.js';
import { chat, post } from '../helpers/sidecar.js';

const KEY = 'sk-FAKE-reconcile-0123456789';
const VK = 'vk-reconcile-0123456789abcdef';
let a: FakeServer;
let b: FakeServer;
let stack: DevStack;
let dir: string;

beforeAll(async () => {
  a = await startFakeOpenAI({ apiKey: KEY });
  b = await startFakeOpenAI({ apiKey: KEY });
  dir = mkdtempSync(join(tmpdir(), 'sy-reconcile-'));
  const config = parseConfigText(
    `
providers:
  a: {type: openai, api_key: "${KEY}", base_url: "${a.url}/v1"}
  b: {type: openai, api_key: "${KEY}", base_url: "${b.url}/v1"}
configs:
  default:
    strategy: {mode: fallback}
    targets:
      - {provider: "@a", override_params: {model: gpt-4o}}
      - {provider: "@b", override_params: {model: gpt-4o-mini}}
  embed: {provider: "@a", override_params: {model: text-embedding-3-small}}
default_config: default
virtual_keys:
  team: {key: ${VK}, budget: {max_cost_usd: 5, period: month}}
`,
    'reconcile.yaml',
    {},
  );
  delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  process.env.OTEL_BSP_SCHEDULE_DELAY = '100';
  stack = await startDevStack({ argv: [], config, dataDir: dir, sidecarPort: 0, otlpPort: 0, clickhouseHttpPort: 0 });
}, 120_000);

afterAll(async () => {
  await stack?.close();
  delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  await Promise.all([a?.close(), b?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('budget counter vs ClickHouse', () => {
  it('settles exactly what llm_requests records as CostUSD for the key', { timeout: 120_000 }, async () => {
    const base = `http://127.0.0.1:${stack.sidecarPort}`;
    const auth = { authorization: `Bearer ${VK}` };
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      if (i % 4 === 1) a.enqueue({ status: 500 }); // rescued by b after a failed attempt
      statuses.push(
        (await post(`${base}/v1/chat/completions`, chat(`question ${i} `.repeat(i + 1), { max_tokens: 40 }), auth))
          .status,
      );
    }
    for (let i = 0; i < 4; i++) {
      const r = await fetch(`${base}/v1/chat/completions`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify(chat(`stream ${i}`, { stream: true })),
      });
      statuses.push(r.status);
      await r.text();
    }
    for (let i = 0; i < 3; i++)
      statuses.push(
        (
          await post(
            `${base}/v1/embeddings`,
            { model: 'x', input: `embed this ${i}` },
            { ...auth, 'x-switchyard-config': 'embed' },
          )
        ).status,
      );
    // Refused: never reaches a provider, costs nothing, still a row.
    statuses.push(
      (await post(`${base}/v1/chat/completions`, chat(), { ...auth, 'x-switchyard-config': 'no-such-config' })).status,
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(19);

    // Settles land just after the answers.
    let self = await fetch(`${base}/v1/keys/self`, { headers: auth }).then((r) => r.json());
    for (let i = 0; i < 100 && self.budget.reserved !== 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      self = await fetch(`${base}/v1/keys/self`, { headers: auth }).then((r) => r.json());
    }
    expect(self.budget.reserved).toBe(0);
    const settled = self.budget.used as number;
    expect(settled).toBeGreaterThan(0);

    const deadline = Date.now() + 60_000;
    let rows: Record<string, unknown>[] = [];
    let spend: Record<string, unknown>[] = [];
    // llm_spend_1d is fed from llm_requests by a chained view: its part lands a moment after
    // llm_requests' within the same insert, so wait for both.
    for (;;) {
      await stack.sidecar.telemetry.flush();
      rows = parseJsonEachRow(
        await stack.store.query(
          "SELECT count() AS n, sum(ifNull(CostUSD, 0)) AS cost FROM llm_requests WHERE VirtualKey = 'team'",
          'JSONEachRow',
        ),
      );
      spend = parseJsonEachRow(
        await stack.store.query("SELECT Requests, CostUSD FROM llm_spend_1d WHERE VirtualKey = 'team'", 'JSONEachRow'),
      );
      if ((Number(rows[0].n) >= 19 && Number(spend[0]?.Requests) >= 19) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(Number(rows[0].n)).toBe(19); // the 400 (unknown config) is refused before a key is identified
    const stored = Number(rows[0].cost);
    expect(Math.abs(settled - stored) / stored).toBeLessThan(0.001);
    expect(Number(spend[0].Requests)).toBe(19);
    expect(Number(spend[0].CostUSD)).toBeCloseTo(stored, 9);
  });
});
