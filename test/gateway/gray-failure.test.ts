// The story Switchyard exists for: a provider that degrades slowly (answers late instead of
// failing). The sidecar times it out, falls back, and once its breaker opens stops paying the
// timeout at all; after the cooldown one probe request at a time checks whether it recovered.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeServer } from '../fakes/openai.js';
import { chat, post, startSidecar, type TestSidecar } from '../helpers/sidecar.js';

let slow: FakeServer;
let backup: FakeServer;
let sc: TestSidecar;

beforeAll(async () => {
  slow = await startFakeOpenAI();
  backup = await startFakeOpenAI();
  sc = await startSidecar(`
providers:
  primary: {type: openai, api_key: k, base_url: "${slow.url}/v1"}
  backup: {type: openai, api_key: k, base_url: "${backup.url}/v1"}
configs:
  default:
    strategy: {mode: fallback}
    targets:
      - {provider: "@primary", override_params: {model: gpt-4o}, request_timeout: 250}
      - {provider: "@backup", override_params: {model: gpt-4o-mini}}
default_config: default
breaker: {failure_threshold: 3, cooldown_ms: 1500}
`);
});
afterAll(async () => {
  await sc.close();
  await Promise.all([slow.close(), backup.close()]);
});

describe('gray failure', () => {
  it('routes around a provider that answers after 45 s instead of failing', async () => {
    slow.setDefault({ delayHeadersMs: 45_000 });
    const timings: Array<{ ms: number; attempts: string | null; provider: string | null }> = [];
    for (let i = 0; i < 8; i++) {
      const t0 = Date.now();
      const r = await post(`${sc.url}/v1/chat/completions`, chat(`q${i}`));
      expect(r.status).toBe(200);
      timings.push({
        ms: Date.now() - t0,
        attempts: r.headers.get('x-switchyard-attempts'),
        provider: r.headers.get('x-switchyard-provider'),
      });
    }
    // every request was answered by the backup
    expect(timings.every((t) => t.provider === 'backup')).toBe(true);
    // the first three paid the 250 ms timeout…
    expect(timings.slice(0, 3).every((t) => t.attempts === '2' && t.ms >= 240)).toBe(true);
    // …then the breaker opened: straight to the backup, no timeout paid
    expect(timings.slice(3).every((t) => t.attempts === '1' && t.ms < 240)).toBe(true);
    expect(slow.requests).toHaveLength(3);

    // after the cooldown, still slow: of concurrent requests only one probes the primary and
    // pays its timeout; the others go straight to the backup, and the probe re-opens the breaker
    await new Promise((r) => setTimeout(r, 1600));
    const burst = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const res = await post(`${sc.url}/v1/chat/completions`, chat(`burst${i}`));
        return { status: res.status, attempts: res.headers.get('x-switchyard-attempts') };
      }),
    );
    expect(burst.every((b) => b.status === 200)).toBe(true);
    expect(burst.filter((b) => b.attempts === '2')).toHaveLength(1);
    expect(slow.requests).toHaveLength(4);
    const after = await post(`${sc.url}/v1/chat/completions`, chat('after the probe'));
    expect(after.headers.get('x-switchyard-attempts')).toBe('1');
    expect(slow.requests).toHaveLength(4);

    // after the next cooldown the primary gets one trial; it has recovered, so traffic returns
    slow.setDefault(undefined);
    await new Promise((r) => setTimeout(r, 1600));
    const r = await post(`${sc.url}/v1/chat/completions`, chat('recovered?'));
    expect(r.headers.get('x-switchyard-provider')).toBe('primary');
    const r2 = await post(`${sc.url}/v1/chat/completions`, chat('again'));
    expect(r2.headers.get('x-switchyard-provider')).toBe('primary');
  });
});
