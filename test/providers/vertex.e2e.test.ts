// End to end: OpenAI SDK → Sidecar → fake Vertex AI, with a real service-account JWT grant
// against the fake token endpoint (RS256 verified with the key's public half).
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSidecar, type TestSidecar } from '../helpers/sidecar.js';
import { startFakeVertex, type FakeVertex } from '../fakes/vertex.js';
import { vertexTokenCache } from '../../src/providers/vertex/credentials.js';
import { countTokens } from '../fakes/text.js';

const EMAIL = 'switchyard@proj-1.iam.gserviceaccount.com';
let fake: FakeVertex;
let sc: TestSidecar;
let client: OpenAI;

function keyFile(dir: string, name: string, privateKey: string, tokenUri: string): string {
  const path = join(dir, name);
  writeFileSync(
    path,
    JSON.stringify({
      type: 'service_account',
      project_id: 'proj-1',
      private_key_id: 'k1',
      private_key: privateKey,
      client_email: EMAIL,
      token_uri: tokenUri,
    }),
  );
  return path;
}

beforeAll(async () => {
  const good = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  fake = await startFakeVertex({
    clientEmail: EMAIL,
    publicKeyPem: good.publicKey.export({ type: 'spki', format: 'pem' }) as string,
    project: 'proj-1',
  });
  const dir = mkdtempSync(join(tmpdir(), 'sy-vertex-'));
  const pem = (k: typeof good) => k.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const goodPath = keyFile(dir, 'good.json', pem(good), fake.tokenUrl);
  const badPath = keyFile(dir, 'bad.json', pem(other), fake.tokenUrl);
  sc = await startSidecar(`
providers:
  vx: {type: vertex, base_url: ${fake.url}/v1, project: proj-1, location: europe-west4, credentials: ${goodPath}}
  badkey: {type: vertex, base_url: ${fake.url}/v1, project: proj-1, location: europe-west4, credentials: ${badPath}}
  noproject: {type: vertex, base_url: ${fake.url}/v1, credentials: {}}
configs:
  default: {provider: "@vx"}
  badkey: {provider: "@badkey"}
  noproject: {provider: "@noproject"}
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
  vertexTokenCache.clear();
});

const post = (body: unknown, config?: string) =>
  fetch(`${sc.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(config ? { 'x-switchyard-config': config } : {}) },
    body: JSON.stringify(body),
  });

describe('vertex through the sidecar', () => {
  it('gets a token with a signed JWT once, then reuses it for chat and streams', async () => {
    const r = await client.chat.completions.create({
      model: 'gemini-2.0-flash',
      messages: [{ role: 'user', content: 'hi there' }],
    });
    expect(r.choices[0].message.content).toBe('Hello from fake-gemini: hi there');
    const s = await client.chat.completions.create({
      model: 'gemini-2.0-flash',
      messages: [{ role: 'user', content: 'stream it' }],
      stream: true,
    });
    let text = '';
    for await (const c of s) text += c.choices[0]?.delta?.content ?? '';
    expect(text).toBe('Hello from fake-gemini: stream it');
    expect(fake.tokensIssued).toBe(1);
    const paths = fake.requests.map((q) => q.path);
    expect(paths).toEqual([
      '/token',
      '/v1/projects/proj-1/locations/europe-west4/publishers/google/models/gemini-2.0-flash:generateContent',
      '/v1/projects/proj-1/locations/europe-west4/publishers/google/models/gemini-2.0-flash:streamGenerateContent?alt=sse',
    ]);
  });

  it('drops a token the API stops accepting, and fetches a new one for the next request', async () => {
    const before = fake.tokensIssued;
    await client.chat.completions.create({ model: 'gemini-2.0-flash', messages: [{ role: 'user', content: 'a' }] });
    fake.revokeTokens();
    const res = await post({ model: 'gemini-2.0-flash', messages: [{ role: 'user', content: 'b' }] });
    expect(res.status).toBe(401); // the revoked token: the API's 401 UNAUTHENTICATED
    expect((await post({ model: 'gemini-2.0-flash', messages: [{ role: 'user', content: 'c' }] })).status).toBe(200);
    expect(fake.tokensIssued - before).toBe(2);
  });

  it('answers 401 when the token endpoint rejects the JWT signature, without leaking the key', async () => {
    const res = await post({ model: 'gemini-2.0-flash', messages: [{ role: 'user', content: 'x' }] }, 'badkey');
    expect(res.status).toBe(401);
    const j = await res.json();
    expect(j.error.message).toContain('Invalid JWT Signature');
    expect(JSON.stringify(j)).not.toContain('PRIVATE KEY');
  });

  it('names the missing config field', async () => {
    const res = await post({ model: 'gemini-2.0-flash', messages: [{ role: 'user', content: 'x' }] }, 'noproject');
    expect(res.status).toBe(500);
    expect((await res.json()).error.message).toMatch(/providers\.noproject\.(project|credentials)/);
  });

  it('embeds through :predict with token counts', async () => {
    const r = await client.embeddings.create({ model: 'text-embedding-005', input: ['alpha', 'beta'], dimensions: 16 });
    expect(r.data.map((d) => d.embedding.length)).toEqual([16, 16]);
    expect(r.usage.prompt_tokens).toBe(countTokens('alpha') + countTokens('beta'));
  });
});
