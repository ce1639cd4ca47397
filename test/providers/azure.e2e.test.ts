// End to end: OpenAI SDK → Sidecar → fake Azure OpenAI (deployment URLs, api-version, api-key or Entra ID).
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSidecar, type TestSidecar } from '../helpers/sidecar.js';
import { startFakeAzure, type FakeAzure } from '../fakes/azure.js';
import { azureTokenCache } from '../../src/providers/azure/adapter.js';

let fake: FakeAzure;
let sc: TestSidecar;
let client: OpenAI;

beforeAll(async () => {
  fake = await startFakeAzure({
    apiKey: 'azure-key-1',
    deployments: { 'prod-4o': 'gpt-4o-2024-11-20', 'embed-small': 'text-embedding-3-small' },
    entra: { tenantId: 'tenant-1', clientId: 'app-1', clientSecret: 'app-secret' },
  });
  sc = await startSidecar(`
providers:
  az: {type: azure-openai, base_url: ${fake.url}, api_key: azure-key-1, deployments: {gpt-4o: prod-4o, text-embedding-3-small: embed-small}}
  azv1: {type: azure-openai, base_url: ${fake.url}/openai, api_key: azure-key-1, api_version: v1}
  entra: {type: azure-openai, base_url: ${fake.url}, deployment: prod-4o, entra: {tenant_id: tenant-1, client_id: app-1, client_secret: app-secret, authority_host: ${fake.url}}}
  badsecret: {type: azure-openai, base_url: ${fake.url}, deployment: prod-4o, entra: {tenant_id: tenant-1, client_id: app-1, client_secret: nope, authority_host: ${fake.url}}}
  badkey: {type: azure-openai, base_url: ${fake.url}, api_key: wrong, deployment: prod-4o}
  noauth: {type: azure-openai, base_url: ${fake.url}, deployment: prod-4o}
configs:
  default: {provider: "@az", retry: {attempts: 1, on_status_codes: [429], backoff_base_ms: 1}}
  v1: {provider: "@azv1"}
  entra: {provider: "@entra"}
  badsecret: {provider: "@badsecret"}
  badkey: {provider: "@badkey"}
  noauth: {provider: "@noauth"}
default_config: default
`);
  client = new OpenAI({ baseURL: `${sc.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
afterAll(async () => {
  await sc?.close();
  await fake?.close();
});
beforeEach(() => {
  fake.reset();
  azureTokenCache.clear();
});

const post = (body: unknown, config?: string) =>
  fetch(`${sc.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(config ? { 'x-switchyard-config': config } : {}) },
    body: JSON.stringify(body),
  });

describe('azure openai through the sidecar', () => {
  it('calls the mapped deployment with api-version and the api-key header', async () => {
    const r = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello' }] });
    expect(r.choices[0].message.content).toBe('Hello from fake-openai: hello');
    expect(r.model).toBe('gpt-4o-2024-11-20');
    expect(fake.requests[0].path).toBe('/openai/deployments/prod-4o/chat/completions?api-version=2024-10-21');
    expect(fake.requests[0].headers['api-key']).toBe('[redacted]');
    expect(fake.requests[0].headers.authorization).toBeUndefined();
  });

  it('streams with usage, skipping nothing the client needs', async () => {
    const s = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'stream please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const c of s) {
      text += c.choices[0]?.delta?.content ?? '';
      if (c.usage) usage = c.usage;
    }
    expect(text).toBe('Hello from fake-openai: stream please');
    expect(usage!.completion_tokens).toBeGreaterThan(0);
  });

  it('uses the v1 API without api-version', async () => {
    await client.chat.completions.create(
      { model: 'gpt-4o-2024-11-20', messages: [{ role: 'user', content: 'x' }] },
      { headers: { 'x-switchyard-config': 'v1' } },
    );
    expect(fake.requests[0].path).toBe('/openai/v1/chat/completions');
  });

  it('embeds through the embeddings deployment', async () => {
    const r = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
    expect(r.data).toHaveLength(2);
    expect(fake.requests[0].path).toBe('/openai/deployments/embed-small/embeddings?api-version=2024-10-21');
  });

  it('gets an Entra ID token by client credentials once and sends it as a bearer', async () => {
    const before = fake.tokensIssued;
    for (let i = 0; i < 3; i++)
      expect((await post({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }, 'entra')).status).toBe(200);
    expect(fake.tokensIssued - before).toBe(1);
    const chat = fake.requests.filter((q) => q.path.startsWith('/openai/'));
    expect(chat.every((q) => q.headers.authorization === '[redacted]' && q.headers['api-key'] === undefined)).toBe(
      true,
    );
  });

  it('maps auth failures to 401 and never echoes secrets', async () => {
    for (const cfg of ['badsecret', 'badkey']) {
      const res = await post({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }, cfg);
      expect(res.status).toBe(401);
      const text = await res.text();
      expect(text).not.toContain('nope');
      expect(text).not.toContain('"wrong"');
    }
    const res = await post({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }, 'noauth');
    expect(res.status).toBe(500);
    expect((await res.json()).error.message).toContain('providers.noauth.api_key');
  });

  it('retries a 429 and reports Azure errors with a standard type', async () => {
    fake.enqueue({ status: 429 });
    const ok = await post({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-switchyard-retry-count')).toBe('1');
    const missing = await post({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] });
    expect(missing.status).toBe(404);
    const j = await missing.json();
    expect(j.error.code).toBe('DeploymentNotFound');
    expect(j.error.type).toBe('not_found_error');
  });
});
