// Slow clients (slowloris) against the sidecar and the collector: a client that drips its request
// head a byte a second is cut (408, the listener's JSON error) within the header timeout plus
// Node's check interval, while normal requests keep being answered at once. Short timeouts
// (2 s) are configured for the test; defaults are 10 s for the head and 30 s for the request.
// Also: the request timeout bounds receiving a request, not the response: a streamed answer
// longer than it arrives whole; and time idle on a keep-alive connection does not count.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type RunningCollector } from '../../src/collector/index.js';
import { encodeTraceRequestProto } from '../../src/collector/otlp-proto.js';
import { MemoryStore, protoRequest, protoSpan, tempDir } from '../collector/helpers.js';
import { startFakeOpenAI, type FakeServer } from '../fakes/openai.js';
import { chat, sseData, startSidecar, type TestSidecar } from '../helpers/sidecar.js';
import type { ErrorBody } from '../helpers/bodies.js';

const TIMEOUT_MS = 2_000;
// Node checks timeouts on a timer (here every 200 ms); the rest is slack for a busy 2-core machine.
const CUT_BY_MS = TIMEOUT_MS + 2_000;
const FAST_MS = 1_000;

interface Drip {
  /** Still connected (the server has not cut it yet). */
  open(): boolean;
  /** When the server closed it: ms since the first byte, and what it answered. */
  done: Promise<{ ms: number; response: string }>;
}

/** Connects, sends `prefix` at once, then `text` one byte every `everyMs`, until the server closes. */
function drip(port: number, text: string, everyMs = 1_000, prefix = ''): Drip {
  const socket = net.connect(port, '127.0.0.1');
  let response = '';
  let started = 0;
  let at = 0;
  let closed = false;
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (response += d));
  socket.on('error', () => {}); // a reset after the answer is fine: the close below is what counts
  const send = () => {
    if (!socket.destroyed && at < text.length) socket.write(text[at++]);
  };
  socket.once('connect', () => {
    started = Date.now();
    if (prefix) socket.write(prefix);
    send();
  });
  const timer = setInterval(send, everyMs);
  // Bounded even if the server never cuts it (the test then fails on the time).
  const cap = setTimeout(() => socket.destroy(), 20_000);
  const done = new Promise<{ ms: number; response: string }>((resolve) => {
    socket.on('close', () => {
      closed = true;
      clearInterval(timer);
      clearTimeout(cap);
      resolve({ ms: Date.now() - started, response });
    });
  });
  return { open: () => !closed, done };
}

/** A request head that never ends: 'GET … HTTP/1.1', Host, then an endless header value. */
const slowHead = (path: string) => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'a'.repeat(200)}`;

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

/** The cut connection's answer: 408 and a JSON body with the request_timeout code. */
function expectTimedOut(response: string): ErrorBody {
  expect(response).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
  expect(response).toMatch(/\r\nConnection: close\r\n/i);
  const body = JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4));
  expect(body.error).toMatchObject({ status: 408, code: 'request_timeout' });
  return body;
}

/** Slow clients drip while `normal` runs every 300 ms; all must be answered fast, none cut. */
async function underSlowloris(port: number, path: string, normal: () => Promise<number>) {
  const drips = Array.from({ length: 8 }, () => drip(port, slowHead(path)));
  await new Promise((r) => setTimeout(r, 200));
  const served: { ms: number; status: number; slowStillOpen: number }[] = [];
  for (let i = 0; i < 5; i++) {
    const { ms, value } = await timed(normal);
    served.push({ ms, status: value, slowStillOpen: drips.filter((d) => d.open()).length });
    await new Promise((r) => setTimeout(r, 300));
  }
  const cuts = await Promise.all(drips.map((d) => d.done));
  return { served, cuts };
}

describe('sidecar', () => {
  let oai: FakeServer;
  let sc: TestSidecar;
  let port: number;
  beforeAll(async () => {
    oai = await startFakeOpenAI();
    sc = await startSidecar(`
providers:
  oai: {type: openai, api_key: k, base_url: "${oai.url}/v1"}
configs:
  default: {provider: "@oai"}
default_config: default
server: {headers_timeout_ms: ${TIMEOUT_MS}, request_timeout_ms: ${TIMEOUT_MS}}
`);
    port = Number(new URL(sc.url).port);
  });
  afterAll(async () => {
    await sc?.close();
    await oai?.close();
  });

  it('cuts clients dripping their headers within the header timeout, serving others meanwhile', async () => {
    const { served, cuts } = await underSlowloris(port, '/v1/chat/completions', async () => {
      const r = await fetch(`${sc.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(chat('hi')),
      });
      await r.text();
      return r.status;
    });
    for (const s of served) {
      expect(s.status).toBe(200);
      expect(s.ms).toBeLessThan(FAST_MS);
    }
    // The normal requests ran while the slow clients were all still connected.
    expect(served[0].slowStillOpen).toBe(8);
    for (const c of cuts) {
      expect(c.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 100);
      expect(c.ms).toBeLessThan(CUT_BY_MS);
      expect(expectTimedOut(c.response).error.attempts).toEqual([]);
    }
  });

  it('cuts a client dripping its body within the request timeout', async () => {
    const head = `POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`;
    const cut = await drip(port, `{"model":"gpt-4o","messages":[${' '.repeat(900)}`, 500, head).done;
    expect(cut.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 100);
    expect(cut.ms).toBeLessThan(CUT_BY_MS);
    expectTimedOut(cut.response);
  });

  it('does not cut a streamed response that lasts longer than the request timeout', async () => {
    oai.enqueue({ slowBodyMs: 300 }); // ~10 events, 300 ms apart: ~3 s, past the 2 s request timeout
    const t0 = Date.now();
    const r = await fetch(`${sc.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chat('tell me a longer story please', { stream: true })),
    });
    const text = await r.text();
    expect(r.status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThan(TIMEOUT_MS);
    expect(sseData(text).at(-1)).toBe('[DONE]');
  });

  it('keeps an idle keep-alive connection usable past the header timeout', async () => {
    const socket = net.connect(port, '127.0.0.1');
    let got = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (got += d));
    await new Promise((r) => socket.once('connect', r));
    const get = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
    socket.write(get);
    await new Promise((r) => setTimeout(r, TIMEOUT_MS + 600));
    socket.write(get);
    await new Promise((r) => setTimeout(r, 300));
    socket.destroy();
    expect(got.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
  });
});

describe('collector', () => {
  let collector: RunningCollector;
  let cleanup: () => void;
  const store = new MemoryStore();
  beforeAll(async () => {
    const tmp = tempDir();
    cleanup = tmp.cleanup;
    collector = await startCollector({
      store,
      spoolDir: tmp.dir,
      host: '127.0.0.1',
      port: 0,
      flushIntervalMs: 20,
      decodeThreads: 0,
      headersTimeoutMs: TIMEOUT_MS,
      requestTimeoutMs: TIMEOUT_MS,
    });
  });
  afterAll(async () => {
    await collector?.close();
    cleanup?.();
  });

  it('cuts clients dripping their headers within the header timeout, ingesting others meanwhile', async () => {
    const port = collector.port;
    const { served, cuts } = await underSlowloris(port, '/v1/traces', async () => {
      const r = await fetch(`${collector.url}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body: new Uint8Array(encodeTraceRequestProto(protoRequest([protoSpan()], 'slowloris-svc'))),
      });
      await r.arrayBuffer();
      return r.status;
    });
    for (const s of served) {
      expect(s.status).toBe(200);
      expect(s.ms).toBeLessThan(FAST_MS);
    }
    expect(served[0].slowStillOpen).toBe(8);
    for (const c of cuts) {
      expect(c.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 100);
      expect(c.ms).toBeLessThan(CUT_BY_MS);
      expectTimedOut(c.response);
    }
    expect(store.traces.filter((t) => t.ServiceName === 'slowloris-svc').length).toBeGreaterThan(0);
  });
});
