// Hedged requests through the sidecar, against fake providers on 127.0.0.1: a primary that is
// slow to its first byte, a second target that answers at once.
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeServer } from '../fakes/openai.js';
import { chat, post, sseData, startSidecar, type TestSidecar } from '../helpers/sidecar.js';

let slow: FakeServer;
let fast: FakeServer;
let sc: TestSidecar;

beforeAll(async () => {
  slow = await startFakeOpenAI();
  fast = await startFakeOpenAI();
  sc = await startSidecar(
    `
providers:
  slow: {type: openai, api_key: k, base_url: "${slow.url}/v1"}
  fast: {type: openai, api_key: k, base_url: "${fast.url}/v1"}
configs:
  hedged:
    strategy: {mode: fallback}
    hedge: {delay_ms: 150, max_attempts: 2, budget_percent: 100}
    targets:
      - {provider: "@slow", override_params: {model: gpt-4o}}
      - {provider: "@fast", override_params: {model: gpt-4o-mini}}
default_config: hedged
`,
    { telemetry: true },
  );
});
afterAll(async () => {
  await sc.close();
  await Promise.all([slow.close(), fast.close()]);
});
beforeEach(() => {
  slow.reset();
  fast.reset();
  sc.spans!.reset();
});

async function until(ok: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}

async function spansOf(n: number): Promise<{ server: ReadableSpan[]; client: ReadableSpan[] }> {
  await until(() => sc.spans!.getFinishedSpans().length >= n);
  const all = sc.spans!.getFinishedSpans();
  return { server: all.filter((s) => s.kind === 1), client: all.filter((s) => s.kind === 2) };
}

describe('hedged requests', () => {
  it('a stream: the client gets exactly one stream, the winner’s, and the loser’s upstream connection is closed', async () => {
    // Headers at once, then no first event for 5 s: only a first byte counts.
    slow.setDefault({ firstChunkDelayMs: 5_000 });
    const t0 = Date.now();
    const r = await post(`${sc.url}/v1/chat/completions`, chat('hedge me', { stream: true }));
    const ms = Date.now() - t0;
    expect(r.status).toBe(200);
    expect(r.headers.get('x-switchyard-provider')).toBe('fast');
    expect(ms).toBeLessThan(4_000); // not the primary's 5 s
    const data = sseData(r.text);
    expect(data.filter((d) => d === '[DONE]')).toHaveLength(1);
    const chunks = data.filter((d) => d !== '[DONE]').map((d) => JSON.parse(d) as { id: string; model: string });
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1); // one upstream stream, not two interleaved
    expect(new Set(chunks.map((c) => c.model))).toEqual(new Set(['gpt-4o-mini']));
    const text = chunks
      .map((c) => (c as unknown as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content ?? '')
      .join('');
    expect(text).toBe('Hello from fake-openai: hedge me');
    // The primary was asked, then cut off: its connection closed before it answered.
    expect(slow.requests).toHaveLength(1);
    await until(() => slow.aborted === 1);
    expect(slow.aborted).toBe(1);
    expect(fast.aborted).toBe(0);

    const { server, client } = await spansOf(3);
    expect(client).toHaveLength(2);
    const primary = client.find((s) => s.attributes['switchyard.attempt'] === 0)!;
    const hedge = client.find((s) => s.attributes['switchyard.attempt'] === 1)!;
    expect(primary.attributes).toMatchObject({ 'switchyard.outcome': 'cancelled', 'switchyard.target': '0' });
    expect(primary.attributes['switchyard.hedge']).toBeUndefined();
    expect(hedge.attributes).toMatchObject({
      'switchyard.outcome': 'ok',
      'switchyard.hedge': true,
      'switchyard.target': '1',
    });
    expect(server[0].attributes).toMatchObject({
      'switchyard.hedges': 1,
      'switchyard.hedge.won': true,
      'switchyard.hedge.winner': 1,
      'switchyard.rescued': false, // the primary did not fail: it was slow
      'switchyard.attempts': 2,
    });
  });

  it('non-stream: the complete answer wins; a fast primary needs no hedge', async () => {
    slow.setDefault({ delayHeadersMs: 5_000 });
    const r = await post(`${sc.url}/v1/chat/completions`, chat('whole'));
    expect(r.status).toBe(200);
    expect(r.headers.get('x-switchyard-provider')).toBe('fast');
    expect((r.json as { model: string }).model).toBe('gpt-4o-mini');
    await until(() => slow.aborted === 1);
    expect(slow.aborted).toBe(1);

    slow.setDefault(undefined);
    const quick = await post(`${sc.url}/v1/chat/completions`, chat('quick'));
    expect(quick.headers.get('x-switchyard-provider')).toBe('slow');
    expect(quick.headers.get('x-switchyard-attempts')).toBe('1');
    expect(fast.requests).toHaveLength(1); // only the first request's hedge
  });

  it('x-switchyard-hedge: false: no hedge, the request waits for its target', async () => {
    slow.setDefault({ delayHeadersMs: 600 });
    const r = await post(`${sc.url}/v1/chat/completions`, chat('no hedge'), { 'x-switchyard-hedge': 'false' });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-switchyard-provider')).toBe('slow');
    expect(r.headers.get('x-switchyard-attempts')).toBe('1');
    expect(fast.requests).toHaveLength(0);
    const { server } = await spansOf(2);
    expect(server[0].attributes['switchyard.hedges']).toBeUndefined();
  });

  it('counts hedges started and won on /metrics', async () => {
    slow.setDefault({ delayHeadersMs: 5_000 });
    const r = await post(`${sc.url}/v1/chat/completions`, chat('metrics'));
    expect(r.headers.get('x-switchyard-provider')).toBe('fast');
    await spansOf(3);
    let text = '';
    const value = (name: string) =>
      [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, 'gm'))].reduce((s, m) => s + Number(m[1]), 0);
    // Counters are summed per export batch: poll briefly.
    for (let i = 0; i < 50 && value('switchyard_hedges_won_total') === 0; i++) {
      text = await (await fetch(`${sc.url}/metrics`)).text();
      if (value('switchyard_hedges_won_total') === 0) await new Promise((r) => setTimeout(r, 40));
    }
    expect(value('switchyard_hedges_started_total')).toBeGreaterThanOrEqual(1);
    expect(value('switchyard_hedges_won_total')).toBeGreaterThanOrEqual(1);
  });

  it('a primary that fails before the delay falls back at once; the answer counts as rescued', async () => {
    slow.enqueue({ status: 503 });
    const r = await post(`${sc.url}/v1/chat/completions`, chat('rescue'));
    expect(r.status).toBe(200);
    expect(r.headers.get('x-switchyard-provider')).toBe('fast');
    const { server, client } = await spansOf(3);
    expect(client.map((c) => c.attributes['switchyard.outcome']).sort()).toEqual(['http_error', 'ok']);
    expect(client.every((c) => c.attributes['switchyard.hedge'] === undefined)).toBe(true); // a fallback, not a hedge
    expect(server[0].attributes).toMatchObject({ 'switchyard.rescued': true, 'switchyard.hedges': 0 });
  });
});
