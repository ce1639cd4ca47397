// A fleet of sidecars sharing one real redis-server: limits hold exactly across processes, and
// a Redis outage fails closed (503, then recovers) or open (served and counted) as configured.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAI, type FakeServer } from '../fakes/openai.js';
import { hasRedisServer, NO_REDIS_MESSAGE, startRedisServer, type RedisServer } from '../helpers/redis.js';
import { chat, post, startSidecar } from '../helpers/sidecar.js';

if (!hasRedisServer) console.warn(NO_REDIS_MESSAGE);

const VK = 'vk-fleet-0123456789abcdefgh';
let redis: RedisServer;
let fake: FakeServer;
const children: ChildProcess[] = [];
let dir: string;

const yaml = (redisUrl: string, onError = 'fail_closed') => `
providers:
  a: {type: openai, api_key: sk-real, base_url: "${fake.url}/v1"}
configs:
  main: {provider: "@a", override_params: {model: gpt-4o}}
default_config: main
telemetry: {enabled: false}
state: {store: redis, redis_url: "${redisUrl}", on_store_error: ${onError}}
virtual_keys:
  fleet: {key: ${VK}, rate_limit: {requests_per_minute: 10}}
  spend: {key: vk-spend-0123456789abcdefgh, budget: {max_cost_usd: 100, period: 1d}}
`;

function startChildSidecar(configFile: string): Promise<{ url: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', resolve('src/cli.ts'), 'sidecar', '--config', configFile, '--port', '0'],
    {
      env: { ...process.env, OTEL_SDK_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  let out = '';
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`sidecar did not start:\n${out}`)), 30_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /"msg":"sidecar listening","url":"(http:\/\/127\.0\.0\.1:\d+)\/v1"/.exec(out);
      if (m) {
        clearTimeout(timer);
        res({ url: m[1] });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => rej(new Error(`sidecar exited early (${code}):\n${out}`)));
  });
}

beforeAll(async () => {
  if (!hasRedisServer) return;
  redis = await startRedisServer();
  fake = await startFakeOpenAI({ apiKey: 'sk-real' });
  dir = mkdtempSync(join(tmpdir(), 'sy-fleet-'));
}, 60_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await fake?.close();
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!hasRedisServer)('a fleet on one redis-server', () => {
  it('admits exactly 10 of 30 concurrent requests across 3 sidecar processes for requests_per_minute: 10', async () => {
    const file = join(dir, 'fleet.yaml');
    writeFileSync(file, yaml(redis.url));
    const sidecars = await Promise.all([0, 1, 2].map(() => startChildSidecar(file)));
    const replies = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        post(`${sidecars[i % 3].url}/v1/chat/completions`, chat(`n${i}`), { authorization: `Bearer ${VK}` }),
      ),
    );
    const statuses = replies.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(20);
    // Each process admitted some: the limit is shared, not per process.
    const perSidecar = [0, 1, 2].map((k) => replies.filter((r, i) => i % 3 === k && r.status === 200).length);
    expect(perSidecar.reduce((x, y) => x + y, 0)).toBe(10);
  }, 90_000);

  it('with Redis down, fail_closed answers 503 and recovers when Redis returns; fail_open serves and counts', async () => {
    const closed = await startSidecar(yaml(redis.url, 'fail_closed'));
    const open = await startSidecar(yaml(redis.url, 'fail_open'), { telemetry: true });
    const spend = { authorization: 'Bearer vk-spend-0123456789abcdefgh' };
    try {
      expect((await post(`${closed.url}/v1/chat/completions`, chat(), spend)).status).toBe(200);
      await redis.kill();
      const started = Date.now();
      const down = await post(`${closed.url}/v1/chat/completions`, chat(), spend);
      expect(down.status).toBe(503);
      expect(down.json.error).toMatchObject({ status: 503, code: 'state_store_unavailable' });
      expect(Date.now() - started).toBeLessThan(3_000);
      const served = await post(`${open.url}/v1/chat/completions`, chat(), spend);
      expect(served.status).toBe(200);
      await open.sc.telemetry.flush();
      const span = open
        .spans!.getFinishedSpans()
        .find((s) => s.kind === 1 && s.attributes['switchyard.policy.fail_open'] === true);
      expect(span?.attributes['http.response.status_code']).toBe(200);
      const metrics = await fetch(`${open.url}/metrics`).then((r) => r.text());
      expect(metrics).toMatch(/switchyard_policy_fail_open(_total)?(\{[^}]*\})? 1\b/);

      await redis.restart();
      const deadline = Date.now() + 10_000;
      let status = 0;
      while (Date.now() < deadline) {
        status = (await post(`${closed.url}/v1/chat/completions`, chat(), spend)).status;
        if (status === 200) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(status).toBe(200);
    } finally {
      await closed.close();
      await open.close();
    }
  }, 60_000);
});
