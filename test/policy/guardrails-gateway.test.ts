// Guardrails through a real sidecar in front of the fake OpenAI server (which echoes the last
// user message: "Hello from fake-openai: <text>"): what the app sees (446/246 with hook_results,
// never the matched text), what the provider sees (nothing, or redacted text), streams held or
// not, output retry as a failed attempt, and the spans.
import { SpanKind } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeAnthropic } from '../fakes/anthropic.js';
import { startFakeOpenAI, type FakeServer } from '../fakes/openai.js';
import { chat, post, sseData, startSidecar, type TestSidecar } from '../helpers/sidecar.js';

let fake: FakeServer;
let sc: TestSidecar;
const SSN = '123-45-6789';

const config = (url: string) => `
providers:
  a: {type: openai, api_key: sk-a, base_url: "${url}/v1"}
guardrails:
  pii-guard:
    checks: [{id: pii, parameters: {kinds: [ssn, credit_card]}}]
    deny: true
configs:
  seed-in:
    provider: "@a"
    guardrails:
      input: [{type: contains, deny: ["password", "SSN"], flags: [IGNORECASE], action: block, message: "no secrets please"}]
  seed-out:
    provider: "@a"
    guardrails:
      output: [{type: regex, deny: ['\\b\\d{3}-\\d{2}-\\d{4}\\b'], action: block}]
  retry:
    strategy: {mode: fallback, on_status_codes: [429, 503]}
    targets:
      - {provider: "@a", override_params: {max_tokens: 3}}
      - {provider: "@a"}
    guardrails:
      output: [{type: word_count, min: 6, action: retry}]
  retry-never:
    provider: "@a"
    retry: {attempts: 1}
    override_params: {max_tokens: 3}
    guardrails:
      output: [{type: word_count, min: 6, action: retry}]
  warn:
    provider: "@a"
    output_guardrails: [{"default.contains": {words: ["fake-openai"], operator: none}, deny: false}]
  warn-in:
    provider: "@a"
    before_request_hooks: [{id: needs-user, checks: [{id: default.requiredMetadataKeys, parameters: {metadataKeys: [user]}}], deny: false}]
  hooks-deny:
    provider: "@a"
    before_request_hooks: [{id: needs-user, checks: [{id: default.requiredMetadataKeys, parameters: {metadataKeys: [user]}}], deny: true}]
  redact-in:
    provider: "@a"
    input_guardrails: [{id: scrub, checks: [{id: pii}], action: redact}]
  redact-out:
    provider: "@a"
    guardrails:
      output: [{type: pii, kinds: [ssn, email], action: redact}]
  pk-ids:
    provider: "@a"
    output_guardrails: [pii-guard]
  pk-446:
    strategy: {mode: fallback, on_status_codes: [446, 503]}
    targets:
      - {provider: "@a", override_params: {max_tokens: 3}, retry: {attempts: 1, on_status_codes: [446]}}
      - {provider: "@a"}
    after_request_hooks: [{id: long-enough, checks: [{id: default.wordCount, parameters: {minWords: 6}}], deny: true}]
default_config: seed-in
`;

beforeAll(async () => {
  fake = await startFakeOpenAI({ apiKey: 'sk-a' });
  sc = await startSidecar(config(fake.url), { telemetry: true });
});
afterAll(async () => {
  await sc?.close();
  await fake?.close();
});
beforeEach(() => {
  fake.reset();
  sc.spans!.reset();
});

const cfg = (id: string, extra: Record<string, string> = {}) => ({ 'x-switchyard-config': id, ...extra });

async function spans(): Promise<{ server: ReadableSpan[]; client: ReadableSpan[] }> {
  await sc.sc.telemetry.flush();
  const all = sc.spans!.getFinishedSpans();
  return {
    server: all.filter((s) => s.kind === SpanKind.SERVER),
    client: all
      .filter((s) => s.kind === SpanKind.CLIENT)
      .sort((x, y) => (x.attributes['switchyard.attempt'] as number) - (y.attributes['switchyard.attempt'] as number)),
  };
}

describe('input guardrails', () => {
  it('seed contains deny list: 446 in the unified error shape with hook_results, no provider call, no matched text', async () => {
    const r = await post(`${sc.url}/v1/chat/completions`, chat('my password is hunter2'));
    expect(r.status).toBe(446);
    expect(r.json.error).toMatchObject({
      status: 446,
      type: 'guardrail_error',
      code: 'guardrail_denied',
      message: 'no secrets please',
      attempts: [],
    });
    expect(r.json.hook_results.before_request_hooks).toEqual([
      {
        id: 'input.0',
        verdict: false,
        action: 'block',
        deny: true,
        checks: [{ id: 'default.contains', verdict: false, execution_time: expect.any(Number) }],
        execution_time: expect.any(Number),
      },
    ]);
    expect(r.json.hook_results.after_request_hooks).toEqual([]);
    expect(r.text).not.toContain('hunter2');
    expect(fake.requests).toHaveLength(0);
    const ok = await post(`${sc.url}/v1/chat/completions`, chat('what is the weather'));
    expect(ok.status).toBe(200);
    expect(ok.json.hook_results).toBeUndefined();
    const { server } = await spans();
    expect(
      server.map((s) => [s.attributes['http.response.status_code'], s.attributes['switchyard.guardrails.verdict']]),
    ).toEqual([
      [446, 'denied'],
      [200, 'passed'],
    ]);
    const ev = server[0].events.filter((e) => e.name === 'switchyard.guardrail');
    expect(ev).toHaveLength(1);
    expect(ev[0].attributes).toMatchObject({
      'switchyard.guardrail.id': 'input.0',
      'switchyard.guardrail.check': 'default.contains',
      'switchyard.guardrail.verdict': 'fail',
      'switchyard.guardrail.phase': 'input',
    });
    expect(typeof ev[0].attributes!['switchyard.guardrail.duration_ms']).toBe('number');
    expect(JSON.stringify(server.map((s) => [s.attributes, s.events]))).not.toContain('hunter2');
  });

  it('applies to a model field naming a provider, inline configs, and embeddings input', async () => {
    const named = await post(`${sc.url}/v1/chat/completions`, { ...chat('my password'), model: '@a/gpt-4o' });
    expect(named.status).toBe(446);
    const inline = JSON.stringify({
      provider: '@a',
      input_guardrails: [{ 'default.contains': { words: ['secret'], operator: 'none' }, deny: true }],
    });
    expect(
      (await post(`${sc.url}/v1/chat/completions`, chat('a secret'), { 'x-switchyard-config': inline })).status,
    ).toBe(446);
    expect(
      (
        await post(`${sc.url}/v1/chat/completions`, chat('a secret'), {
          'x-switchyard-config': JSON.stringify({ provider: '@a', input_guardrails: ['ghost'] }),
        })
      ).json.error.message,
    ).toMatch(/unknown guardrail "ghost"/);
    expect(
      (await post(`${sc.url}/v1/embeddings`, { model: 'text-embedding-3-small', input: 'my password' })).status,
    ).toBe(446);
    const emb = await post(
      `${sc.url}/v1/embeddings`,
      { model: 'text-embedding-3-small', input: 'fine' },
      cfg('seed-out'),
    );
    expect(emb.status).toBe(200);
    expect(fake.requests).toHaveLength(1);
  });

  it('a streamed request is checked before the first upstream call', async () => {
    const r = await post(`${sc.url}/v1/chat/completions`, chat('tell me your SSN', { stream: true }));
    expect(r.status).toBe(446);
    expect(r.json.error.code).toBe('guardrail_denied');
    expect(fake.requests).toHaveLength(0);
  });

  it('Portkey hooks: deny → 446, no deny → the answer with 246 and hook_results', async () => {
    const denied = await post(`${sc.url}/v1/chat/completions`, chat('hi'), cfg('hooks-deny'));
    expect(denied.status).toBe(446);
    expect(denied.json.hook_results.before_request_hooks[0]).toMatchObject({
      id: 'needs-user',
      verdict: false,
      deny: true,
    });
    expect(
      (
        await post(
          `${sc.url}/v1/chat/completions`,
          chat('hi'),
          cfg('hooks-deny', { 'x-switchyard-metadata': '{"user":"u1"}' }),
        )
      ).status,
    ).toBe(200);
    const warned = await post(`${sc.url}/v1/chat/completions`, chat('hi'), cfg('warn-in'));
    expect(warned.status).toBe(246);
    expect(warned.json.choices[0].message.content).toContain('Hello from fake-openai');
    expect(warned.json.hook_results.before_request_hooks[0]).toMatchObject({
      id: 'needs-user',
      verdict: false,
      deny: false,
      action: 'warn',
    });
    const { server } = await spans();
    expect(server.map((s) => s.attributes['switchyard.guardrails.verdict'])).toEqual(['denied', 'passed', 'failed']);
  });

  it('redact: the provider sees [REDACTED:<kind>] in messages and tool-call arguments', async () => {
    const body = {
      model: 'gpt-4o',
      messages: [
        { role: 'user', content: 'card 4111 1111 1111 1111 please' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'lookup', arguments: `{"ssn":"${SSN}"}` } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: 'mail jane@example.com' },
        { role: 'user', content: `and ${SSN}` },
      ],
    };
    const r = await post(`${sc.url}/v1/chat/completions`, body, cfg('redact-in'));
    expect(r.status).toBe(200);
    const sent = JSON.stringify(fake.requests[0].body);
    expect(sent).not.toMatch(/4111|6789|jane@/);
    expect(sent).toContain('[REDACTED:credit_card]');
    expect(sent).toContain('{\\"ssn\\":\\"[REDACTED:ssn]\\"}');
    expect(r.json.choices[0].message.content).toBe('Hello from fake-openai: and [REDACTED:ssn]');
    const { server } = await spans();
    expect(server[0].attributes['switchyard.guardrails.verdict']).toBe('failed');
  });
});

describe('output guardrails', () => {
  it('seed SSN regex: block → 446 with hook_results, the answer never reaches the client; the attempt is a guardrail failure', async () => {
    const r = await post(`${sc.url}/v1/chat/completions`, chat(`repeat ${SSN}`), cfg('seed-out'));
    expect(r.status).toBe(446);
    expect(r.text).not.toContain('6789');
    expect(r.json.error).toMatchObject({ status: 446, type: 'guardrail_error', code: 'guardrail_denied' });
    expect(r.json.error.attempts).toEqual([expect.objectContaining({ status: 446, error_type: 'guardrail' })]);
    expect(r.json.hook_results.after_request_hooks[0]).toMatchObject({ id: 'output.0', verdict: false, deny: true });
    expect(fake.requests).toHaveLength(1);
    const { server, client } = await spans();
    expect(server[0].attributes['switchyard.guardrails.verdict']).toBe('denied');
    expect(client[0].attributes['switchyard.outcome']).toBe('guardrail');
    expect(server[0].events.find((e) => e.name === 'switchyard.guardrail')!.attributes).toMatchObject({
      'switchyard.guardrail.phase': 'output',
      'switchyard.attempt': 0,
    });
    expect((await post(`${sc.url}/v1/chat/completions`, chat('repeat nothing'), cfg('seed-out'))).status).toBe(200);
  });

  it('retry (seed word_count min): the first target fails, the fallback passes → 200, rescued, two attempt spans, the first with outcome guardrail', async () => {
    const r = await post(`${sc.url}/v1/chat/completions`, chat('please say at least six words here'), cfg('retry'));
    expect(r.status).toBe(200);
    expect(r.json.choices[0].message.content.split(/\s+/).length).toBeGreaterThanOrEqual(6);
    expect(r.headers.get('x-switchyard-attempts')).toBe('2');
    expect(r.headers.get('x-switchyard-target')).toBe('1');
    expect(fake.requests).toHaveLength(2);
    const { server, client } = await spans();
    expect(
      client.map((s) => [
        s.attributes['switchyard.target'],
        s.attributes['switchyard.outcome'],
        s.attributes['http.response.status_code'],
      ]),
    ).toEqual([
      ['0', 'guardrail', 446],
      ['1', 'ok', 200],
    ]);
    expect(client[0].attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0); // the refused answer's tokens still count
    expect(server[0].attributes).toMatchObject({
      'switchyard.rescued': true,
      'switchyard.attempts': 2,
      'switchyard.guardrails.verdict': 'failed',
      'http.response.status_code': 200,
    });
  });

  it('retry with nothing passing: retries the target, then 446', async () => {
    const r = await post(
      `${sc.url}/v1/chat/completions`,
      chat('please say at least six words here'),
      cfg('retry-never'),
    );
    expect(r.status).toBe(446);
    expect(r.json.error.attempts.map((a: { error_type: string }) => a.error_type)).toEqual(['guardrail', 'guardrail']);
    expect(r.headers.get('x-switchyard-retry-count')).toBe('1');
    expect(r.json.hook_results.after_request_hooks[0]).toMatchObject({
      id: 'output.0',
      verdict: false,
      action: 'retry',
    });
  });

  it("Portkey's way: a denying guardrail retries and falls back where retry and strategy list 446", async () => {
    const r = await post(`${sc.url}/v1/chat/completions`, chat('please say at least six words here'), cfg('pk-446'));
    expect(r.status).toBe(200);
    expect(r.json.error).toBeUndefined();
    expect(r.headers.get('x-switchyard-attempts')).toBe('3');
    expect(r.headers.get('x-switchyard-target')).toBe('1');
    const { client } = await spans();
    expect(client.map((s) => [s.attributes['switchyard.target'], s.attributes['switchyard.outcome']])).toEqual([
      ['0', 'guardrail'],
      ['0', 'guardrail'],
      ['1', 'ok'],
    ]);
  });

  it('warn → 246 with the answer and hook_results', async () => {
    const r = await post(`${sc.url}/v1/chat/completions`, chat('hi'), cfg('warn'));
    expect(r.status).toBe(246);
    expect(r.json.choices[0].message.content).toBe('Hello from fake-openai: hi');
    expect(r.json.hook_results.after_request_hooks[0]).toMatchObject({
      id: 'output.0',
      verdict: false,
      deny: false,
      checks: [{ id: 'default.contains', verdict: false }],
    });
  });

  it('redact: the client sees [REDACTED:<kind>] in the answer text and tool-call arguments', async () => {
    const r = await post(
      `${sc.url}/v1/chat/completions`,
      chat(`mail me at jane@example.com, ${SSN}`),
      cfg('redact-out'),
    );
    expect(r.status).toBe(200);
    expect(r.json.choices[0].message.content).toBe(
      'Hello from fake-openai: mail me at [REDACTED:email], [REDACTED:ssn]',
    );
    const tools = [
      {
        type: 'function',
        function: { name: 'send', parameters: { type: 'object', properties: { to: { type: 'string', enum: [SSN] } } } },
      },
    ];
    const t = await post(`${sc.url}/v1/chat/completions`, chat('use a tool', { tools }), cfg('redact-out'));
    expect(t.status).toBe(200);
    expect(t.json.choices[0].message.tool_calls[0].function.arguments).toBe('{"to":"[REDACTED:ssn]"}');
    // A Portkey guardrail by id (deny: true) blocks the same tool call.
    const b = await post(`${sc.url}/v1/chat/completions`, chat('use a tool', { tools }), cfg('pk-ids'));
    expect(b.status).toBe(446);
    expect(b.text).not.toContain('6789');
  });
});

describe('streams', () => {
  it('a streamed answer with denied text is held: the client gets a 446 and none of the text', async () => {
    const r = await post(`${sc.url}/v1/chat/completions`, chat(`repeat ${SSN}`, { stream: true }), cfg('seed-out'));
    expect(r.status).toBe(446);
    expect(r.text).not.toContain('6789');
    expect(r.text).not.toContain('fake-openai');
    expect(r.json.error.code).toBe('guardrail_denied');
    const ok = await post(`${sc.url}/v1/chat/completions`, chat('repeat nothing', { stream: true }), cfg('seed-out'));
    expect(ok.status).toBe(200);
    const frames = sseData(ok.text);
    expect(frames.at(-1)).toBe('[DONE]');
    expect(
      frames
        .slice(0, -1)
        .map((f) => JSON.parse(f).choices[0]?.delta?.content ?? '')
        .join(''),
    ).toBe('Hello from fake-openai: repeat nothing');
  });

  it('a held stream that fails a retry check goes on to the fallback, and the client sees only the passing answer', async () => {
    const r = await post(
      `${sc.url}/v1/chat/completions`,
      chat('please say at least six words here', { stream: true }),
      cfg('retry'),
    );
    expect(r.status).toBe(200);
    const text = sseData(r.text)
      .slice(0, -1)
      .map((f) => JSON.parse(f).choices[0]?.delta?.content ?? '')
      .join('');
    expect(text).toBe('Hello from fake-openai: please say at least six words here');
    const { client } = await spans();
    expect(client.map((s) => s.attributes['switchyard.outcome'])).toEqual(['guardrail', 'ok']);
  });

  it('a held stream is redacted across chunk boundaries', async () => {
    const r = await post(
      `${sc.url}/v1/chat/completions`,
      chat(`write jane@example.com and ${SSN} back`, { stream: true }),
      cfg('redact-out'),
    );
    expect(r.status).toBe(200);
    expect(r.text).not.toMatch(/6789|jane@/);
    const text = sseData(r.text)
      .slice(0, -1)
      .map((f) => JSON.parse(f).choices[0]?.delta?.content ?? '')
      .join('');
    expect(text).toBe('Hello from fake-openai: write [REDACTED:email] and [REDACTED:ssn] back');
  });

  it('warn only: chunks flow undelayed, the verdict comes in a final frame before [DONE]', async () => {
    fake.enqueue({ slowBodyMs: 150 });
    const started = Date.now();
    const res = await fetch(`${sc.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...cfg('warn') },
      body: JSON.stringify(chat('one two three four five', { stream: true })),
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = await reader.read();
    const firstAt = Date.now() - started;
    let text = new TextDecoder().decode(first.value);
    for (let c = await reader.read(); !c.done; c = await reader.read()) text += new TextDecoder().decode(c.value);
    const total = Date.now() - started;
    // ~9 frames 150 ms apart: the first arrives long before the last.
    expect(total).toBeGreaterThan(1000);
    expect(firstAt).toBeLessThan(total - 600);
    const frames = sseData(text);
    expect(frames.at(-1)).toBe('[DONE]');
    const verdict = JSON.parse(frames.at(-2)!);
    expect(verdict.hook_results.after_request_hooks[0]).toMatchObject({ id: 'output.0', verdict: false, deny: false });
    const { server } = await spans();
    expect(server[0].attributes['switchyard.guardrails.verdict']).toBe('failed');
  });
});

describe('POST /v1/messages (Anthropic in and out)', () => {
  let ant: FakeServer;
  let ms: TestSidecar;
  beforeAll(async () => {
    ant = await startFakeAnthropic({ apiKey: 'sk-ant' });
    ms = await startSidecar(`
providers:
  ant: {type: anthropic, api_key: sk-ant, base_url: "${ant.url}/v1"}
  oai: {type: openai, api_key: sk-a, base_url: "${fake.url}/v1"}
configs:
  block: {provider: "@ant", guardrails: {input: [{type: contains, deny: [password]}], output: [{type: pii, kinds: [ssn], action: block}]}}
  redact-ant: {provider: "@ant", guardrails: {output: [{type: pii, kinds: [ssn], action: redact}]}}
  redact-in: {provider: "@oai", override_params: {model: gpt-4o}, guardrails: {input: [{type: pii, action: redact}]}}
default_config: block
`);
  });
  afterAll(async () => {
    await ms?.close();
    await ant?.close();
  });
  const msg = (text: string, extra: Record<string, unknown> = {}) => ({
    model: 'claude-sonnet-4-6',
    max_tokens: 100,
    messages: [{ role: 'user', content: text }],
    ...extra,
  });

  it('input and output checks read Anthropic messages and answers; errors keep hook_results', async () => {
    const a = await post(`${ms.url}/v1/messages`, msg('my password is x'));
    expect(a.status).toBe(446);
    expect(a.json.type).toBe('error');
    expect(a.json.hook_results.before_request_hooks[0]).toMatchObject({ verdict: false });
    expect(ant.requests).toHaveLength(0);
    const b = await post(`${ms.url}/v1/messages`, msg(`repeat ${SSN}`));
    expect(b.status).toBe(446);
    expect(b.text).not.toContain('6789');
    expect(b.json.hook_results.after_request_hooks[0]).toMatchObject({ verdict: false, deny: true });
    const s = await post(`${ms.url}/v1/messages`, msg(`repeat ${SSN}`, { stream: true }));
    expect(s.status).toBe(446);
    expect(s.text).not.toContain('6789');
    expect((await post(`${ms.url}/v1/messages`, msg('repeat nothing'))).status).toBe(200);
  });

  it('redacts an Anthropic answer; refuses what this route cannot redact instead of passing it on', async () => {
    const r = await post(`${ms.url}/v1/messages`, msg(`repeat ${SSN}`), { 'x-switchyard-config': 'redact-ant' });
    expect(r.status).toBe(200);
    expect(r.json.content[0].text).toBe('Hello from fake-anthropic: repeat [REDACTED:ssn]');
    const s = await post(`${ms.url}/v1/messages`, msg(`repeat ${SSN}`, { stream: true }), {
      'x-switchyard-config': 'redact-ant',
    });
    expect(s.status).toBe(446);
    expect(s.text).not.toContain('6789');
    fake.reset();
    const i = await post(`${ms.url}/v1/messages`, msg(`my ssn ${SSN}`), { 'x-switchyard-config': 'redact-in' });
    expect(i.status).toBe(446);
    expect(fake.requests).toHaveLength(0);
  });
});
