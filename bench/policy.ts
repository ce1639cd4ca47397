// bench/policy: what the policy layer costs per request — identify (virtual key), admit (rate
// limit + budget reservation) and settle (token correction + budget settle) — side by side in
// one run: (a) policy off (no virtual_keys), (b) on with the memory store, (c) on with Redis on
// 127.0.0.1 (its own redis-server, started here; needs the binary on PATH).
//
// (i) Stage level, in this process: policy.run(ctx)'s stages composed around a terminal that
//     reports usage through the observer and returns a canned ExecResult at once. N requests at
//     concurrency 1 per config and round, configs alternated: CPU µs per request
//     (process.cpuUsage, the harness included; "added" subtracts (a)), latency p50/p99 (hrtime),
//     store calls per request by stage and phase, and for Redis the commands the server counted
//     (INFO commandstats delta) and its CPU. Two key profiles: rpm + budget, and rpm + tpm + budget.
// (ii) End to end: a sidecar per config (telemetry off; src/ through tsx, not compiled: a build
//     would take a minute of the run, and the ratios between configs are the point) in front of
//     the fake OpenAI upstream, plus a minimal node:http proxy as the floor of
//     any proxy hop, at concurrency 1 and 10, rotated each round: req/s, p50/p99, sidecar CPU per
//     request (/proc), medians of rounds and ratios vs (a).
//   node --import tsx bench/policy.ts [--n 4000] [--stage-rounds 3] [--rounds 5] [--seconds 1.2] [--warmup-seconds 2]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Pool } from 'undici';
import { parseFlags } from '../src/args.js';
import { parseConfigText } from '../src/config/load.js';
import type { FileConfig } from '../src/config/schema.js';
import { selectRouting } from '../src/gateway/select-routing.js';
import { buildPolicy } from '../src/policy/build.js';
import { compose, type Next, type PipelineContext } from '../src/policy/pipeline.js';
import { MemoryStateStore } from '../src/policy/state/memory.js';
import { RedisStateStore } from '../src/policy/state/redis.js';
import type { LocalStateOps, StateStore } from '../src/policy/state/types.js';
import { UsageTally } from '../src/policy/usage.js';
import type { ExecResult } from '../src/routing/executor.js';
import { noopObserver } from '../src/routing/observer.js';
import { hasRedisServer, NO_REDIS_MESSAGE, startRedisServer } from '../test/helpers/redis.js';
import { median, pct, cpuUs, procCpuUs, loadavg } from './stats.js';

const flags = parseFlags(process.argv.slice(2));
const N = Number(flags.n ?? 4000);
const STAGE_ROUNDS = Number(flags['stage-rounds'] ?? 3);
const ROUNDS = Number(flags.rounds ?? 5);
const SECONDS = Number(flags.seconds ?? 1.2);
const WARMUP_SECONDS = Number(flags['warmup-seconds'] ?? 2);
const CONCURRENCIES = [1, 10];
const SECRET = 'sk-sy-bench-0123456789abcdefghijklmnopqrstuvwxyz';
const BODY = { model: 'gpt-4o', messages: [{ role: 'user', content: 'benchmark me' }], max_tokens: 20 };

// Limits far above what the bench sends: every request is admitted, every store call runs.
// (GCRA needs periodMs * 1000 * limit <= 2^53, so at most ~1.5e8 per minute.)
const KEY_PROFILES = {
  'rpm+budget': `{key: ${SECRET}, rate_limit: {requests_per_minute: 100000000}, budget: {max_cost_usd: 1000000, period: 1d}}`,
  'rpm+tpm+budget': `{key: ${SECRET}, rate_limit: {requests_per_minute: 100000000, tokens_per_minute: 100000000}, budget: {max_cost_usd: 1000000, period: 1d}}`,
} as const;
type Profile = keyof typeof KEY_PROFILES;

function configYaml(upstream: string, opts: { key?: Profile; redisUrl?: string }): string {
  return [
    `providers: {up: {type: openai, api_key: sk-bench, base_url: "${upstream}/v1"}}`,
    'configs: {d: {provider: "@up", override_params: {model: gpt-4o}}}',
    'default_config: d',
    'telemetry: {enabled: false}',
    ...(opts.key ? [`virtual_keys: {bench: ${KEY_PROFILES[opts.key]}}`] : []),
    ...(opts.redisUrl ? [`state: {store: redis, redis_url: "${opts.redisUrl}"}`] : []),
    '',
  ].join('\n');
}

// ---------------------------------------------------------------- store call counting
const METHODS = ['rateLimit', 'rateAdjust', 'reserve', 'settle'] as const;
type Method = (typeof METHODS)[number];
/** Delegates to a store and counts the calls the stages make (each one Redis round trip). */
class CountingStore implements StateStore {
  readonly calls: Record<Method, number> = { rateLimit: 0, rateAdjust: 0, reserve: 0, settle: 0 };
  /** The inner store's synchronous operations, counted the same way (the memory store has them). */
  readonly local?: LocalStateOps;
  constructor(private readonly inner: StateStore) {
    const l = inner.local;
    if (l)
      this.local = {
        rateLimit: (k, r) => (this.calls.rateLimit++, l.rateLimit(k, r)),
        rateAdjust: (k, r) => {
          if (r.delta !== 0) this.calls.rateAdjust++;
          l.rateAdjust(k, r);
        },
        reserve: (k, r) => (this.calls.reserve++, l.reserve(k, r)),
        settle: (k, r) => (this.calls.settle++, l.settle(k, r)),
      };
  }
  get kind() {
    return this.inner.kind;
  }
  rateLimit(...a: Parameters<StateStore['rateLimit']>) {
    this.calls.rateLimit++;
    return this.inner.rateLimit(...a);
  }
  rateAdjust(...a: Parameters<StateStore['rateAdjust']>) {
    // The Redis store makes no call for a zero delta; the stage skips it too.
    if (a[1].delta !== 0) this.calls.rateAdjust++;
    return this.inner.rateAdjust(...a);
  }
  reserve(...a: Parameters<StateStore['reserve']>) {
    this.calls.reserve++;
    return this.inner.reserve(...a);
  }
  settle(...a: Parameters<StateStore['settle']>) {
    this.calls.settle++;
    return this.inner.settle(...a);
  }
  budgetStatus(...a: Parameters<StateStore['budgetStatus']>) {
    return this.inner.budgetStatus(...a);
  }
  get(...a: Parameters<StateStore['get']>) {
    return this.inner.get(...a);
  }
  set(...a: Parameters<StateStore['set']>) {
    return this.inner.set(...a);
  }
  ping() {
    return this.inner.ping();
  }
  close() {
    return this.inner.close();
  }
  reset() {
    for (const m of METHODS) this.calls[m] = 0;
  }
}

/**
 * Commands clients sent, as redis-server counts them: each a round trip. commandstats also
 * counts the commands a script runs inside (redis.call), so only the top-level kinds the store
 * sends are summed: script calls (EVALSHA, EVAL on NOSCRIPT, SCRIPT LOAD).
 */
async function redisCommandCount(admin: Redis): Promise<number> {
  const info = await admin.info('commandstats');
  let n = 0;
  for (const m of info.matchAll(
    /^cmdstat_(evalsha|eval|evalsha_ro|eval_ro|fcall|fcall_ro|script\|load|script):calls=(\d+)/gm,
  ))
    n += Number(m[2]);
  return n;
}

// ---------------------------------------------------------------- (i) stage level
const CANNED: ExecResult = {
  status: 200,
  body: { id: 'x', object: 'chat.completion', choices: [] },
  streamed: false,
  attempts: [],
  retries: 0,
  rescued: false,
  headers: {},
};
const ATTEMPT = {
  op: 'chat' as const,
  attempt: 0,
  target: '0',
  providerSlug: 'up',
  providerName: 'openai',
  model: 'gpt-4o',
  stream: false,
  serverAddress: '127.0.0.1',
  serverPort: 9,
  resendCount: 0,
  body: BODY,
};
/** The executor's stand-in: one attempt that used 12 + 20 tokens, answered at once. */
const terminal: Next = async (ctx) => {
  ctx.observer
    .attemptStart(ATTEMPT)
    .end({ outcome: 'ok', status: 200, usage: { input_tokens: 12, output_tokens: 20 }, responseModel: 'gpt-4o' });
  return CANNED;
};

interface StageCase {
  name: string;
  file: FileConfig;
  run: Next;
  price: ReturnType<typeof buildPolicy>['price'];
  store: CountingStore;
  redis?: boolean;
}

function stageCase(name: string, file: FileConfig, store: StateStore, redis = false): StageCase {
  const counting = new CountingStore(store);
  const policy = buildPolicy(file, counting);
  return { name, file, run: compose(policy.stages, terminal), price: policy.price, store: counting, redis };
}

const HEADERS = { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json' };
/** What completionHandler builds per request, minus the HTTP parts. */
function context(file: FileConfig, price: ReturnType<typeof buildPolicy>['price']): PipelineContext {
  const body = { ...BODY };
  const sel = selectRouting(file, undefined, body.model);
  const deadlineAt = Date.now() + file.server.deadline_ms;
  const usage = new UsageTally(price);
  return {
    op: 'chat',
    headers: HEADERS,
    file,
    body,
    routing: sel.routing,
    configId: sel.configId,
    metadata: {},
    deadlineAt,
    exec: { request: undefined as never, env: undefined as never },
    observer: usage.wrap(noopObserver),
    usage,
    price,
    attributes: {},
    responseHeaders: {},
  };
}

interface StageSample {
  cpu: number;
  lat: number[];
  calls: Record<Method, number>;
  serverCommands?: number;
  serverCpu?: number;
}

async function stagePass(
  c: StageCase,
  count: number,
  admin: Redis,
  redisPid: number | undefined,
): Promise<StageSample> {
  c.store.reset();
  const cmd0 = c.redis ? await redisCommandCount(admin) : 0;
  const srv0 = c.redis && redisPid ? procCpuUs(redisPid) : 0;
  const lat = new Array<number>(count);
  const c0 = cpuUs();
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint();
    const r = await c.run(context(c.file, c.price));
    lat[i] = Number(process.hrtime.bigint() - t0) / 1000;
    if (r.status !== 200) throw new Error(`${c.name}: status ${r.status}`);
  }
  const cpu = (cpuUs() - c0) / count;
  const calls = { ...c.store.calls };
  for (const m of METHODS) calls[m] /= count;
  const sample: StageSample = { cpu, lat, calls };
  if (c.redis) {
    sample.serverCpu = redisPid ? (procCpuUs(redisPid) - srv0) / count : undefined;
    sample.serverCommands = ((await redisCommandCount(admin)) - cmd0) / count;
  }
  return sample;
}

// ---------------------------------------------------------------- (ii) end to end
function spawnPrintingPort(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let found = false;
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${args.join(' ')} did not start in 60 s: ${out}`)), 60_000);
    const onData = (d: Buffer) => {
      if (found) return; // keep draining the pipes, keep nothing
      out += d.toString();
      const m = /^(\d+)$/m.exec(out) ?? /"url":"http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        found = true;
        clearTimeout(t);
        resolve({ child, port: Number(m[1]) });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(t);
      if (!found) reject(new Error(`${args.join(' ')} exited ${code}: ${out}`));
    });
  });
}

/** The floor of any proxy hop: node:http in, a keep-alive node:http agent out, bodies piped. */
const FLOOR_PROXY = `
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true, maxSockets: 64, noDelay: true });
const up = Number(process.env.UPSTREAM_PORT);
const s = http.createServer((req, res) => {
  const headers = { ...req.headers, authorization: 'Bearer sk-bench', host: '127.0.0.1:' + up };
  const p = http.request({ host: '127.0.0.1', port: up, method: req.method, path: req.url, headers, agent }, (r) => {
    res.writeHead(r.statusCode, r.headers);
    r.pipe(res);
  });
  p.on('error', () => { res.writeHead(502).end(); });
  req.pipe(p);
});
s.keepAliveTimeout = 65000;
s.listen(0, '127.0.0.1', () => console.log(s.address().port));
`;

const E2E_BODY = JSON.stringify(BODY);

async function load(
  origin: string,
  connections: number,
  seconds: number,
): Promise<{ rps: number; lat: number[]; n: number }> {
  const pool = new Pool(origin, { connections, pipelining: 1 });
  const lat: number[] = [];
  let bad = 0;
  const until = Date.now() + seconds * 1000;
  const t0 = process.hrtime.bigint();
  const worker = async () => {
    while (Date.now() < until) {
      const s = process.hrtime.bigint();
      const r = await pool.request({ path: '/v1/chat/completions', method: 'POST', body: E2E_BODY, headers: HEADERS });
      await r.body.text();
      if (r.statusCode !== 200) bad++;
      lat.push(Number(process.hrtime.bigint() - s) / 1e6);
    }
  };
  try {
    await Promise.all(Array.from({ length: connections }, worker));
  } finally {
    await pool.close();
  }
  const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
  if (bad > 0) throw new Error(`${origin}: ${bad} answers were not 200`);
  return { rps: lat.length / elapsed, lat, n: lat.length };
}

// ---------------------------------------------------------------- main
async function main() {
  if (!hasRedisServer) {
    console.error(NO_REDIS_MESSAGE);
    process.exit(1);
  }
  const started = Date.now();
  console.log(
    `bench/policy: load average at start ${loadavg()} (${readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm)?.length ?? '?'} cores)`,
  );
  const server = await startRedisServer();
  const admin = new Redis(server.url, { lazyConnect: false });
  const stores: StateStore[] = [];
  const children: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'sy-bench-policy-'));
  try {
    // ---- (i)
    const parse = (yaml: string) => parseConfigText(yaml, 'bench.yaml', {}).file;
    const openRedis = async () => {
      const s = new RedisStateStore({ url: server.url, keyPrefix: `bench${stores.length}:` });
      if (!(await s.waitReady(5000))) throw new Error('redis did not answer');
      stores.push(s);
      return s;
    };
    const mem = () => {
      const s = new MemoryStateStore();
      stores.push(s);
      return s;
    };
    const noUp = 'http://127.0.0.1:9';
    const cases: StageCase[] = [stageCase('(a) off', parse(configYaml(noUp, {})), mem())];
    for (const p of Object.keys(KEY_PROFILES) as Profile[]) {
      cases.push(stageCase(`(b) memory ${p}`, parse(configYaml(noUp, { key: p })), mem()));
      cases.push(stageCase(`(c) redis ${p}`, parse(configYaml(noUp, { key: p })), await openRedis(), true));
    }
    console.log(
      `\n(i) stage level: ${STAGE_ROUNDS} rounds × ${N} requests per config, concurrency 1, configs alternated`,
    );
    for (const c of cases) await stagePass(c, Math.min(1000, N), admin, server.pid()); // warm-up (JIT, Lua scripts loaded)
    const stage: Record<string, StageSample[]> = Object.fromEntries(cases.map((c) => [c.name, []]));
    for (let r = 0; r < STAGE_ROUNDS; r++) {
      const order = cases.map((_, i) => cases[(i + r) % cases.length]);
      for (const c of order) stage[c.name].push(await stagePass(c, N, admin, server.pid()));
      console.log(`  round ${r + 1}/${STAGE_ROUNDS} done (load ${loadavg()})`);
    }
    const sm = (name: string, f: (s: StageSample) => number) => median(stage[name].map(f));
    const off = '(a) off';
    const offCpu = sm(off, (s) => s.cpu);
    const offP50 = sm(off, (s) => pct(s.lat, 50));
    const offP99 = sm(off, (s) => pct(s.lat, 99));
    console.log(
      '\nmedian of rounds, per request      CPU µs   added CPU µs   p50 µs   p99 µs   added p50 / p99 µs   store calls: rate (admit+settle)  budget (admit+settle)   redis cmds   redis-server CPU µs',
    );
    for (const c of cases) {
      const cpu = sm(c.name, (s) => s.cpu);
      const p50 = sm(c.name, (s) => pct(s.lat, 50));
      const p99 = sm(c.name, (s) => pct(s.lat, 99));
      const calls = stage[c.name][0].calls;
      const rate = `${calls.rateLimit.toFixed(0)}+${calls.rateAdjust.toFixed(0)}`;
      const budget = `${calls.reserve.toFixed(0)}+${calls.settle.toFixed(0)}`;
      const cmds = c.redis ? sm(c.name, (s) => s.serverCommands ?? NaN).toFixed(2) : '—';
      const srv = c.redis ? sm(c.name, (s) => s.serverCpu ?? NaN).toFixed(1) : '—';
      console.log(
        `${c.name.padEnd(30)} ${cpu.toFixed(1).padStart(9)} ${(cpu - offCpu).toFixed(1).padStart(14)} ${p50.toFixed(1).padStart(8)} ${p99.toFixed(1).padStart(8)} ${`+${(p50 - offP50).toFixed(1)} / +${(p99 - offP99).toFixed(1)}`.padStart(20)}   ${rate.padStart(30)}  ${budget.padStart(21)}   ${cmds.padStart(10)}   ${srv.padStart(19)}`,
      );
    }
    console.log(
      'CPU is this process (harness + stages + the ioredis client); "added" subtracts (a), whose stages pass at once.',
    );
    console.log(
      'Store calls: rate = rateLimit calls before the answer (rpm, tpm) + rateAdjust after (tpm corrected by usage); budget = reserve + settle.',
    );
    console.log(
      'redis cmds = script calls (EVALSHA/EVAL) redis-server counted per request (INFO commandstats delta), each one round trip, one after another.',
    );

    // ---- (ii)
    console.log(
      `\n(ii) end to end: ${ROUNDS} rounds × ${SECONDS} s per target and concurrency (${CONCURRENCIES.join(', ')}), targets rotated each round`,
    );
    const upstream = await spawnPrintingPort(['--import', 'tsx', 'bench/fake-upstream.ts']);
    children.push(upstream.child);
    const upUrl = `http://127.0.0.1:${upstream.port}`;
    const floor = await spawnPrintingPort(['-e', FLOOR_PROXY], { UPSTREAM_PORT: String(upstream.port) });
    children.push(floor.child);
    const targets: Array<{ name: string; origin: string; pid?: number; redis?: boolean }> = [
      { name: 'node proxy floor', origin: `http://127.0.0.1:${floor.port}`, pid: floor.child.pid },
    ];
    const e2eProfile: Profile = 'rpm+tpm+budget';
    for (const [name, opts] of [
      ['(a) sidecar, policy off', {}],
      ['(b) sidecar, memory', { key: e2eProfile }],
      ['(c) sidecar, redis', { key: e2eProfile, redisUrl: server.url }],
    ] as const) {
      const cfg = join(dir, `${name.replace(/\W+/g, '-')}.yaml`);
      writeFileSync(cfg, configYaml(upUrl, opts));
      const sc = await spawnPrintingPort(['--import', 'tsx', 'src/cli.ts', 'sidecar', '--config', cfg, '--port', '0'], {
        SWITCHYARD_LOG_LEVEL: 'info',
      });
      children.push(sc.child);
      targets.push({ name, origin: `http://127.0.0.1:${sc.port}`, pid: sc.child.pid, redis: 'redisUrl' in opts });
    }
    // Warm-up: the sidecars' JIT (tsx-loaded) settles only after a few thousand requests.
    for (const t of targets) await load(t.origin, 10, WARMUP_SECONDS);
    type E2E = { rps: number; p50: number; p99: number; cpu?: number; cmds?: number };
    const e2e: Record<string, Record<number, E2E[]>> = Object.fromEntries(
      targets.map((t) => [t.name, Object.fromEntries(CONCURRENCIES.map((c) => [c, [] as E2E[]]))]),
    );
    for (let r = 0; r < ROUNDS; r++) {
      for (const c of CONCURRENCIES) {
        const order = targets.map((_, i) => targets[(i + r) % targets.length]);
        for (const t of order) {
          const cpu0 = t.pid ? procCpuUs(t.pid) : 0;
          const cmd0 = t.redis ? await redisCommandCount(admin) : 0;
          const x = await load(t.origin, c, SECONDS);
          e2e[t.name][c].push({
            rps: x.rps,
            p50: pct(x.lat, 50),
            p99: pct(x.lat, 99),
            cpu: t.pid ? (procCpuUs(t.pid) - cpu0) / x.n : undefined,
            cmds: t.redis ? ((await redisCommandCount(admin)) - cmd0) / x.n : undefined,
          });
        }
      }
      console.log(`  round ${r + 1}/${ROUNDS} done (load ${loadavg()})`);
    }
    const em = (name: string, c: number, f: (s: E2E) => number) => median(e2e[name][c].map(f));
    const base = '(a) sidecar, policy off';
    for (const c of CONCURRENCIES) {
      console.log(
        `\nconcurrency ${c}, median of rounds   req/s   vs (a)   p50 ms   p99 ms   added p50 / p99 ms   proxy CPU µs/req   added   best round: CPU  added   redis cmds/req`,
      );
      for (const t of targets) {
        const rps = em(t.name, c, (s) => s.rps);
        const p50 = em(t.name, c, (s) => s.p50);
        const p99 = em(t.name, c, (s) => s.p99);
        const cpu = em(t.name, c, (s) => s.cpu ?? NaN);
        const addedLat =
          t.name === base
            ? '—'
            : `${(p50 - em(base, c, (s) => s.p50)).toFixed(3)} / ${(p99 - em(base, c, (s) => s.p99)).toFixed(3)}`;
        const addedCpu = t.name === base ? '—' : (cpu - em(base, c, (s) => s.cpu ?? NaN)).toFixed(0);
        const best = Math.min(...e2e[t.name][c].map((s) => s.cpu ?? NaN));
        const addedBest =
          t.name === base ? '—' : (best - Math.min(...e2e[base][c].map((s) => s.cpu ?? NaN))).toFixed(0);
        console.log(
          `${t.name.padEnd(34)} ${rps.toFixed(0).padStart(6)} ${`${((rps / em(base, c, (s) => s.rps)) * 100).toFixed(1)}%`.padStart(8)} ${p50.toFixed(3).padStart(8)} ${p99.toFixed(3).padStart(8)} ${addedLat.padStart(20)} ${cpu.toFixed(0).padStart(18)} ${addedCpu.padStart(7)} ${best.toFixed(0).padStart(16)} ${addedBest.padStart(6)} ${(t.redis ? em(t.name, c, (s) => s.cmds ?? NaN).toFixed(2) : '—').padStart(16)}`,
        );
      }
    }
    const rss = (pid?: number) => {
      const m = pid ? /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8')) : null;
      return m ? `${(Number(m[1]) / 1024).toFixed(0)} MB` : '?';
    };
    console.log(`\npeak RSS: ${targets.map((t) => `${t.name} ${rss(t.pid)}`).join(', ')}`);
    console.log(
      `key profile end to end: ${e2eProfile}; sidecars run src/ through tsx, telemetry off. Proxy CPU: the process's user+sys from /proc`,
    );
    console.log(
      "(100 Hz ticks) per request; on a shared 2-core machine it swells with others' load, so the best round is shown beside the median.",
    );
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
    admin.disconnect();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`load average at end ${loadavg()}; total ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
