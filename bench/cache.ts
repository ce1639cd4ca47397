// bench/cache: a response-cache HIT answered by the sidecar vs the same request proxied to the
// fake upstream (cache off) vs the fake upstream called directly, side by side, rounds
// alternated, concurrency 1. The fake runs in its own process (bench/fake-upstream.ts); the
// sidecar (telemetry off, memory store) and the client run in this one, so this process's CPU
// per request is client + sidecar, and "sidecar CPU" subtracts the direct run's (client only).
// Also: a streamed HIT, bytes per entry of the memory LRU for the answer used, and the semantic
// lookup (bench/cache-vectors.ts): exact search vs the index at 1k/10k/100k vectors of 1,536 dims,
// recall@1, and where exact search stops being faster. The 100k row builds its graph one add at a
// time as the store path does (minutes on 2 cores).
//   node --expose-gc --import tsx bench/cache.ts [--n 2000] [--rounds 5] [--semantic-only] [--semantic-sizes 1000,10000,100000]
import { spawn } from 'node:child_process';
import { Pool } from 'undici';
import { parseFlags } from '../src/args.js';
import { cacheKey } from '../src/policy/cache/key.js';
import { ByteLru } from '../src/policy/cache/storage.js';
import { startSidecar } from '../test/helpers/sidecar.js';
import { benchCrossover, benchVectors, printVectorRow } from './cache-vectors.js';
import { median, pct, cpuUs, loadavg } from './stats.js';

const flags = parseFlags(process.argv.slice(2));
const N = Number(flags.n ?? 2000);
const ROUNDS = Number(flags.rounds ?? 5);
const SEMANTIC_ONLY = flags['semantic-only'] !== undefined;
const SEMANTIC_SIZES = String(flags['semantic-sizes'] ?? '1000,10000,100000')
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
const BODY = {
  model: 'gpt-4o',
  messages: [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'What is the capital of France? Answer in one sentence.' },
  ],
  max_tokens: 40,
};

async function httpBench(): Promise<void> {
  const fakeProc = spawn(process.execPath, ['--import', 'tsx', 'bench/fake-upstream.ts'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const fakePort = await new Promise<number>((res) =>
    fakeProc.stdout!.once('data', (d: Buffer) => res(Number(String(d).trim()))),
  );
  const sc = await startSidecar(`
  providers:
    up: {type: openai, api_key: sk-bench, base_url: "http://127.0.0.1:${fakePort}/v1"}
  configs:
    cached: {provider: "@up", cache: {mode: simple}}
    plain: {provider: "@up"}
  default_config: cached
  telemetry: {enabled: false}
  server: {require_virtual_key: false}
  `);

  const pools = {
    direct: new Pool(`http://127.0.0.1:${fakePort}`, { connections: 1 }),
    sidecar: new Pool(sc.url, { connections: 1 }),
  };
  type Run = { name: string; pool: Pool; path: string; headers: Record<string, string>; body: string; expect?: string };
  const runs: Run[] = [
    {
      name: 'upstream direct',
      pool: pools.direct,
      path: '/v1/chat/completions',
      headers: { authorization: 'Bearer sk-bench' },
      body: JSON.stringify(BODY),
    },
    {
      name: 'sidecar, cache off (proxied)',
      pool: pools.sidecar,
      path: '/v1/chat/completions',
      headers: { 'x-switchyard-config': 'plain' },
      body: JSON.stringify(BODY),
      expect: 'DISABLED',
    },
    {
      name: 'sidecar, cache HIT',
      pool: pools.sidecar,
      path: '/v1/chat/completions',
      headers: {},
      body: JSON.stringify(BODY),
      expect: 'HIT',
    },
    {
      name: 'sidecar, cache HIT streamed',
      pool: pools.sidecar,
      path: '/v1/chat/completions',
      headers: {},
      body: JSON.stringify({ ...BODY, stream: true }),
      expect: 'HIT',
    },
  ];

  async function one(r: Run): Promise<number> {
    const t = process.hrtime.bigint();
    const res = await r.pool.request({
      method: 'POST',
      path: r.path,
      headers: { 'content-type': 'application/json', ...r.headers },
      body: r.body,
    });
    await res.body.text();
    if (res.statusCode !== 200) throw new Error(`${r.name}: ${res.statusCode}`);
    if (r.expect && res.headers['x-switchyard-cache-status'] !== r.expect)
      throw new Error(`${r.name}: cache status ${String(res.headers['x-switchyard-cache-status'])}`);
    return Number(process.hrtime.bigint() - t) / 1e6;
  }

  // Fill the cache (one MISS), then warm every path.
  await one({ ...runs[2], expect: 'MISS' });
  for (const r of runs) for (let i = 0; i < 300; i++) await one(r);

  const results = new Map<string, { p50: number[]; p99: number[]; cpu: number[] }>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const r of round % 2 ? [...runs].reverse() : runs) {
      const lat: number[] = [];
      const c0 = cpuUs();
      for (let i = 0; i < N; i++) lat.push(await one(r));
      const cpu = (cpuUs() - c0) / N;
      const e = results.get(r.name) ?? { p50: [], p99: [], cpu: [] };
      e.p50.push(pct(lat, 50));
      e.p99.push(pct(lat, 99));
      e.cpu.push(cpu);
      results.set(r.name, e);
    }
  }
  const directCpu = median(results.get('upstream direct')!.cpu);
  console.log(`bench/cache: N=${N} x ${ROUNDS} rounds, c=1, loadavg ${loadavg()}, node ${process.version}`);
  console.log(
    'run'.padEnd(32),
    'p50 ms'.padStart(8),
    'p99 ms'.padStart(8),
    'CPU us/req (this process)'.padStart(26),
    'sidecar CPU us/req'.padStart(20),
  );
  for (const [name, e] of results) {
    const cpu = median(e.cpu);
    console.log(
      name.padEnd(32),
      median(e.p50).toFixed(3).padStart(8),
      median(e.p99).toFixed(3).padStart(8),
      cpu.toFixed(0).padStart(26),
      (name === 'upstream direct' ? '-' : (cpu - directCpu).toFixed(0)).padStart(20),
    );
  }

  // Bytes per entry in the memory LRU for this answer (key + stored JSON + the map entry's overhead).
  const res = await pools.sidecar.request({
    method: 'POST',
    path: '/v1/chat/completions',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(BODY),
  });
  const answer = await res.body.text();
  const lru = new ByteLru(1 << 30);
  const key = cacheKey({
    op: 'chat',
    configId: 'cached',
    virtualKey: '',
    configNamespace: '',
    requestNamespace: '',
    body: BODY,
  });
  const entry = Buffer.from(
    JSON.stringify({ v: 1, op: 'chat', body: JSON.parse(answer), costUsd: 0.0001, ms: 1.5, at: Date.now() }),
  );
  const heap0 = (globalThis.gc?.(), process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers);
  for (let i = 0; i < 10_000; i++) await lru.set(`${key}${i}`, Buffer.from(entry), 60_000);
  const heap1 = (globalThis.gc?.(), process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers);
  console.log(
    `memory per entry: answer ${answer.length} B, stored entry ${entry.length} B, LRU accounts ${Math.round(lru.bytes / lru.size)} B, measured heap+buffers ${Math.round((heap1 - heap0) / 10_000)} B${globalThis.gc ? '' : ' (run with --expose-gc for a steadier figure)'}`,
  );

  await pools.direct.close();
  await pools.sidecar.close();
  await sc.close();
  fakeProc.kill('SIGTERM');
}

if (!SEMANTIC_ONLY) await httpBench();
console.log(`bench/cache semantic lookup: loadavg ${loadavg()}, node ${process.version}`);
benchCrossover([16, 32, 64, 128, 256, 1024]);
for (const n of SEMANTIC_SIZES) printVectorRow(await benchVectors(n));
