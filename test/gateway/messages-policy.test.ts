// The policy pipeline on POST /v1/messages: the Anthropic SDK's api key (x-api-key) is the
// virtual key; refusals come back in Anthropic's error shape with the statuses the SDK maps.
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeServer } from '../fakes/anthropic.js';
import { startSidecar, type TestSidecar } from '../helpers/sidecar.js';
import type { ErrorBody } from '../helpers/bodies.js';

const VK = {
  ok: 'vk-anthropic-0123456789abcdef',
  limited: 'vk-limited-0123456789abcdef',
  haiku: 'vk-haiku-only-0123456789abcd',
};

let ant: FakeServer;
let sc: TestSidecar;
const sdk = (apiKey: string) => new Anthropic({ baseURL: sc.url, apiKey, maxRetries: 0 });
const ask = (c: Anthropic, model = 'claude-sonnet-4-6') =>
  c.messages.create({ model, max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] });

beforeAll(async () => {
  ant = await startFakeAnthropic({ apiKey: 'sk-ant-real' });
  sc = await startSidecar(`
providers:
  ant: {type: anthropic, api_key: sk-ant-real, base_url: "${ant.url}/v1"}
configs:
  main: {provider: "@ant"}
  guarded:
    provider: "@ant"
    guardrails:
      input: [{type: contains, deny: ["password"], flags: [IGNORECASE], action: block, message: "no secrets please"}]
default_config: main
virtual_keys:
  ok: {key: ${VK.ok}}
  limited: {key: ${VK.limited}, rate_limit: {requests_per_minute: 2}}
  haiku: {key: ${VK.haiku}, models: ["claude-haiku-*"]}
`);
});
afterAll(async () => {
  await sc?.close();
  await ant?.close();
});

describe('virtual keys on /v1/messages', () => {
  it('the SDK api key is the virtual key; the provider gets the real key', async () => {
    const r = await ask(sdk(VK.ok));
    expect(r.content[0]).toMatchObject({ type: 'text' });
    // The fake checks x-api-key against sk-ant-real: a 200 means the virtual key never left the sidecar.
    expect(ant.requests.at(-1)!.headers['x-api-key']).toBe('[redacted]');
  });

  it('an unknown key → 401 authentication_error', async () => {
    const e = await ask(sdk('vk-nope-0123456789abcdefgh')).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(((e as InstanceType<typeof Anthropic.APIError>).error as ErrorBody).error.type).toBe('authentication_error');
  });

  it('a model the key may not use → 403 permission_error', async () => {
    const c = sdk(VK.haiku);
    expect((await ask(c, 'claude-haiku-4-5')).model).toBe('claude-haiku-4-5');
    const e = await ask(c).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect(((e as InstanceType<typeof Anthropic.APIError>).error as ErrorBody).error.type).toBe('permission_error');
  });

  it('rate limited → 429 rate_limit_error with Retry-After', async () => {
    const c = sdk(VK.limited);
    await ask(c);
    await ask(c);
    const e = (await ask(c).catch((x: unknown) => x)) as InstanceType<typeof Anthropic.RateLimitError>;
    expect(e).toBeInstanceOf(Anthropic.RateLimitError);
    expect((e.error as ErrorBody).error.type).toBe('rate_limit_error');
    expect(Number(e.headers?.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('guardrails on /v1/messages', () => {
  it('an input guardrail that blocks → 446 in Anthropic shape with hook_results; nothing reaches the provider', async () => {
    const before = ant.requests.length;
    const e = (await sdk(VK.ok)
      .messages.create(
        {
          model: 'claude-sonnet-4-6',
          max_tokens: 20,
          system: 'Be brief.',
          messages: [{ role: 'user', content: 'my Password is hunter2' }],
        },
        { headers: { 'x-switchyard-config': 'guarded' } },
      )
      .catch((x: unknown) => x)) as InstanceType<typeof Anthropic.APIError>;
    expect(e.status).toBe(446);
    const body = e.error as ErrorBody;
    expect(body.type).toBe('error');
    expect(body.error).toMatchObject({ type: 'guardrail_error', message: 'no secrets please' });
    expect(body.hook_results).toBeDefined();
    expect(JSON.stringify(body)).not.toContain('hunter2');
    expect(ant.requests.length).toBe(before);
    const ok = await sdk(VK.ok).messages.create(
      { model: 'claude-sonnet-4-6', max_tokens: 20, messages: [{ role: 'user', content: 'hello' }] },
      { headers: { 'x-switchyard-config': 'guarded' } },
    );
    expect(ok.type).toBe('message');
  });
});
