// Bad input always gets a clear JSON error with the right status, and the process keeps serving.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeServer } from '../fakes/openai.js';
import { chat, post, type SidecarJson, startSidecar, type TestSidecar } from '../helpers/sidecar.js';

let oai: FakeServer;
let sc: TestSidecar;

beforeAll(async () => {
  oai = await startFakeOpenAI();
  sc = await startSidecar(`
providers:
  oai: {type: openai, api_key: k, base_url: "${oai.url}/v1"}
  dead: {type: openai, api_key: k, base_url: "http://127.0.0.1:9/v1"}
configs:
  default: {provider: "@oai"}
  dead: {provider: "@dead"}
default_config: default
server: {max_body_bytes: 2048}
`);
});
afterAll(async () => {
  await sc.close();
  await oai.close();
});

const url = () => `${sc.url}/v1/chat/completions`;

function expectShape(r: { json: SidecarJson }, status: number) {
  expect(r.json.error).toMatchObject({ status, type: expect.any(String), message: expect.any(String) });
  expect(Array.isArray(r.json.error.attempts)).toBe(true);
}

describe('bad input', () => {
  it('non-JSON body → 400', async () => {
    const r = await post(url(), 'not json at all');
    expect(r.status).toBe(400);
    expectShape(r, 400);
    expect(r.json.error.message).toMatch(/not valid JSON/);
  });

  it('a JSON array body → 400', async () => {
    const r = await post(url(), '[1,2]');
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/JSON object/);
  });

  it('body over the configured limit → 413', async () => {
    const r = await post(url(), chat('x'.repeat(5000)));
    expect(r.status).toBe(413);
    expectShape(r, 413);
    expect(r.json.error.message).toMatch(/2048 bytes/);
  });

  it('missing model or messages → 400 naming the field', async () => {
    const r = await post(url(), { messages: [{ role: 'user', content: 'x' }] });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toBe('model is required');
    const r2 = await post(url(), { model: 'gpt-4o' });
    expect(r2.status).toBe(400);
    expect(r2.json.error.message).toBe('messages is required');
    const r3 = await post(url(), { model: 'gpt-4o', messages: [] });
    expect(r3.json.error.message).toMatch(/messages: messages must be a non-empty array/);
  });

  it('unknown provider slug in the model field → 400 naming it', async () => {
    const r = await post(url(), { ...chat(), model: '@nope/gpt-4o' });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toContain('@nope');
  });

  it('unknown config id → 400 listing the known ones', async () => {
    const r = await post(url(), chat(), { 'x-switchyard-config': 'missing' });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toContain('"missing"');
    expect(r.json.error.message).toContain('default');
  });

  it('invalid inline config → 400 with the schema path', async () => {
    const r = await post(url(), chat(), {
      'x-switchyard-config': JSON.stringify({
        strategy: { mode: 'fallback' },
        targets: [{ provider: '@oai', request_timeout: -5 }],
      }),
    });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toContain('config.targets[0].request_timeout');
    const r2 = await post(url(), chat(), { 'x-switchyard-config': '{broken' });
    expect(r2.status).toBe(400);
    const r3 = await post(url(), chat(), {
      'x-switchyard-config': JSON.stringify({
        strategy: { mode: 'loadbalance' },
        targets: [{ provider: '@oai', weight: 0 }],
      }),
    });
    expect(r3.status).toBe(400);
    expect(r3.json.error.message).toMatch(/all weights are 0/);
  });

  it('bad metadata header → 400 with the reason', async () => {
    const many = Object.fromEntries(Array.from({ length: 33 }, (_v, i) => [`k${i}`, 'v']));
    for (const [h, re] of [
      ['nope', /not valid JSON/],
      ['["a"]', /JSON object/],
      [JSON.stringify(many), /at most 32/],
      [JSON.stringify({ ['k'.repeat(65)]: 'v' }), /1\.\.64/],
      [JSON.stringify({ k: 'v'.repeat(513) }), /longer than 512/],
      [JSON.stringify({ k: 5 }), /must be a string/],
    ] as const) {
      const r = await post(url(), chat(), { 'x-switchyard-metadata': h });
      expect(r.status).toBe(400);
      expect(r.json.error.message).toMatch(re);
    }
  });

  it('bad deadline header → 400', async () => {
    const r = await post(url(), chat(), { 'x-switchyard-deadline-ms': 'soon' });
    expect(r.status).toBe(400);
  });

  it('connection refused → 502 connect_error', async () => {
    const r = await post(url(), chat(), { 'x-switchyard-config': 'dead' });
    expect(r.status).toBe(502);
    expect(r.json.error.attempts[0]).toMatchObject({ error_type: 'connect_error', status: 502 });
  });

  it('unknown routes → 404 JSON; health endpoints answer', async () => {
    const r = await fetch(`${sc.url}/v1/nothing`);
    expect(r.status).toBe(404);
    expect((await r.json()).error.status).toBe(404);
    expect((await fetch(`${sc.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${sc.url}/readyz`);
    expect(ready.status).toBe(200);
    expect((await ready.json()).config).toBe('test.yaml');
  });

  it('still serves after all of the above', async () => {
    const r = await post(url(), chat('still here'));
    expect(r.status).toBe(200);
    expect(r.json.choices[0].message.content).toBe('Hello from fake-openai: still here');
  });
});
