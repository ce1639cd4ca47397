// A config reload that changes what decides answers (output guardrails, targets, parameters) must
// not serve answers cached under the old policy: the key carries a digest of the routing config
// and of the guardrail definitions it names (policyDigest). A change that decides nothing about
// answers (the cache block's max_age) keeps the entries.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load.js';
import type { TargetSpec } from '../../src/config/schema.js';
import { Sidecar } from '../../src/gateway/sidecar.js';
import { policyDigest } from '../../src/policy/cache/key.js';
import { startFakeOpenAI, type FakeServer } from '../fakes/openai.js';
import { chat, post } from '../helpers/sidecar.js';

let fake: FakeServer;
let dir: string;
let file: string;
let side: Sidecar;
let url: string;

const config = (main: string) => `
providers:
  a: {type: openai, api_key: sk-real, base_url: "${fake.url}/v1"}
configs:
  main: ${main}
default_config: main
telemetry: {enabled: false}
server: {require_virtual_key: false}
`;
const GUARDED = (deny: string, maxAge = 600) =>
  `{provider: "@a", cache: {mode: simple, max_age: ${maxAge}}, guardrails: {output: [{type: contains, deny: ["${deny}"], action: block}]}}`;

async function reload(main: string): Promise<void> {
  writeFileSync(file, config(main));
  expect(await side.config.reload('test')).toBe(true);
}
const status = (r: { headers: Headers }) => r.headers.get('x-switchyard-cache-status');

beforeAll(async () => {
  fake = await startFakeOpenAI({ apiKey: 'sk-real' });
  dir = mkdtempSync(join(tmpdir(), 'sy-cache-reload-'));
  file = join(dir, 'switchyard.yaml');
  writeFileSync(file, config(GUARDED('forbidden')));
  side = new Sidecar({ config: await loadConfigFile(file), configPath: file, port: 0 });
  url = `http://127.0.0.1:${await side.listen()}/v1/chat/completions`;
});
afterAll(async () => {
  await side?.close();
  await fake?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  await reload(GUARDED('forbidden'));
  fake.reset();
});

describe('cache across config reloads', () => {
  it('a stricter output guardrail after a reload never gets the answer cached under the old one', async () => {
    const body = chat(`reload ${Math.random()}`);
    const a = await post(url, body);
    expect([a.status, status(a)]).toEqual([200, 'MISS']);
    expect(status(await post(url, body))).toBe('HIT');
    // The new policy denies what the cached answer says ("Hello from fake-openai: ...").
    await reload(GUARDED('fake-openai'));
    const b = await post(url, body);
    expect(b.status).toBe(446);
    expect(status(b)).not.toBe('HIT');
    expect(fake.requests).toHaveLength(2);
    // Back to the old policy: its entries answer again (they were never wrong under it).
    await reload(GUARDED('forbidden'));
    expect(status(await post(url, body))).toBe('HIT');
    expect(fake.requests).toHaveLength(2);
  });

  it('another target model after a reload misses; a new max_age alone keeps the entries', async () => {
    const body = chat(`reload ${Math.random()}`);
    expect(status(await post(url, body))).toBe('MISS');
    await reload(GUARDED('forbidden', 1200));
    expect(status(await post(url, body))).toBe('HIT');
    await reload(
      `{provider: "@a", override_params: {model: gpt-4o-mini}, cache: {mode: simple}, guardrails: {output: [{type: contains, deny: ["forbidden"], action: block}]}}`,
    );
    expect(status(await post(url, body))).toBe('MISS');
    expect(fake.requests).toHaveLength(2);
  });
});

describe('policyDigest', () => {
  const cfg = (extra: Record<string, unknown>) => ({ provider: '@a', ...extra }) as unknown as TargetSpec;
  it('covers guardrail definitions named by id only when the config names some', () => {
    const defs = (deny: string) => ({ guardrails: { g1: { checks: [{ id: 'default.contains', deny }] } } });
    const byId = cfg({ output_guardrails: ['g1'] });
    expect(policyDigest(byId, defs('x'))).not.toBe(policyDigest(cfg({ output_guardrails: ['g1'] }), defs('y')));
    expect(policyDigest(cfg({}), defs('x'))).toBe(policyDigest(cfg({}), defs('y')));
    expect(policyDigest(cfg({ cache: { mode: 'simple' } }), {})).toBe(policyDigest(cfg({}), {}));
    expect(policyDigest(cfg({ override_params: { temperature: 0 } }), {})).not.toBe(policyDigest(cfg({}), {}));
  });
});
