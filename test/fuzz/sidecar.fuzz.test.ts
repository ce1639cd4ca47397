// Fuzzing the sidecar's request intake: chat, completions and embeddings bodies mutated from valid
// ones (wrong types, deep nesting, invalid JSON, unicode, prototype keys), and the per-request
// headers (x-switchyard-metadata / -config / -deadline-ms / -trace-id, traceparent, tracestate,
// baggage, in both spellings), in front of healthy fake OpenAI and Anthropic upstreams. Every
// answer must be below 500 (the upstreams are healthy, so no 5xx is designed to appear), every
// error must be JSON in the sidecar's one error shape, and the sidecar still serves afterwards.
//
// Seed and size: FUZZ_SEED=<n> (printed on failure), FUZZ_RUNS=<n> (runs per property).
import net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic } from '../fakes/anthropic.js';
import { startFakeOpenAI, type FakeServer } from '../fakes/openai.js';
import { startSidecar, type TestSidecar } from '../helpers/sidecar.js';
import {
  applyByteOp,
  applyTextOp,
  byteOpArb,
  fuzz,
  fuzzSettings,
  jsonOpArb,
  jsonText,
  mutateJson,
  pick,
  textOpArb,
} from './mutate.js';

const S = fuzzSettings();
const MAX_BODY = 256 * 1024;

let oai: FakeServer;
let ant: FakeServer;
let sc: TestSidecar;
const statuses = new Map<number, number>();

beforeAll(async () => {
  oai = await startFakeOpenAI();
  ant = await startFakeAnthropic();
  sc = await startSidecar(`
providers:
  oai: {type: openai, api_key: sk-fuzz-openai, base_url: "${oai.url}/v1"}
  ant: {type: anthropic, api_key: sk-ant-fuzz, base_url: "${ant.url}/v1"}
configs:
  default: {provider: "@oai"}
  fallback:
    strategy: {mode: fallback}
    retry: {attempts: 1}
    targets:
      - {provider: "@oai", override_params: {model: gpt-4o-mini}}
      - {provider: "@ant", override_params: {model: claude-haiku-4-5}}
  anthropic: {provider: "@ant", override_params: {model: claude-sonnet-4-6}}
  cond:
    strategy:
      mode: conditional
      conditions:
        - {query: {"metadata.user": {"$eq": "alice"}}, then: ant}
        - {query: {"params.temperature": {"$gt": 1}}, then: ant}
      default: oai
    targets:
      - {name: oai, provider: "@oai"}
      - {name: ant, provider: "@ant", override_params: {model: claude-haiku-4-5}}
default_config: default
server: {max_body_bytes: ${MAX_BODY}}
`);
});

afterAll(async () => {
  await sc?.close();
  await oai?.close();
  await ant?.close();
  if (process.env.FUZZ_VERBOSE)
    console.log(`sidecar fuzz seed ${S.seed}: statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
});

// ---------------------------------------------------------------------------------------------
// Seeds

type Route = '/v1/chat/completions' | '/v1/completions' | '/v1/embeddings' | '/v1/messages';

const BODIES: readonly [Route, Record<string, unknown>][] = [
  [
    '/v1/chat/completions',
    {
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hi there' },
      ],
      temperature: 0.2,
      max_tokens: 20,
    },
  ],
  [
    '/v1/chat/completions',
    {
      model: 'gpt-4o',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'describe' }] }],
      stream: true,
      stream_options: { include_usage: true },
    },
  ],
  [
    '/v1/chat/completions',
    {
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'weather?' }],
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          },
        },
      ],
      tool_choice: 'auto',
      user: 'u1',
    },
  ],
  [
    '/v1/chat/completions',
    { model: '@ant/claude-haiku-4-5', messages: [{ role: 'user', content: 'hello' }], max_tokens: 16, stop: ['\n'] },
  ],
  ['/v1/completions', { model: 'gpt-3.5-turbo-instruct', prompt: 'say hi', max_tokens: 5 }],
  ['/v1/completions', { model: 'gpt-3.5-turbo-instruct', prompt: ['a', 'b'], stream: true }],
  ['/v1/embeddings', { model: 'text-embedding-3-small', input: ['alpha', 'beta'] }],
  ['/v1/embeddings', { model: 'text-embedding-3-small', input: 'one', encoding_format: 'float', dimensions: 8 }],
  // Anthropic's Messages API, served by the same pipeline (answers and errors in Anthropic's shape).
  [
    '/v1/messages',
    {
      model: 'claude-haiku-4-5',
      max_tokens: 16,
      system: 'be brief',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
    },
  ],
  [
    '/v1/messages',
    {
      model: 'claude-haiku-4-5',
      max_tokens: 16,
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
      tools: [{ name: 'f', input_schema: { type: 'object' } }],
    },
  ],
];

const VALID_METADATA = { user: 'alice', feature: 'search', 'team.name': 'é' };
const VALID_INLINE = {
  strategy: { mode: 'fallback' },
  targets: [
    { provider: '@oai', request_timeout: 5000 },
    { provider: '@ant', override_params: { model: 'claude-haiku-4-5' } },
  ],
};

// ---------------------------------------------------------------------------------------------
// Header values (what fetch can send: no CR/LF/NUL, Latin-1 bytes; JSON stays ASCII via \u escapes)

function headerSafe(s: string): string {
  return (
    s
      // biome-ignore lint/suspicious/noControlCharactersInRegex: removing the control characters fetch refuses in a header is the point
      .replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, ' ')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the class is "outside Latin-1"; \u0000 is only its lower bound
      .replace(/[^\u0000-\u00ff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
  );
}

const asciiText = fc.string({
  unit: fc.oneof(
    fc.constantFrom(...'{}[]":,\\=;%-_./@ 0123456789abcdefABCDEFxyz\t'),
    fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)),
  ),
  maxLength: 80,
});

/** A JSON header value: valid, mutated, or text-mangled. */
function jsonHeader(valid: unknown): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: fc.constant(JSON.stringify(valid)), weight: 4 },
    fc.array(jsonOpArb, { minLength: 1, maxLength: 3 }).map((ops) => jsonText(mutateJson(valid, ops))),
    fc.array(textOpArb, { minLength: 1, maxLength: 3 }).map((ops) => ops.reduce(applyTextOp, JSON.stringify(valid))),
    fc
      .dictionary(
        fc.string({ maxLength: 70 }),
        fc.oneof(fc.string({ maxLength: 600 }), fc.integer(), fc.constant(null)),
        { maxKeys: 40 },
      )
      .map((d) => JSON.stringify(d)),
    asciiText,
  );
}

const traceparentArb = fc.oneof(
  fc.constant('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'),
  fc
    .array(textOpArb, { minLength: 1, maxLength: 3 })
    .map((ops) => ops.reduce(applyTextOp, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')),
  fc.constantFrom(
    'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    '00-00000000000000000000000000000000-b7ad6b7169203331-01',
    '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01',
    '01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-09-extra',
    '00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01',
    '-',
    '',
  ),
  asciiText,
);

const deadlineArb = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 60_000 }).map(String), weight: 3 },
  fc.constantFrom(
    '0',
    '-1',
    '1.5',
    '0x10',
    '1e3',
    '1e300',
    'Infinity',
    'NaN',
    '',
    ' ',
    '99999999999999999999',
    '9007199254740993',
    '+5',
    '00010',
    '\t5',
  ),
  asciiText,
);

const headersArb = fc.record(
  {
    spelling: fc.constantFrom('x-switchyard-', 'x-portkey-'),
    metadata: jsonHeader(VALID_METADATA),
    config: fc.oneof(
      { arbitrary: fc.constantFrom('default', 'fallback', 'anthropic', 'cond'), weight: 3 },
      fc.constantFrom(
        'default',
        'fallback',
        'anthropic',
        'cond',
        'nope',
        '__proto__',
        'constructor',
        'toString',
        ' default ',
        '',
      ),
      jsonHeader(VALID_INLINE),
    ),
    deadline: deadlineArb,
    traceId: asciiText,
    traceparent: traceparentArb,
    tracestate: fc.oneof(fc.constant('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE'), asciiText),
    baggage: fc.oneof(
      fc.constant('userId=alice,serverNode=DF%2028,isProduction=false'),
      asciiText,
      fc.constant('k=v,'.repeat(200)),
    ),
    contentType: fc.constantFrom(
      'application/json',
      'text/plain',
      'application/json; charset=latin1',
      'application/x-www-form-urlencoded',
    ),
  },
  { requiredKeys: ['spelling'] },
);

type HeaderChoice = typeof headersArb extends fc.Arbitrary<infer T> ? T : never;

function buildHeaders(h: HeaderChoice): Record<string, string> {
  const out: Record<string, string> = { 'content-type': h.contentType ?? 'application/json' };
  const x = (name: string, v: string | undefined) => {
    if (v !== undefined) out[`${h.spelling}${name}`] = headerSafe(v);
  };
  x('metadata', h.metadata);
  x('config', h.config);
  x('deadline-ms', h.deadline);
  x('trace-id', h.traceId);
  if (h.traceparent !== undefined) out.traceparent = headerSafe(h.traceparent);
  if (h.tracestate !== undefined) out.tracestate = headerSafe(h.tracestate);
  if (h.baggage !== undefined) out.baggage = headerSafe(h.baggage);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Sending and judging

interface Answer {
  status: number;
  contentType: string | null;
  traceId: string | null;
  text: string;
}

async function send(route: string, body: Uint8Array | string, headers: Record<string, string>): Promise<Answer> {
  const res = await fetch(sc.url + route, {
    method: 'POST',
    body: typeof body === 'string' ? body : new Uint8Array(body),
    headers,
  });
  const out = {
    status: res.status,
    contentType: res.headers.get('content-type'),
    traceId: res.headers.get('x-switchyard-trace-id'),
    text: await res.text(),
  };
  statuses.set(out.status, (statuses.get(out.status) ?? 0) + 1);
  return out;
}

/**
 * Throws unless the answer is a success or an error in the sidecar's one JSON error shape (on
 * /v1/messages: Anthropic's, `{"type":"error","error":{"type","message"}}`).
 */
function judge(a: Answer, route: string = '/v1/chat/completions'): void {
  const what = `status ${a.status}, content-type ${a.contentType}, body ${a.text.slice(0, 300)}`;
  if (a.status >= 500) throw new Error(`5xx with healthy upstreams: ${what}`);
  // Every answer of the completion routes carries the trace id (a 431 comes before any route).
  if (a.traceId === null && a.status !== 431) throw new Error(`no x-switchyard-trace-id: ${what}`);
  if (a.status === 200 && a.contentType?.startsWith('text/event-stream')) {
    if (!/^(data: |event: |:)/.test(a.text)) throw new Error(`odd SSE body: ${what}`);
    return;
  }
  if (!a.contentType?.startsWith('application/json')) throw new Error(`not JSON: ${what}`);
  let json: { error?: Record<string, unknown> };
  try {
    json = JSON.parse(a.text) as typeof json;
  } catch {
    throw new Error(`body is not JSON: ${what}`);
  }
  if (a.status < 400) return;
  const e = json.error;
  if (route === '/v1/messages' && a.status !== 431) {
    if (
      (json as { type?: unknown }).type !== 'error' ||
      !e ||
      typeof e.type !== 'string' ||
      typeof e.message !== 'string' ||
      e.message === ''
    )
      throw new Error(`not an Anthropic error: ${what}`);
    return;
  }
  if (!e || typeof e !== 'object') throw new Error(`error without "error": ${what}`);
  if (typeof e.message !== 'string' || e.message === '') throw new Error(`error without a message: ${what}`);
  if (typeof e.type !== 'string' || e.type === '') throw new Error(`error without a type: ${what}`);
  if (!(typeof e.code === 'string' || e.code === null)) throw new Error(`error code neither string nor null: ${what}`);
  if (e.status !== a.status) throw new Error(`error.status ${String(e.status)} differs from the HTTP status: ${what}`);
  if (!Array.isArray(e.attempts)) throw new Error(`error without attempts: ${what}`);
  // Provider keys never appear in answers.
  if (a.text.includes('sk-fuzz-openai') || a.text.includes('sk-ant-fuzz'))
    throw new Error(`provider key in an answer: ${what}`);
}

async function expectServing(): Promise<void> {
  expect((await fetch(`${sc.url}/healthz`)).status).toBe(200);
  const a = await send(
    '/v1/chat/completions',
    JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'still here' }] }),
    { 'content-type': 'application/json' },
  );
  expect(a.status, a.text).toBe(200);
  expect(JSON.parse(a.text).choices[0].message.content).toBe('Hello from fake-openai: still here');
}

// ---------------------------------------------------------------------------------------------

describe(`sidecar request fuzzing (FUZZ_SEED=${S.seed})`, () => {
  it('answers mutated bodies with a success or a JSON error below 500', async () => {
    await fuzz(
      S,
      200,
      fc.asyncProperty(
        fc.record({
          seed: fc.nat(),
          route: fc.option(
            fc.constantFrom<Route>('/v1/chat/completions', '/v1/completions', '/v1/embeddings', '/v1/messages'),
            { freq: 5 },
          ),
          ops: fc.array(jsonOpArb, { minLength: 1, maxLength: 4 }),
          bytes: fc.array(byteOpArb, { maxLength: 2 }),
        }),
        async ({ seed, route, ops, bytes }) => {
          const [own, body] = pick(BODIES, seed);
          let raw: Uint8Array = Buffer.from(jsonText(mutateJson(body, ops)));
          for (const op of bytes) raw = applyByteOp(raw, op);
          judge(
            await send(route ?? own, raw, { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' }),
            route ?? own,
          );
        },
      ),
    );
  });

  it('answers mutated headers with a success or a JSON error below 500', async () => {
    await fuzz(
      S,
      200,
      fc.asyncProperty(fc.record({ seed: fc.nat(), headers: headersArb }), async ({ seed, headers }) => {
        const [route, body] = pick(BODIES, seed);
        judge(await send(route, JSON.stringify(body), buildHeaders(headers)), route);
      }),
    );
  });

  it('answers mutated bodies and headers together', async () => {
    await fuzz(
      S,
      100,
      fc.asyncProperty(
        fc.record({ seed: fc.nat(), ops: fc.array(jsonOpArb, { maxLength: 3 }), headers: headersArb }),
        async ({ seed, ops, headers }) => {
          const [route, body] = pick(BODIES, seed);
          judge(await send(route, jsonText(mutateJson(body, ops)), buildHeaders(headers)), route);
        },
      ),
    );
  });

  it('answers targeted edge cases', async () => {
    const chat = (extra: Record<string, unknown> = {}) => ({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'hi' }],
      ...extra,
    });
    const J = { 'content-type': 'application/json' };
    const expectStatus = async (status: number, route: Route, body: string, headers: Record<string, string> = J) => {
      const a = await send(route, body, headers);
      judge(a);
      expect(a.status, a.text).toBe(status);
      return a;
    };
    // Regression: a body nested thousands of levels deep overflowed the stack when the request was
    // serialised for the provider, answered 500. Now refused up front with 400, at any depth.
    for (const depth of [5000, 100_000]) {
      for (const where of ['top', 'message']) {
        const deep = '['.repeat(depth) + ']'.repeat(depth);
        const body =
          where === 'top'
            ? `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"x":${deep}}`
            : `{"model":"gpt-4o","messages":[{"role":"user","content":"hi","x":${deep}}]}`;
        const a = await expectStatus(400, '/v1/chat/completions', body);
        expect(JSON.parse(a.text).error.message).toMatch(/nested more than \d+ levels/);
      }
    }
    const deepEmb = `{"model":"text-embedding-3-small","input":"x","extra":${'{"a":'.repeat(3000)}1${'}'.repeat(3000)}}`;
    await expectStatus(400, '/v1/embeddings', deepEmb);
    const deepMsg = await send(
      '/v1/messages',
      `{"model":"claude-haiku-4-5","max_tokens":16,"messages":[{"role":"user","content":"hi"}],"metadata":{"x":${'['.repeat(5000)}${']'.repeat(5000)}}}`,
      J,
    );
    judge(deepMsg, '/v1/messages');
    expect([deepMsg.status, JSON.parse(deepMsg.text).error.message]).toEqual([
      400,
      expect.stringMatching(/nested more than \d+ levels/),
    ]);
    // Reasonable nesting (a deep JSON schema in a tool) still goes through.
    let schema: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 30; i++) schema = { type: 'object', properties: { x: schema } };
    await expectStatus(
      200,
      '/v1/chat/completions',
      JSON.stringify(chat({ tools: [{ type: 'function', function: { name: 'f', parameters: schema } }] })),
    );
    // Prototype keys in the body and in metadata are data, never the object's prototype.
    await expectStatus(
      200,
      '/v1/chat/completions',
      '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"__proto__":{"stream":true},"constructor":{"prototype":{}}}',
    );
    await expectStatus(200, '/v1/chat/completions', JSON.stringify(chat()), {
      ...J,
      'x-switchyard-metadata': '{"__proto__":"x","constructor":"y","toString":"z"}',
    });
    // Prototype names as config ids are unknown ids, not Object.prototype members.
    for (const id of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const a = await send('/v1/chat/completions', JSON.stringify(chat()), { ...J, 'x-switchyard-config': id });
      judge(a);
      expect(a.status).toBe(400);
    }
    // Invalid JSON, wrong top-level types, empty body.
    for (const body of [
      '',
      '{',
      'null',
      '[]',
      '"x"',
      '1',
      'true',
      '{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}x',
      '\ufeff{}',
    ]) {
      const a = await send('/v1/chat/completions', body, J);
      judge(a);
      expect(a.status, body).toBe(400);
    }
    // Invalid UTF-8 inside a string (decoded as U+FFFD) is still a valid request.
    const bad = Buffer.concat([
      Buffer.from('{"model":"gpt-4o","messages":[{"role":"user","content":"a'),
      Buffer.from([0xff, 0xc0, 0xaf, 0xed, 0xa0, 0x80]),
      Buffer.from('"}]}'),
    ]);
    judge(await send('/v1/chat/completions', bad, J));
    // Lone surrogates survive the trip through JSON.
    await expectStatus(
      200,
      '/v1/chat/completions',
      JSON.stringify(chat({ messages: [{ role: 'user', content: '\ud800 \udfff 🚀' }] })),
    );
    // Body over the limit, compressed bodies.
    await expectStatus(413, '/v1/chat/completions', JSON.stringify(chat({ pad: 'x'.repeat(MAX_BODY) })));
    await expectStatus(415, '/v1/chat/completions', JSON.stringify(chat()), { ...J, 'content-encoding': 'gzip' });
    // Deadlines: tiny (answered in time or a 408), absurd (clamped by the server's), invalid (400).
    for (const d of ['1', '2'])
      judge(await send('/v1/chat/completions', JSON.stringify(chat()), { ...J, 'x-switchyard-deadline-ms': d }));
    await expectStatus(200, '/v1/chat/completions', JSON.stringify(chat()), {
      ...J,
      'x-switchyard-deadline-ms': '99999999999999999999',
    });
    for (const d of ['0', '-5', '1.5', 'soon', ''])
      await expectStatus(400, '/v1/chat/completions', JSON.stringify(chat()), { ...J, 'x-switchyard-deadline-ms': d });
    // Metadata at its bounds.
    const meta32 = Object.fromEntries(
      Array.from({ length: 32 }, (_v, i) => [`k${i}`, i === 0 ? 'v'.repeat(512) : 'v'.repeat(300)]),
    );
    await expectStatus(200, '/v1/chat/completions', JSON.stringify(chat()), {
      ...J,
      'x-switchyard-metadata': JSON.stringify(meta32),
    });
    await expectStatus(400, '/v1/chat/completions', JSON.stringify(chat()), {
      ...J,
      'x-switchyard-metadata': JSON.stringify({ ...meta32, k32: 'v' }),
    });
    await expectStatus(400, '/v1/chat/completions', JSON.stringify(chat()), {
      ...J,
      'x-switchyard-metadata': JSON.stringify({ a: { b: 'c' } }),
    });
    // Inline configs: garbage, deep nesting, unknown fields.
    await expectStatus(400, '/v1/chat/completions', JSON.stringify(chat()), {
      ...J,
      'x-switchyard-config': `${'{"targets":'.repeat(700)}1${'}'.repeat(700)}`,
    });
    await expectStatus(400, '/v1/chat/completions', JSON.stringify(chat()), {
      ...J,
      'x-switchyard-config': `${'{"targets":['.repeat(600)}{"provider":"@oai"}${']}'.repeat(600)}`,
    });
    // Unknown fields pass through (Portkey's shape) or are refused where a policy is not implemented.
    for (const extra of [
      { zzz: [1, { a: null }] },
      { cache: { mode: 'simple' } },
      { __proto__x: {}, metadata: { a: 1 } },
    ]) {
      const a = await send('/v1/chat/completions', JSON.stringify(chat()), {
        ...J,
        'x-switchyard-config': JSON.stringify({ provider: '@oai', ...extra }),
      });
      judge(a);
      expect([200, 400], a.text).toContain(a.status);
    }
  });

  it('answers raw header bytes (UTF-8, obs-text, duplicates) without a 5xx', async () => {
    const { port } = new URL(sc.url);
    const body = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'raw' }] });
    const rawRequest = (extra: Buffer[]) =>
      new Promise<{ status: number; head: string; body: string }>((resolve, reject) => {
        const sock = net.connect(Number(port), '127.0.0.1');
        const chunks: Buffer[] = [];
        sock.on('data', (c) => chunks.push(c));
        sock.on('error', reject);
        sock.on('end', () => {
          const text = Buffer.concat(chunks).toString('latin1');
          const [head, ...rest] = text.split('\r\n\r\n');
          resolve({ status: Number(head.split(' ')[1]), head, body: rest.join('\r\n\r\n') });
        });
        // write, not end: the server closes the connection after its answer (connection: close).
        sock.write(
          Buffer.concat([
            Buffer.from(
              `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n`,
            ),
            ...extra.map((h) => Buffer.concat([h, Buffer.from('\r\n')])),
            Buffer.from(`\r\n${body}`),
          ]),
        );
      });
    const cases: Buffer[][] = [
      [Buffer.concat([Buffer.from('x-switchyard-metadata: {"user":"'), Buffer.from('é🚀', 'utf8'), Buffer.from('"}')])],
      [
        Buffer.concat([
          Buffer.from('x-switchyard-metadata: {"user":"'),
          Buffer.from([0xff, 0xfe, 0x80]),
          Buffer.from('"}'),
        ]),
      ],
      [Buffer.from('x-switchyard-metadata: {"a":"1"}'), Buffer.from('x-switchyard-metadata: {"b":"2"}')],
      [Buffer.from('x-switchyard-metadata: {"a":"1"}'), Buffer.from('x-portkey-metadata: not json')],
      [Buffer.from('x-switchyard-config: default'), Buffer.from('x-switchyard-config: fallback')],
      [Buffer.from('x-switchyard-deadline-ms: 5000'), Buffer.from('x-switchyard-deadline-ms: 6000')],
      [
        Buffer.from('traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'),
        Buffer.from('traceparent: 00-1af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'),
      ],
      [Buffer.concat([Buffer.from('x-switchyard-trace-id: '), Buffer.from([0xe9, 0x80, 0xff])])],
      [Buffer.concat([Buffer.from('baggage: k='), Buffer.from('é', 'utf8'), Buffer.from(';p=\x7f')])],
    ];
    for (const extra of cases) {
      const r = await rawRequest(extra);
      expect(r.status, r.head).toBeLessThan(500);
      if (r.status >= 400) expect(JSON.parse(r.body).error.status).toBe(r.status);
    }
  });

  it('still serves afterwards: healthz and a valid request', async () => {
    await expectServing();
  });
});
