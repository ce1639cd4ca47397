// Slow-target ejection through the sidecar: a target that answers late without failing is
// ejected (an event on the request span, a log line, a metric), gets no traffic while out, and
// comes back after a probe once it is fast again. Fakes on 127.0.0.1.
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setLogSink } from '../../src/logger.js';
import { startFakeOpenAI, type FakeServer } from '../fakes/openai.js';
import { chat, post, startSidecar, type TestSidecar } from '../helpers/sidecar.js';

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
  lb:
    strategy: {mode: loadbalance}
    targets:
      - {provider: "@slow", override_params: {model: gpt-4o}}
      - {provider: "@fast", override_params: {model: gpt-4o-mini}}
default_config: lb
ejection: {min_samples: 3, min_gap_ms: 100, cooldown_ms: 3000}
`,
    { telemetry: true },
  );
});
afterAll(async () => {
  await sc.close();
  await Promise.all([slow.close(), fast.close()]);
});

const ejectionEvents = (spans: ReadableSpan[]) =>
  spans.flatMap((s) => s.events.filter((e) => e.name === 'switchyard.ejection').map((e) => e.attributes ?? {}));

describe('slow-target ejection', () => {
  it('ejects a target answering 400 ms late, routes around it, and returns it after a fast probe', async () => {
    slow.setDefault({ delayHeadersMs: 400 });
    const lines: string[] = [];
    const prev = setLogSink((l) => lines.push(l));
    try {
      // Weighted 50/50: both get samples until the slow one has 3 and is ejected (bounded).
      for (let i = 0; i < 40 && ejectionEvents(sc.spans!.getFinishedSpans()).length === 0; i++) {
        const r = await post(`${sc.url}/v1/chat/completions`, chat(`q${i}`));
        expect(r.status).toBe(200);
      }
      const until = Date.now() + 3_000;
      while (ejectionEvents(sc.spans!.getFinishedSpans()).length === 0 && Date.now() < until)
        await new Promise((r) => setTimeout(r, 20));
      const [ev] = ejectionEvents(sc.spans!.getFinishedSpans());
      expect(ev).toMatchObject({
        'switchyard.ejection.action': 'eject',
        'switchyard.ejection.target': '@slow||gpt-4o',
      });
      expect(Number(ev['switchyard.ejection.ewma_ms'])).toBeGreaterThan(3 * Number(ev['switchyard.ejection.best_ms']));
      expect(lines.some((l) => l.includes('"slow target ejected"') && l.includes('@slow||gpt-4o'))).toBe(true);

      // While out (cooldown 3 s), every request goes to the fast target.
      const before = slow.requests.length;
      for (let i = 0; i < 6; i++) {
        const r = await post(`${sc.url}/v1/chat/completions`, chat(`out${i}`));
        expect(r.headers.get('x-switchyard-provider')).toBe('fast');
      }
      expect(slow.requests.length).toBe(before);

      // Fast again; after the cooldown one probe finds it so and it is back.
      slow.setDefault(undefined);
      await new Promise((r) => setTimeout(r, 3_100));
      for (let i = 0; i < 20 && !lines.some((l) => l.includes('"ejected target returned"')); i++)
        await post(`${sc.url}/v1/chat/completions`, chat(`back${i}`));
      expect(lines.some((l) => l.includes('"ejected target returned"'))).toBe(true);
    } finally {
      setLogSink(prev);
    }
    const metrics = await (await fetch(`${sc.url}/metrics`)).text();
    expect(metrics).toMatch(/switchyard_ejections_total\{[^}]*switchyard_ejection_action="eject"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/switchyard_ejections_total\{[^}]*switchyard_ejection_action="return"[^}]*\} [1-9]/);
  });
});
