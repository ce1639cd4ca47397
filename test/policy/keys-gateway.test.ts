// Virtual keys, rate limits and budgets through a real sidecar (memory store) in front of the
// fake OpenAI server: what an app sees (statuses, headers, JSON errors), what the provider sees
// (the real key, never the virtual one), and what the spans record (the key's name only).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile, parseConfigText } from '../../src/config/load.js';
import { Sidecar } from '../../src/gateway/sidecar.js';
import { estimateInputTokens } from '../../src/policy/estimate.js';
import { startFakeOpenAI, type FakeServer } from '../fakes/openai.js';
import { chat, post, startSidecar, type TestSidecar } from '../helpers/sidecar.js';

const VK = {
  support: 'vk-support-0123456789abcdef',
  limited: 'vk-limited-0123456789abcdef',
  budget: 'vk-budget-0123456789abcdefgh',
  loose: 'vk-loose-0123456789abcdefghi',
  expired: 'vk-expired-0123456789abcdef',
  off: 'vk-disabled-0123456789abcdef',
  mini: 'vk-mini-only-0123456789abcdef',
  tpm: 'vk-tokens-0123456789abcdefgh',
};
// gpt-4o at the built-in price: $2.50 in / $10 out per 1M tokens.
const PRICE = { input: 2.5e-6, output: 10e-6 };
const BODY = chat('how many tokens is this?', { max_tokens: 20 });
const EST_USD = estimateInputTokens(BODY) * PRICE.input + 20 * PRICE.output;

let fake: FakeServer;
let sc: TestSidecar;

const config = (fakeUrl: string) => `
providers:
  a: {type: openai, api_key: sk-real-a, base_url: "${fakeUrl}/v1"}
  b: {type: openai, api_key: sk-real-b, base_url: "${fakeUrl}/v1"}
configs:
  main: {provider: "@a", override_params: {model: gpt-4o}}
  on-b: {provider: "@b", override_params: {model: gpt-4o}}
  mini: {provider: "@a", override_params: {model: gpt-4o-mini}}
default_config: main
virtual_keys:
  support: {key: ${VK.support}, providers: ["@a"], models: ["gpt-4o*"]}
  limited: {key: ${VK.limited}, rate_limit: {requests_per_minute: 3}}
  budget: {key: ${VK.budget}, budget: {max_cost_usd: ${(EST_USD * 10 + 1e-9).toFixed(12)}, period: 1d}}
  loose: {key: ${VK.loose}, budget: {max_cost_usd: 0.001, period: never, reserve_output_tokens: 1}}
  expired: {key: ${VK.expired}, expires_at: "2020-01-01T00:00:00Z"}
  off: {key: ${VK.off}, disabled: true}
  mini: {key: ${VK.mini}, models: ["gpt-4o-mini"]}
  tpm: {key: ${VK.tpm}, rate_limit: {tokens_per_minute: 200}}
`;

beforeAll(async () => {
  fake = await startFakeOpenAI({ apiKey: 'sk-real-a' });
  sc = await startSidecar(config(fake.url), { telemetry: true });
});
afterAll(async () => {
  await sc?.close();
  await fake?.close();
});

const bearer = (k: string) => ({ authorization: `Bearer ${k}` });
const self = (k: string) => fetch(`${sc.url}/v1/keys/self`, { headers: bearer(k) }).then((r) => r.json());
async function until(ok: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('identify', () => {
  it('accepts the key from each header an SDK or proxy sends, and sends the provider its real key', async () => {
    const headers: Record<string, string>[] = [
      bearer(VK.support),
      { 'x-api-key': VK.support },
      { 'x-switchyard-virtual-key': VK.support },
      { 'x-portkey-virtual-key': VK.support },
    ];
    for (const h of headers) {
      fake.reset();
      const r = await post(`${sc.url}/v1/chat/completions`, chat(), h);
      expect(r.status, JSON.stringify(h)).toBe(200);
      // The fake answers 401 to any key but sk-real-a; the virtual key never reaches it.
      expect(fake.requests).toHaveLength(1);
      expect(JSON.stringify(fake.requests[0])).not.toContain(VK.support);
    }
  });

  it('refuses a missing, unknown, expired or disabled key with one 401 that gives nothing away', async () => {
    const headers: Record<string, string>[] = [
      {},
      bearer('vk-unknown-0123456789abcdef'),
      bearer(VK.expired),
      bearer(VK.off),
      { 'x-switchyard-virtual-key': 'nope' },
    ];
    const answers = await Promise.all(headers.map((h) => post(`${sc.url}/v1/chat/completions`, chat(), h)));
    for (const r of answers) {
      expect(r.status).toBe(401);
      expect(r.json.error).toMatchObject({
        status: 401,
        code: 'invalid_api_key',
        type: 'authentication_error',
        message: 'invalid or missing virtual key',
      });
    }
  });

  it('refuses a provider or model the key may not use with 403', async () => {
    const provider = await post(`${sc.url}/v1/chat/completions`, chat(), {
      ...bearer(VK.support),
      'x-switchyard-config': 'on-b',
    });
    expect(provider.status).toBe(403);
    expect(provider.json.error.message).toMatch(/may not use provider "@b"/);
    const model = await post(`${sc.url}/v1/chat/completions`, chat(), { ...bearer(VK.mini) });
    expect(model.status).toBe(403);
    expect(model.json.error.message).toMatch(/may not use model "gpt-4o"/);
    const ok = await post(`${sc.url}/v1/chat/completions`, chat(), {
      ...bearer(VK.mini),
      'x-switchyard-config': 'mini',
    });
    expect(ok.status).toBe(200);
  });

  it('works with the openai SDK given only the virtual key', async () => {
    const client = new OpenAI({ apiKey: VK.support, baseURL: `${sc.url}/v1`, maxRetries: 0 });
    const c = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] });
    expect(c.choices[0].message.content).toBeTruthy();
    const bad = new OpenAI({ apiKey: 'not-a-key-0123456789', baseURL: `${sc.url}/v1`, maxRetries: 0 });
    await expect(
      bad.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 401 });
  });

  it('records the key name on the request span, never the secret, rejections included', async () => {
    sc.spans!.reset();
    await post(`${sc.url}/v1/chat/completions`, chat(), bearer(VK.support));
    await post(`${sc.url}/v1/chat/completions`, chat(), bearer(VK.off));
    await sc.sc.telemetry.flush();
    const servers = sc.spans!.getFinishedSpans().filter((s) => s.kind === 1);
    expect(
      servers.map((s) => [
        s.attributes['switchyard.virtual_key'],
        s.attributes['http.response.status_code'],
        s.attributes['switchyard.attempts'],
      ]),
    ).toEqual([
      ['support', 200, 1],
      [undefined, 401, 0],
    ]);
    const all = JSON.stringify(sc.spans!.getFinishedSpans().map((s) => s.attributes));
    for (const secret of Object.values(VK)) expect(all).not.toContain(secret);
    expect(all).not.toContain('sk-real-a');
  });
});

describe('rate limits', () => {
  it('answers 429 with Retry-After and RateLimit-* headers past requests_per_minute', async () => {
    const replies = [];
    for (let i = 0; i < 4; i++) replies.push(await post(`${sc.url}/v1/chat/completions`, chat(), bearer(VK.limited)));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    expect(replies[0].headers.get('ratelimit-limit')).toBe('3');
    expect(replies[0].headers.get('ratelimit-remaining')).toBe('2');
    const last = replies[3];
    expect(last.json.error).toMatchObject({ status: 429, code: 'rate_limited', type: 'rate_limit_error' });
    expect(Number(last.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(last.headers.get('retry-after'))).toBeLessThanOrEqual(20);
    expect(last.headers.get('ratelimit-remaining')).toBe('0');
  });
});

describe('tokens per minute', () => {
  it('charges the input estimate up front and corrects it with the actual usage after', async () => {
    const first = await post(`${sc.url}/v1/chat/completions`, chat('count me'), bearer(VK.tpm));
    expect(first.status).toBe(200);
    const est1 = estimateInputTokens(chat('count me'));
    expect(Number(first.headers.get('ratelimit-remaining'))).toBe(200 - est1);
    const used1 = first.json.usage.prompt_tokens + first.json.usage.completion_tokens;
    expect(used1).not.toBe(est1);
    const second = await post(`${sc.url}/v1/chat/completions`, chat('and me'), bearer(VK.tpm));
    const est2 = estimateInputTokens(chat('and me'));
    // The first request now counts with what it used, not what was estimated (a token or two
    // may have flowed back in meanwhile: 200 a minute is one every 0.3 s).
    const remaining = Number(second.headers.get('ratelimit-remaining'));
    expect(remaining).toBeGreaterThanOrEqual(200 - used1 - est2);
    expect(remaining).toBeLessThanOrEqual(200 - used1 - est2 + 2);
    // A request that needs more than the limit can never pass, and says so.
    const huge = await post(`${sc.url}/v1/chat/completions`, chat('x'.repeat(4000)), bearer(VK.tpm));
    expect(huge.status).toBe(429);
    expect(huge.json.error.message).toMatch(/needs more tokens than the limit of 200 per minute/);
    expect(huge.headers.get('retry-after')).toBeNull();
  });
});

describe('budgets', () => {
  it("admits at most the budget's worth of 100 concurrent requests, and never settles past it", async () => {
    // Admitted requests hang at the provider until every one of the 100 has been answered 412
    // or reached it: all reservations are made while none has settled, whatever the machine's load.
    fake.reset();
    fake.setDefault({ hang: true });
    const client = new AbortController();
    let refused = 0;
    let first412: Awaited<ReturnType<typeof post>> | undefined;
    const replies = Array.from({ length: 100 }, () =>
      post(`${sc.url}/v1/chat/completions`, BODY, bearer(VK.budget), client.signal).then(
        (r) => {
          if (r.status === 412) {
            refused++;
            first412 ??= r;
          }
        },
        () => undefined,
      ),
    );
    try {
      const deadline = Date.now() + 20_000;
      while (refused + fake.requests.length < 100 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(fake.requests).toHaveLength(10);
      expect(refused).toBe(90);
      expect(first412!.json.error).toMatchObject({ status: 412, code: 'budget_exceeded' });
    } finally {
      // The clients give up: their reservations are released (nothing was billed).
      client.abort();
      fake.setDefault(undefined);
      await Promise.all(replies);
    }
    await until(async () => (await self(VK.budget)).budget.reserved === 0);
    // Now sequentially until the budget refuses: with max_tokens set, the actual cost never
    // exceeds the reservation, so the settled spend never passes the limit.
    let admitted = 0;
    for (let i = 0; i < 20; i++) {
      const r = await post(`${sc.url}/v1/chat/completions`, BODY, bearer(VK.budget));
      if (r.status === 412) break;
      expect(r.status).toBe(200);
      admitted++;
    }
    await until(async () => (await self(VK.budget)).budget.reserved === 0); // settles land after the answers
    const after = await self(VK.budget);
    expect(admitted).toBeGreaterThanOrEqual(10);
    expect(after.budget.reserved).toBe(0);
    expect(after.budget.used).toBeGreaterThan(0);
    expect(after.budget.used).toBeLessThanOrEqual(after.budget.limit);
  });

  it('without max_tokens, overspends by at most one request beyond its reservation', async () => {
    const costs: number[] = [];
    let last = 0;
    for (let i = 0; i < 200; i++) {
      const r = await post(
        `${sc.url}/v1/chat/completions`,
        chat(`request number ${i} please write a long answer`),
        bearer(VK.loose),
      );
      if (r.status === 412) break;
      expect(r.status).toBe(200);
      const u = r.json.usage;
      costs.push(u.prompt_tokens * PRICE.input + u.completion_tokens * PRICE.output);
      await until(async () => (await self(VK.loose)).budget.reserved === 0);
      const used = (await self(VK.loose)).budget.used;
      expect(used).toBeCloseTo(last + costs[costs.length - 1], 9);
      last = used;
    }
    expect(costs.length).toBeGreaterThan(1);
    // Each answer cost more than its reservation (1 output token reserved)…
    const reserved = (i: number) =>
      estimateInputTokens(chat(`request number ${i} please write a long answer`)) * PRICE.input + PRICE.output;
    expect(costs.every((c, i) => c > reserved(i))).toBe(true);
    // …so the budget can be passed, but by no more than one request's cost.
    expect(last - 0.001).toBeLessThanOrEqual(Math.max(...costs));
  });
});

describe('GET /v1/keys/self', () => {
  it("answers the calling key's limits, and 401 without one", async () => {
    const me = await fetch(`${sc.url}/v1/keys/self`, { headers: bearer(VK.limited) });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ name: 'limited', rate_limit: { requests_per_minute: 3 }, budget: null });
    const none = await fetch(`${sc.url}/v1/keys/self`);
    expect(none.status).toBe(401);
    expect((await none.json()).error.code).toBe('invalid_api_key');
  });
});

describe('reload', () => {
  it('refuses a revoked key after one config reload, with no restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-vk-reload-'));
    const file = join(dir, 'switchyard.yaml');
    writeFileSync(file, config(fake.url));
    const side = new Sidecar({ config: await loadConfigFile(file), configPath: file, port: 0 });
    const url = `http://127.0.0.1:${await side.listen()}`;
    try {
      expect((await post(`${url}/v1/chat/completions`, chat(), bearer(VK.support))).status).toBe(200);
      writeFileSync(
        file,
        config(fake.url).replace(`support: {key: ${VK.support},`, `support: {key: ${VK.support}, disabled: true,`),
      );
      expect(await side.config.reload('test')).toBe(true);
      expect((await post(`${url}/v1/chat/completions`, chat(), bearer(VK.support))).status).toBe(401);
      // A rotated secret: the old one is refused, the new one works.
      writeFileSync(
        file,
        config(fake.url).replace(`support: {key: ${VK.support},`, `support: {key: vk-rotated-0123456789abcdef,`),
      );
      expect(await side.config.reload('test')).toBe(true);
      expect((await post(`${url}/v1/chat/completions`, chat(), bearer(VK.support))).status).toBe(401);
      expect((await post(`${url}/v1/chat/completions`, chat(), bearer('vk-rotated-0123456789abcdef'))).status).toBe(
        200,
      );
    } finally {
      await side.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('config errors', () => {
  const base = 'providers: {a: {type: openai, api_key: k}}\n';
  it('names the path of a malformed limit, period or key reference', () => {
    expect(() => parseConfigText(`${base}virtual_keys: {x: {key: short}}`, 'c.yaml', {})).toThrow(
      /virtual_keys\.x\.key: a virtual key must be at least 16 characters/,
    );
    expect(() =>
      parseConfigText(
        `${base}virtual_keys: {x: {key: 0123456789abcdef0, budget: {max_cost_usd: 5, period: fortnight}}}`,
        'c.yaml',
        {},
      ),
    ).toThrow(/virtual_keys\.x\.budget\.period/);
    expect(() =>
      parseConfigText(
        `${base}virtual_keys: {x: {key: 0123456789abcdef0, rate_limit: {requests_per_minute: -1}}}`,
        'c.yaml',
        {},
      ),
    ).toThrow(/virtual_keys\.x\.rate_limit\.requests_per_minute/);
    expect(() => parseConfigText(`${base}configs: {c: {virtual_key: ghost}}`, 'c.yaml', {})).toThrow(
      /configs\.c\.virtual_key: unknown virtual key "ghost"/,
    );
    expect(() =>
      parseConfigText(`${base}configs: {c: {provider: "@a", budget: {max_cost_per_day: -5}}}`, 'c.yaml', {}),
    ).toThrow(/configs\.c\.budget\.max_cost_per_day/);
    expect(() => parseConfigText(`${base}state: {store: redis}`, 'c.yaml', {})).toThrow(/state\.redis_url/);
  });

  it("resolves a target's virtual_key to its key's provider", () => {
    const c = parseConfigText(
      `${base}virtual_keys: {vk: {key: 0123456789abcdef0, providers: ["@a"]}}\nconfigs: {c: {virtual_key: vk}}`,
      'c.yaml',
      {},
    );
    expect(c.file.configs.c.provider).toBe('@a');
  });
});
