// bench/gray-failure: a target that slows down without failing, three routings side by side in
// one run against the same simulated upstreams (scripted latency, 127.0.0.1):
//   fixed     loadbalance by weight, no ejection, no hedge (what a weighted balancer does today)
//   latency   balancer: latency (PeakEWMA × load, two choices) + slow-target ejection
//   hedged    latency + hedge {delay_ms: p95, max_attempts: 2, budget_percent: 5}
// Each routing has its own sidecar (its own target health); all three get the same open-loop
// arrival rate, non-stream chat requests (the complete answer wins a hedge).
// Phases: warm (all three fast), one slowed 6× (not failing), all three slowed 6×.
// Latencies are scaled down 10× from the seed's incident: 200 ms (p95 300) → 1.2 s (p95 1.8 s)
// stands for 2 s → 12 s, the 2.5 s timeout for its 15 s. Not further: at 20 → 120 ms the
// event-loop stalls of a loaded 2-core machine (100 ms and more) are as large as the slowdown
// and every target looks slow. Decay (10 s), cooldown (10 s) and the issue's 30 s / 10 s windows
// are real time; a run takes about a minute.
//   node --import tsx bench/gray-failure.ts [--runs 3] [--rate 40] [--slow-s 30] [--all-slow-s 20] [--delay 500|p95]
import { Pool } from 'undici';
import { SimulatedSpec } from '../src/config/schema.js';
import { SimulatedUpstream } from '../src/providers/simulated/server.js';
import { startSidecar, type TestSidecar } from '../test/helpers/sidecar.js';
import { loadavg, median, pct } from './stats.js';

function flag(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}
const RUNS = flag('runs', 1);
const RATE = flag('rate', 40); // requests per second per routing
const WARM_S = flag('warm-s', 10);
const SLOW_S = flag('slow-s', 30);
const ALL_SLOW_S = flag('all-slow-s', 20);
const BUDGET = 5;
// A fixed delay, 3× the healthy p50: with "p95" (or a delay near it) the healthy targets' own
// tails, long on a loaded machine, hedge 5 % of requests by construction, the whole 5 % budget,
// and the slow target's requests find it spent (--delay p95 shows it).
const HEDGE_DELAY = process.argv.includes('--delay') ? process.argv[process.argv.indexOf('--delay') + 1] : '600';

const FAST = SimulatedSpec.parse({ latency_ms: { p50: 200, p95: 300 } });
const SLOW = SimulatedSpec.parse({ latency_ms: { p50: 1200, p95: 1800 } });

type Phase = 'warm' | 'slow' | 'all_slow';
interface Sample {
  phase: Phase;
  /** Seconds since the phase started, at send time. */
  t: number;
  ms: number;
  provider: string;
  attempts: number;
  status: number;
}

const ROUTINGS = {
  fixed: { strategy: '{mode: loadbalance}', hedge: '', ejection: 'ejection: {enabled: false}' },
  latency: { strategy: '{mode: loadbalance, balancer: latency}', hedge: '', ejection: '' },
  hedged: {
    strategy: '{mode: loadbalance, balancer: latency}',
    hedge: `hedge: {delay_ms: ${HEDGE_DELAY}, max_attempts: 2, budget_percent: ${BUDGET}}`,
    ejection: '',
  },
} as const;
type Routing = keyof typeof ROUTINGS;

function configFor(r: Routing, urls: string[]): string {
  const c = ROUTINGS[r];
  return `
providers:
${urls.map((u, i) => `  up${i}: {type: openai, api_key: sk-bench, base_url: "${u}"}`).join('\n')}
configs:
  gray:
    strategy: ${c.strategy}
    ${c.hedge}
    request_timeout: 2500
    targets:
${urls.map((_u, i) => `      - {provider: "@up${i}", override_params: {model: m${i}}}`).join('\n')}
default_config: gray
telemetry: {enabled: false}
server: {require_virtual_key: false}
${c.ejection || 'ejection: {cooldown_ms: 10000}'}
`;
}

async function one(pool: Pool, i: number): Promise<Omit<Sample, 'phase' | 't'>> {
  const t0 = performance.now();
  const r = await pool.request({
    method: 'POST',
    path: '/v1/chat/completions',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: `question ${i}` }] }),
  });
  await r.body.text();
  return {
    ms: performance.now() - t0,
    provider: String(r.headers['x-switchyard-provider'] ?? ''),
    attempts: Number(r.headers['x-switchyard-attempts'] ?? 0),
    status: r.statusCode,
  };
}

/** Open loop: RATE requests a second to every routing, whatever their latency. */
async function drive(
  pools: Record<Routing, Pool>,
  out: Record<Routing, Sample[]>,
  phase: Phase,
  seconds: number,
): Promise<void> {
  const start = performance.now();
  const total = Math.round(RATE * seconds);
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const t = (performance.now() - start) / 1000;
    for (const name of Object.keys(pools) as Routing[]) {
      pending.push(
        one(pools[name], i).then(
          (s) => void out[name].push({ phase, t, ...s }),
          () => void out[name].push({ phase, t, ms: Number.NaN, provider: '', attempts: 0, status: 0 }),
        ),
      );
    }
  }
  await Promise.all(pending);
}

interface RunResult {
  slowShare: Record<Routing, number>;
  slowShareLast10: Record<Routing, number>;
  /** Seconds after the slowdown until a 5 s window sends < 10 % to the slow target. */
  under10At: Record<Routing, number>;
  p50: Record<Routing, number>;
  p95: Record<Routing, number>;
  p99: Record<Routing, number>;
  hedgeRate: number;
  allSlowHedge: { first10: number; last10: number; perWindow: number[]; atBudgetAfter: number };
  allSlowP99: Record<Routing, number>;
  errors: Record<Routing, number>;
  series: Record<Routing, string>;
}

/** Seconds into the all-slow phase from which the hedge rate over the rest of it is at most the budget (+0.5 point). */
function atBudgetAfter(all: Sample[], hedged: (xs: Sample[]) => number): number {
  for (let t = 0; t < ALL_SLOW_S; t += 1) if (hedged(all.filter((s) => s.t >= t)) <= BUDGET / 100 + 0.005) return t;
  return Number.POSITIVE_INFINITY;
}

async function runOnce(): Promise<RunResult> {
  const ups = [0, 1, 2].map((i) => new SimulatedUpstream(`up${i}`, FAST));
  const urls = await Promise.all(ups.map((u) => u.start()));
  const names = Object.keys(ROUTINGS) as Routing[];
  const sidecars = {} as Record<Routing, TestSidecar>;
  const pools = {} as Record<Routing, Pool>;
  const out = {} as Record<Routing, Sample[]>;
  for (const n of names) {
    sidecars[n] = await startSidecar(configFor(n, urls));
    pools[n] = new Pool(sidecars[n].url, { connections: 128 });
    out[n] = [];
  }
  try {
    await drive(pools, out, 'warm', WARM_S);
    ups[2].update(SLOW); // one of three slows down 6×, without failing
    await drive(pools, out, 'slow', SLOW_S);
    for (const u of ups) u.update(SLOW); // everything slows down: hedging must not double the load
    await drive(pools, out, 'all_slow', ALL_SLOW_S);
  } finally {
    await Promise.all(names.map((n) => pools[n].close()));
    await Promise.all(names.map((n) => sidecars[n].close()));
    await Promise.all(ups.map((u) => u.close()));
  }
  const by = <T>(f: (n: Routing) => T) => Object.fromEntries(names.map((n) => [n, f(n)])) as Record<Routing, T>;
  const inPhase = (n: Routing, p: Phase) => out[n].filter((s) => s.phase === p && s.status === 200);
  const share = (xs: Sample[]) => xs.filter((s) => s.provider === 'up2').length / Math.max(1, xs.length);
  const under10At = (n: Routing) => {
    const xs = inPhase(n, 'slow');
    for (let t = 0; t + 5 <= SLOW_S; t += 1) if (share(xs.filter((s) => s.t >= t && s.t < t + 5)) < 0.1) return t + 5;
    return Number.POSITIVE_INFINITY;
  };
  const ms = (n: Routing, p: Phase) => inPhase(n, p).map((s) => s.ms);
  const hedged = (xs: Sample[]) => xs.filter((s) => s.attempts > 1).length / Math.max(1, xs.length);
  const allSlow = out.hedged.filter((s) => s.phase === 'all_slow');
  const perWindow: number[] = [];
  for (let t = 0; t < ALL_SLOW_S; t += 2) perWindow.push(hedged(allSlow.filter((s) => s.t >= t && s.t < t + 2)));
  return {
    slowShare: by((n) => share(inPhase(n, 'slow'))),
    slowShareLast10: by((n) => share(inPhase(n, 'slow').filter((s) => s.t >= SLOW_S - 10))),
    under10At: by(under10At),
    p50: by((n) => pct(ms(n, 'slow'), 50)),
    p95: by((n) => pct(ms(n, 'slow'), 95)),
    p99: by((n) => pct(ms(n, 'slow'), 99)),
    hedgeRate: hedged(inPhase('hedged', 'slow')),
    allSlowHedge: {
      first10: hedged(allSlow.filter((s) => s.t < 10)),
      last10: hedged(allSlow.filter((s) => s.t >= 10)),
      perWindow,
      atBudgetAfter: atBudgetAfter(allSlow, hedged),
    },
    allSlowP99: by((n) => pct(ms(n, 'all_slow'), 99)),
    series: by((n) => {
      const xs = inPhase(n, 'slow');
      const w: string[] = [];
      for (let t = 0; t < SLOW_S; t += 2) w.push(pc(share(xs.filter((s) => s.t >= t && s.t < t + 2))));
      return w.join(' ');
    }),
    errors: by((n) => out[n].filter((s) => s.status !== 200).length),
  };
}

const names = () => Object.keys(ROUTINGS) as Routing[];
const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '∞');
const f1 = (x: number) => x.toFixed(1);
const pc = (x: number) => `${(x * 100).toFixed(1)} %`;

async function main(): Promise<void> {
  console.log(
    `gray-failure: 3 targets, ${RATE} req/s per routing, warm ${WARM_S} s, one slowed 6× for ${SLOW_S} s, all slowed for ${ALL_SLOW_S} s; ` +
      `latencies scaled 10× down (200 ms → 1.2 s stands for 2 s → 12 s); hedge delay ${HEDGE_DELAY}; ${RUNS} run(s); load ${loadavg()}`,
  );
  const runs: RunResult[] = [];
  for (let r = 0; r < RUNS; r++) {
    const x = await runOnce();
    runs.push(x);
    console.log(
      `\nrun ${r + 1}  (load ${loadavg()}, non-200 answers: ${names()
        .map((n) => `${n} ${x.errors[n]}`)
        .join(', ')})`,
    );
    console.log('  routing   slow share  last 10 s  <10% after   p50 ms  p95 ms  p99 ms   all-slow p99');
    for (const n of Object.keys(ROUTINGS) as Routing[])
      console.log(
        `  ${n.padEnd(8)}  ${pc(x.slowShare[n]).padStart(10)}  ${pc(x.slowShareLast10[n]).padStart(9)}  ${`${f0(x.under10At[n])} s`.padStart(10)}  ${f1(x.p50[n]).padStart(7)} ${f1(x.p95[n]).padStart(7)} ${f1(x.p99[n]).padStart(7)}  ${f1(x.allSlowP99[n]).padStart(12)}`,
      );
    if (process.env.GRAY_DEBUG)
      for (const n of Object.keys(ROUTINGS) as Routing[]) console.log(`  ${n} slow share per 2 s: ${x.series[n]}`);
    console.log(
      `  hedged: ${pc(x.hedgeRate)} of requests hedged while one target was slow; all slow: ${pc(x.allSlowHedge.first10)} in the first 10 s, ${pc(x.allSlowHedge.last10)} after, at the budget from ${f0(x.allSlowHedge.atBudgetAfter)} s on (per 2 s: ${x.allSlowHedge.perWindow.map(pc).join(', ')})`,
    );
  }
  const med = (f: (x: RunResult) => number) => median(runs.map(f));
  console.log(`\nmedians of ${RUNS} run(s):`);
  console.log(
    `  slow target's share of traffic while slow: fixed ${pc(med((x) => x.slowShare.fixed))}, latency ${pc(med((x) => x.slowShare.latency))}, hedged ${pc(med((x) => x.slowShare.hedged))}; ` +
      `latency balancing under 10 % (5 s window) ${f0(med((x) => x.under10At.latency))} s after the slowdown (target: within 30 s)`,
  );
  console.log(
    `  p99 while one target is slow: fixed ${f1(med((x) => x.p99.fixed))} ms, latency ${f1(med((x) => x.p99.latency))} ms, hedged ${f1(med((x) => x.p99.hedged))} ms; ` +
      `hedged/fixed ${med((x) => x.p99.hedged / x.p99.fixed).toFixed(2)} (target <= 0.50), latency/fixed ${med((x) => x.p99.latency / x.p99.fixed).toFixed(2)}`,
  );
  console.log(
    `  hedges: ${pc(med((x) => x.hedgeRate))} of requests while one target is slow (target <= ${BUDGET} %); ` +
      `all three slow: ${pc(med((x) => x.allSlowHedge.first10))} in the first 10 s, ${pc(med((x) => x.allSlowHedge.last10))} in the next 10 s, at the budget from ${f0(med((x) => x.allSlowHedge.atBudgetAfter))} s on (budget ${BUDGET} %, target: within 10 s)`,
  );
}

await main();
