// Every fault kind observed from a raw undici client, as the sidecar's HTTP client will see it.
import type OpenAI from 'openai';
import { Agent, request } from 'undici';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic } from './anthropic.js';
import { startFakeOpenAI } from './openai.js';
import type { FakeServer } from './server.js';

let oa: FakeServer;
let an: FakeServer;
const agent = new Agent({ keepAliveTimeout: 1000 });
const HEADERS = { authorization: 'Bearer k', 'content-type': 'application/json' };
const chat = (stream = false) =>
  JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'one two three four' }], stream });

beforeAll(async () => {
  oa = await startFakeOpenAI();
  an = await startFakeAnthropic();
});
afterEach(() => {
  oa.reset();
  an.reset();
});
afterAll(async () => {
  await Promise.all([oa.close(), an.close()]);
  await agent.close();
});

function post(body: string, opts: { headersTimeout?: number; bodyTimeout?: number; signal?: AbortSignal } = {}) {
  return request(`${oa.url}/v1/chat/completions`, {
    method: 'POST',
    body,
    headers: HEADERS,
    dispatcher: agent,
    ...opts,
  });
}

const until = async (cond: () => boolean, ms = 500) => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  return cond();
};

describe('faults at the socket level', () => {
  it('answers a status with the provider error body and the requested headers', async () => {
    oa.enqueue({ status: 503, retryAfter: '7', headers: { 'x-extra': 'yes' } });
    const r = await post(chat());
    expect(r.statusCode).toBe(503);
    expect(r.headers['retry-after']).toBe('7');
    expect(r.headers['x-extra']).toBe('yes');
    expect(r.headers['x-request-id']).toMatch(/^req_/);
    expect(r.headers['openai-processing-ms']).toBeDefined();
    expect(await r.body.json()).toEqual({
      error: { message: 'The server is overloaded or not ready yet.', type: 'server_error', param: null, code: null },
    });
  });

  it('lets errorType and message override the body, and body replace it entirely', async () => {
    oa.enqueue({ status: 429, errorType: 'tokens', message: 'slow down' }, { status: 200, body: { hello: 'world' } });
    const a = await post(chat());
    expect(await a.body.json()).toEqual({
      error: { message: 'slow down', type: 'tokens', param: null, code: 'rate_limit_exceeded' },
    });
    const b = await post(chat());
    expect(b.statusCode).toBe(200);
    expect(await b.body.json()).toEqual({ hello: 'world' });
  });

  it('consumes the queue in order, then the default, and reset() clears both', async () => {
    oa.enqueue({ status: 500 }, { status: 502 });
    oa.setDefault({ status: 401 });
    const codes = [];
    for (let i = 0; i < 4; i++) {
      const r = await post(chat());
      await r.body.dump();
      codes.push(r.statusCode);
    }
    expect(codes).toEqual([500, 502, 401, 401]);
    expect(oa.requests).toHaveLength(4);
    oa.reset();
    expect(oa.requests).toHaveLength(0);
    const r = await post(chat());
    await r.body.dump();
    expect(r.statusCode).toBe(200);
  });

  it('reset destroys the connection before any answer', async () => {
    oa.enqueue({ reset: true });
    const err = await post(chat()).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect([err.code, err.cause?.code]).toEqual(
      expect.arrayContaining([expect.stringMatching(/ECONNRESET|UND_ERR_SOCKET/)]),
    );
    expect(oa.aborted).toBe(0); // the fake closed it, not the client
  });

  it('cutAfterEvents ends the stream mid-body after exactly N events', async () => {
    oa.enqueue({ cutAfterEvents: 2 });
    const r = await post(chat(true));
    expect(r.statusCode).toBe(200);
    let got = '';
    const err = await (async () => {
      for await (const c of r.body) got += c.toString();
    })().catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(got.split('\n\n').filter(Boolean)).toHaveLength(2);
    expect(got).not.toContain('[DONE]');
  });

  it('hang never answers; the client timeout fires and the fake counts the abort', async () => {
    oa.enqueue({ hang: true });
    const t0 = Date.now();
    // AbortSignal.timeout rather than undici's headersTimeout, whose timer ticks in ~1 s steps.
    const err = await post(chat(), { signal: AbortSignal.timeout(150) }).catch((e) => e);
    expect(err.name).toBe('TimeoutError');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(await until(() => oa.aborted === 1)).toBe(true);
  });

  it('malformed sends 200 with broken JSON, or a broken SSE data line', async () => {
    oa.enqueue({ malformed: true }, { malformed: true });
    const r = await post(chat());
    expect(r.statusCode).toBe(200);
    const text = await r.body.text();
    expect(() => JSON.parse(text)).toThrow();
    const s = await post(chat(true));
    const lines = (await s.body.text())
      .split('\n\n')
      .filter(Boolean)
      .map((f) => f.slice('data: '.length));
    const bad = lines.filter((l) => {
      if (l === '[DONE]') return false;
      try {
        JSON.parse(l);
        return false;
      } catch {
        return true;
      }
    });
    expect(bad).toHaveLength(1);
  });

  it('delayHeadersMs holds the status line; slowBodyMs holds the body after the headers', async () => {
    oa.enqueue({ delayHeadersMs: 120 }, { slowBodyMs: 150 });
    let t0 = Date.now();
    const a = await post(chat());
    expect(Date.now() - t0).toBeGreaterThanOrEqual(110);
    await a.body.dump();
    t0 = Date.now();
    const b = await post(chat());
    const headersAt = Date.now() - t0;
    expect(headersAt).toBeLessThan(100);
    const body = (await b.body.json()) as OpenAI.ChatCompletion;

    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(body.object).toBe('chat.completion');
  });

  it('firstChunkDelayMs delays the first event; slowBodyMs spaces every event', async () => {
    oa.enqueue({ firstChunkDelayMs: 120 });
    let t0 = Date.now();
    const a = await post(chat(true));
    expect(Date.now() - t0).toBeLessThan(100);
    const first = await a.body[Symbol.asyncIterator]().next();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(110);
    expect(String(first.value)).toMatch(/^data: /);
    await a.body.dump();

    oa.enqueue({ slowBodyMs: 20 });
    t0 = Date.now();
    const b = await post(chat(true));
    const text = await b.body.text();
    const frames = text.split('\n\n').filter(Boolean).length;
    expect(Date.now() - t0).toBeGreaterThanOrEqual((frames - 1) * 20 - 5);
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('counts a client that goes away mid-stream as aborted', async () => {
    oa.enqueue({ slowBodyMs: 50 });
    const ac = new AbortController();
    const r = await post(chat(true), { signal: ac.signal });
    await r.body[Symbol.asyncIterator]().next();
    ac.abort();
    expect(await until(() => oa.aborted === 1)).toBe(true);
  });

  it('close() ends at once even with a hung request and idle keep-alive sockets', async () => {
    const f = await startFakeAnthropic();
    f.setDefault({ hang: true });
    const pending = request(`${f.url}/v1/messages`, {
      method: 'POST',
      body: '{}',
      headers: { 'x-api-key': 'k', 'anthropic-version': '2023-06-01' },
    }).catch((e) => e);
    await until(() => f.requests.length === 1);
    const t0 = Date.now();
    await f.close();
    expect(Date.now() - t0).toBeLessThan(200);
    expect(await pending).toBeInstanceOf(Error);
  });

  it('applies the same faults to the Anthropic fake', async () => {
    an.enqueue({ cutAfterEvents: 3 });
    const r = await request(`${an.url}/v1/messages`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'x-api-key': 'k', 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'claude-haiku-4-5',
        max_tokens: 64,
        stream: true,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    let got = '';
    const err = await (async () => {
      for await (const c of r.body) got += c.toString();
    })().catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(got.match(/^event: /gm)).toHaveLength(3);
    expect(got).not.toContain('message_stop');
  });
});
