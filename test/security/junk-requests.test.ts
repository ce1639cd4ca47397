// What each listener answers to a request it does not understand: unknown path, wrong method,
// garbage body, a body over its limit, malformed HTTP, a head over the size cap. Always a clear
// status and, where the listener speaks JSON, a JSON body; never a 500, and it keeps serving.
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type RunningCollector } from '../../src/collector/index.js';
import { generateCerts } from '../../src/injector/certs.js';
import { DEFAULT_OPTIONS } from '../../src/injector/options.js';
import { startInjectorServer, type InjectorServer } from '../../src/injector/server.js';
import { setLogSink } from '../../src/logger.js';
import { MemoryStore, tempDir } from '../collector/helpers.js';
import { post, startSidecar, type TestSidecar } from '../helpers/sidecar.js';
import type { ErrorBody } from '../helpers/bodies.js';

/** Writes `data` on a fresh connection and returns everything the server sent until it closed. */
function raw(connect: () => net.Socket, data: string): Promise<string> {
  return new Promise((resolve) => {
    const s = connect();
    let out = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (out += d));
    s.on('error', () => {});
    s.on('close', () => resolve(out));
    s.write(data);
    setTimeout(() => s.destroy(), 5_000); // bounded
  });
}

function parseRaw(response: string): { status: number; headers: string; body: ErrorBody } {
  const [head, body] = [
    response.slice(0, response.indexOf('\r\n\r\n')),
    response.slice(response.indexOf('\r\n\r\n') + 4),
  ];
  return { status: Number(head.split(' ')[1]), headers: head, body: JSON.parse(body) };
}

const MALFORMED = 'HELLO THERE\r\n\r\n';
const BIG_HEAD = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`;

describe('sidecar', () => {
  let sc: TestSidecar;
  let port: number;
  beforeAll(async () => {
    sc = await startSidecar(
      `providers: {s: {type: simulated}}\nconfigs: {default: {provider: "@s"}}\ndefault_config: default\n`,
    );
    port = Number(new URL(sc.url).port);
  });
  afterAll(() => sc?.close());

  it('unknown path 404 whatever the body; known path with the wrong method 405 with Allow', async () => {
    const unknown = await post(`${sc.url}/v1/nope`, 'not json');
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toMatchObject({ status: 404, code: 'not_found', attempts: [] });
    const get = await fetch(`${sc.url}/v1/chat/completions`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await get.json()).error).toMatchObject({
      status: 405,
      code: 'method_not_allowed',
      type: 'invalid_request_error',
    });
    const del = await fetch(`${sc.url}/healthz`, { method: 'DELETE' });
    expect(del.status).toBe(405);
    expect(del.headers.get('allow')).toBe('GET, HEAD');
  });

  it('garbage and oversized feedback bodies: 400 and 413 (64 KiB), in the one error shape', async () => {
    const bad = await post(`${sc.url}/v1/feedback`, '{nope', { 'content-type': 'text/plain' });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ status: 400, code: 'invalid_json' });
    const big = await post(`${sc.url}/v1/feedback`, { trace_id: 't', value: 1, metadata: { x: 'a'.repeat(70_000) } });
    expect(big.status).toBe(413);
    expect(big.json.error).toMatchObject({ status: 413, code: 'body_too_large' });
  });

  it('malformed HTTP → 400 JSON, a head over 16 KiB → 431 JSON, and it keeps serving', async () => {
    const m = parseRaw(await raw(() => net.connect(port, '127.0.0.1'), MALFORMED));
    expect(m.status).toBe(400);
    expect(m.body.error).toMatchObject({ status: 400, code: 'malformed_request', attempts: [] });
    const h = parseRaw(await raw(() => net.connect(port, '127.0.0.1'), BIG_HEAD));
    expect(h.status).toBe(431);
    expect(h.body.error).toMatchObject({ status: 431, code: 'headers_too_large' });
    expect((await fetch(`${sc.url}/healthz`)).status).toBe(200);
  });
});

describe('collector', () => {
  let collector: RunningCollector;
  let cleanup: () => void;
  beforeAll(async () => {
    const tmp = tempDir();
    cleanup = tmp.cleanup;
    collector = await startCollector({
      store: new MemoryStore(),
      spoolDir: tmp.dir,
      host: '127.0.0.1',
      port: 0,
      decodeThreads: 0,
    });
  });
  afterAll(async () => {
    await collector?.close();
    cleanup?.();
  });

  it('404 and 405 in JSON; OTLP garbage → 400 and other media types → 415, as google.rpc.Status', async () => {
    expect((await fetch(`${collector.url}/v1/logs`, { method: 'POST', body: 'x' })).status).toBe(404);
    const del = await fetch(`${collector.url}/healthz`, { method: 'DELETE' });
    expect(del.status).toBe(405);
    expect((await del.json()).error).toMatchObject({ status: 405, code: 'method_not_allowed' });
    const garbage = await fetch(`${collector.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: 'garbage',
    });
    expect(garbage.status).toBe(400);
    expect(await garbage.json()).toEqual({ code: 3, message: expect.stringMatching(/not valid JSON/) });
    const text = await fetch(`${collector.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    });
    expect(text.status).toBe(415);
    await text.text();
  });

  it('malformed HTTP and a broken chunked body → 400 JSON, a big head → 431, none a collector failure', async () => {
    const logs: string[] = [];
    const prev = setLogSink((l) => logs.push(l));
    const m = parseRaw(await raw(() => net.connect(collector.port, '127.0.0.1'), MALFORMED));
    expect(m).toMatchObject({ status: 400, body: { error: { code: 'malformed_request' } } });
    const chunk = parseRaw(
      await raw(
        () => net.connect(collector.port, '127.0.0.1'),
        'POST /v1/feedback HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\nZZZ\r\n',
      ),
    );
    expect(chunk.status).toBe(400);
    const h = parseRaw(await raw(() => net.connect(collector.port, '127.0.0.1'), BIG_HEAD));
    expect(h.status).toBe(431);
    setLogSink(prev);
    expect(logs.filter((l) => l.includes('"level":"error"'))).toEqual([]);
    expect(await collector.metricsText()).not.toMatch(/status="500"/);
    expect((await fetch(`${collector.url}/healthz`)).status).toBe(200);
  });
});

describe('injector', () => {
  let server: InjectorServer;
  beforeAll(async () => {
    const certs = await generateCerts({ service: 'switchyard-injector', namespace: 'switchyard-system' });
    server = await startInjectorServer({
      host: '127.0.0.1',
      port: 0,
      cert: certs.cert,
      key: certs.key,
      options: DEFAULT_OPTIONS,
    });
  });
  afterAll(() => server?.close());

  const overTls = () => tls.connect({ port: server.port, host: '127.0.0.1', rejectUnauthorized: false });

  it('malformed HTTP over TLS → 400 JSON; plain HTTP on the TLS port → the connection closes', async () => {
    const m = parseRaw(await raw(overTls, MALFORMED));
    expect(m).toMatchObject({ status: 400, body: { error: { code: 'malformed_request', status: 400 } } });
    const wrongMethod = parseRaw(await raw(overTls, 'GET /mutate HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    expect(wrongMethod).toMatchObject({ status: 405, body: { error: { code: 'method_not_allowed' } } });
    expect(await raw(() => net.connect(server.port, '127.0.0.1'), 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n')).toBe('');
  });
});
