// bench/state-store: what one request's policy state costs, memory store vs Redis on
// 127.0.0.1, at concurrency 1, alternated in one run. For each of rateLimit, reserve, settle
// and the three in a row (one request's admit + settle): CPU µs per operation in this process
// (process.cpuUsage), latency p50/p99 (hrtime), and for Redis the redis-server's own CPU.
// Starts its own redis-server (needs the binary on PATH).
//   node --import tsx bench/state-store.ts [--n 20000] [--rounds 3]
import { parseFlags } from '../src/args.js';
import { MemoryStateStore } from '../src/policy/state/memory.js';
import { RedisStateStore } from '../src/policy/state/redis.js';
import type { StateStore } from '../src/policy/state/types.js';
import { hasRedisServer, NO_REDIS_MESSAGE, startRedisServer } from '../test/helpers/redis.js';
import { median, pct, cpuUs, procCpuUs } from './stats.js';

const flags = parseFlags(process.argv.slice(2));
const N = Number(flags.n ?? 20_000);
const ROUNDS = Number(flags.rounds ?? 3);
const WARMUP = Math.min(2000, N);
const OPS = ['rateLimit', 'reserve', 'settle', 'all three'] as const;
type Op = (typeof OPS)[number];

interface Sample {
  cpu: number; // client µs per op
  serverCpu?: number; // redis-server µs per op
  lat: number[]; // µs
}

const RATE = { limit: 100_000_000, periodMs: 60_000, cost: 1 };
const windowEndsAt = Date.now() + 86_400_000;

/** One measured pass of `count` requests against `s`: each op type in its own loop, then the three in a row. */
async function pass(s: StateStore, tag: string, count: number, serverPid?: number): Promise<Record<Op, Sample>> {
  const out = {} as Record<Op, Sample>;
  const key = `bench:${tag}`;
  const res = (i: number) => ({
    windowId: 'w',
    windowEndsAt,
    limit: 1e15,
    amount: 5,
    reservationId: `${tag}-${i}`,
    ttlMs: 120_000,
  });
  const steps: Record<Exclude<Op, 'all three'>, (i: number) => Promise<unknown>> = {
    rateLimit: () => s.rateLimit(key, RATE),
    reserve: (i) => s.reserve(key, res(i)),
    settle: (i) => s.settle(key, { windowId: 'w', windowEndsAt, reservationId: `${tag}-${i}`, actual: 4 }),
  };
  const measure = async (op: Op, f: (i: number) => Promise<unknown>) => {
    const lat = new Array<number>(count);
    const srv0 = serverPid ? procCpuUs(serverPid) : 0;
    const c0 = cpuUs();
    for (let i = 0; i < count; i++) {
      const t0 = process.hrtime.bigint();
      await f(i);
      lat[i] = Number(process.hrtime.bigint() - t0) / 1000;
    }
    const cpu = (cpuUs() - c0) / count;
    out[op] = { cpu, lat, serverCpu: serverPid ? (procCpuUs(serverPid) - srv0) / count : undefined };
  };
  await measure('rateLimit', steps.rateLimit);
  await measure('reserve', steps.reserve); // leaves `count` live reservations...
  await measure('settle', steps.settle); // ...that this settles
  await measure('all three', async (i) => {
    await steps.rateLimit(i);
    await steps.reserve(i + count);
    await steps.settle(i + count);
  });
  return out;
}

async function main() {
  if (!hasRedisServer) {
    console.error(NO_REDIS_MESSAGE);
    process.exit(1);
  }
  const server = await startRedisServer();
  const mem = new MemoryStateStore();
  const red = new RedisStateStore({ url: server.url, keyPrefix: 'bench:' });
  if (!(await red.waitReady(5000))) throw new Error('redis did not answer');
  const results: Record<'memory' | 'redis', Record<Op, Sample>[]> = { memory: [], redis: [] };
  try {
    console.log(
      `bench/state-store: ${ROUNDS} rounds × ${N} requests per store, concurrency 1, alternating memory / redis (redis-server on 127.0.0.1:${server.port})`,
    );
    await pass(mem, 'warm-m', WARMUP);
    await pass(red, 'warm-r', WARMUP);
    for (let r = 0; r < ROUNDS; r++) {
      results.memory.push(await pass(mem, `m${r}`, N));
      results.redis.push(await pass(red, `r${r}`, N, server.pid()));
      console.log(`  round ${r + 1}/${ROUNDS} done`);
    }
  } finally {
    await red.close();
    await mem.close();
    await server.stop();
  }

  const med = (kind: 'memory' | 'redis', op: Op, f: (s: Sample) => number) =>
    median(results[kind].map((x) => f(x[op])));
  const p50 = (s: Sample) => pct(s.lat, 50);
  const p99 = (s: Sample) => pct(s.lat, 99);
  const f1 = (x: number) => x.toFixed(1).padStart(8);
  console.log('\nmedian of rounds, µs per operation');
  console.log(
    '                     ---------- CPU (this process) ----------   redis-server   ------------- latency p50 / p99 -------------',
  );
  console.log(
    'operation              memory     redis   ratio                     CPU           memory              redis     p50 ratio',
  );
  for (const op of OPS) {
    const cm = med('memory', op, (s) => s.cpu);
    const cr = med('redis', op, (s) => s.cpu);
    const sv = med('redis', op, (s) => s.serverCpu ?? NaN);
    const lm = `${med('memory', op, p50).toFixed(1)} / ${med('memory', op, p99).toFixed(1)}`;
    const lr = `${med('redis', op, p50).toFixed(1)} / ${med('redis', op, p99).toFixed(1)}`;
    console.log(
      `${op.padEnd(18)} ${f1(cm)}  ${f1(cr)}  ${(cr / cm).toFixed(1).padStart(5)}x          ${f1(sv)}     ${lm.padStart(14)}  ${lr.padStart(17)}  ${(med('redis', op, p50) / med('memory', op, p50)).toFixed(0).padStart(7)}x`,
    );
  }
  console.log(
    '\n"all three" = rateLimit + reserve + settle in a row, one request\'s admit and settle (3 round trips with Redis).',
  );
  console.log('redis-server CPU is sampled from /proc at 100 Hz ticks: ±10 ms over the whole loop.');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
