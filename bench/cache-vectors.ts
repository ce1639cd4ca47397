// The semantic cache's lookup, the embedding call excluded: src/policy/cache/vector-index.ts with
// exact search only (exactMax = Infinity) vs as configured (exact up to EXACT_MAX entries, an
// HNSW graph from usearch above), over one partition of n vectors of 1,536 dims, side by side on
// the same data and queries. Data: clustered unit vectors (as embeddings of related texts are);
// queries: a stored vector plus noise (cosine ~0.98 to it, the cache's hit case) and unrelated
// vectors (the miss case). recall@1: the index's best equals exact search's best, for the hit
// queries. Also what an add costs (the store path pays it) and the bytes the index accounts, and
// how many timed lookups a GC pause overlapped (the build leaves garbage: the bench collects it
// before timing when run with --expose-gc, so a pause of its own is not counted as a lookup's).
//   node --expose-gc --import tsx bench/cache.ts --semantic-only [--semantic-sizes 1000,10000,100000]
import { PerformanceObserver } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { EXACT_MAX, VectorIndex } from '../src/policy/cache/vector-index.js';
import { normalise } from '../src/policy/cache/semantic.js';
import { pct } from './stats.js';

const DIMS = 1536;

/** A seeded generator: the same data in every run. */
function gaussian(seed: number): () => number {
  let s = seed >>> 0;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 1) / 2 ** 32;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

function around(center: Float32Array, spread: number, g: () => number): Float32Array {
  const v = new Float32Array(DIMS);
  const s = spread / Math.sqrt(DIMS);
  for (let j = 0; j < DIMS; j++) v[j] = center[j] + s * g();
  return normalise(v) as Float32Array;
}

export interface VectorBenchRow {
  n: number;
  exact: { p50: number; p99: number };
  index: { p50: number; p99: number };
  /** CPU time of the index's lookups (ms). */
  indexCpu: { p50: number; p99: number };
  /** The index's lookups split: queries near a stored vector (hits) and unrelated ones (misses). */
  hitQueries: { p50: number; p99: number };
  missQueries: { p50: number; p99: number };
  recall: number;
  /** Index lookups that a GC pause overlapped, and how many of those were at or above the p99. */
  gcOverlap: { all: number; tail: number };
  graph: boolean;
  addMs: number;
  bytesPerEntry: number;
  /** RSS growth over the index's build per entry (graph, links, bookkeeping) plus its f32 vector (the bench's own). */
  measuredBytesPerEntry: number;
}

/**
 * Wall time and this thread's CPU time per lookup: on a loaded 2-core machine the wall-clock p99
 * is mostly time the thread was not scheduled; the CPU time is what the lookup itself costs.
 */
function lookups(
  ix: VectorIndex,
  queries: Float32Array[],
): { lat: number[]; cpu: number[]; keys: Array<string | undefined>; spans: number[] } {
  const lat: number[] = [];
  const spans: number[] = [];
  const cpu: number[] = [];
  const keys: Array<string | undefined> = [];
  for (const q of queries) {
    const c = process.cpuUsage();
    const t = performance.now();
    const m = ix.search('p', q, -1); // threshold -1: always the best, to compare with exact
    const t1 = performance.now();
    lat.push(t1 - t);
    spans.push(t, t1);
    const d = process.cpuUsage(c);
    cpu.push((d.user + d.system) / 1000);
    keys.push(m?.key);
  }
  return { lat, cpu, keys, spans };
}

/** GC pauses (start, end) seen while `run` runs: the observer reports them on a later turn. */
async function withGcPauses<T>(run: () => T): Promise<{ result: T; pauses: number[] }> {
  const pauses: number[] = [];
  const obs = new PerformanceObserver((l) => {
    for (const e of l.getEntries()) pauses.push(e.startTime, e.startTime + e.duration);
  });
  obs.observe({ entryTypes: ['gc'] });
  const result = run();
  await sleep(50);
  obs.disconnect();
  return { result, pauses };
}

function gcOverlap(spans: number[], lat: number[], pauses: number[]): { all: number; tail: number } {
  const p99 = pct(lat, 99);
  let all = 0;
  let tail = 0;
  for (let i = 0; i < lat.length; i++) {
    let hit = false;
    for (let j = 0; j < pauses.length && !hit; j += 2)
      hit = pauses[j] < spans[2 * i + 1] && pauses[j + 1] > spans[2 * i];
    if (hit) {
      all++;
      if (lat[i] >= p99) tail++;
    }
  }
  return { all, tail };
}

export async function benchVectors(n: number, queryCount = 400): Promise<VectorBenchRow> {
  const g = gaussian(n);
  const zero = new Float32Array(DIMS);
  const centers = Array.from({ length: Math.max(10, Math.round(n / 100)) }, () => around(zero, 1, g));
  const data = Array.from({ length: n }, (_, i) => around(centers[i % centers.length], 0.7, g));
  const hits = Array.from({ length: queryCount }, () => around(data[Math.floor(((g() + 4) / 8) * n) % n], 0.2, g));
  const misses = Array.from({ length: queryCount / 4 }, () => around(zero, 1, g));

  const exact = new VectorIndex({ maxBytes: Number.POSITIVE_INFINITY, exactMax: Number.POSITIVE_INFINITY });
  const index = new VectorIndex({ maxBytes: Number.POSITIVE_INFINITY });
  for (let i = 0; i < n; i++) exact.add('p', data[i], `k${i}`, 3_600_000);
  globalThis.gc?.();
  const rss0 = process.memoryUsage().rss;
  const t = performance.now();
  for (let i = 0; i < n; i++) index.add('p', data[i], `k${i}`, 3_600_000);
  const addMs = (performance.now() - t) / n;
  globalThis.gc?.();
  const measuredBytesPerEntry = (process.memoryUsage().rss - rss0) / n + DIMS * 4;

  // Exact search is slow at 100k: fewer queries there (its percentiles are coarse, not its mean).
  const exactQueries = n > 20_000 ? hits.slice(0, 60) : hits;
  const e = lookups(exact, exactQueries);
  globalThis.gc?.();
  const { result: x, pauses } = await withGcPauses(() => lookups(index, [...hits, ...misses]));
  let agree = 0;
  for (let i = 0; i < exactQueries.length; i++) if (e.keys[i] === x.keys[i]) agree++;
  return {
    n,
    exact: { p50: pct(e.lat, 50), p99: pct(e.lat, 99) },
    index: { p50: pct(x.lat, 50), p99: pct(x.lat, 99) },
    indexCpu: { p50: pct(x.cpu, 50), p99: pct(x.cpu, 99) },
    hitQueries: { p50: pct(x.lat.slice(0, hits.length), 50), p99: pct(x.lat.slice(0, hits.length), 99) },
    missQueries: { p50: pct(x.lat.slice(hits.length), 50), p99: pct(x.lat.slice(hits.length), 99) },
    recall: agree / exactQueries.length,
    gcOverlap: gcOverlap(x.spans, x.lat, pauses),
    graph: index.usesGraph('p'),
    addMs,
    bytesPerEntry: index.bytes / index.size,
    measuredBytesPerEntry,
  };
}

export function printVectorRow(r: VectorBenchRow): void {
  const f = (v: number) => v.toFixed(3);
  console.log(
    `semantic lookup, ${r.n} x ${DIMS} dims in one partition: exact p50 ${f(r.exact.p50)} ms p99 ${f(r.exact.p99)} ms | ` +
      `${r.graph ? 'HNSW (usearch i8, exact re-rank)' : `exact (<= ${EXACT_MAX})`} p50 ${f(r.index.p50)} ms p99 ${f(r.index.p99)} ms ` +
      `(CPU p50 ${f(r.indexCpu.p50)} p99 ${f(r.indexCpu.p99)}), ` +
      `recall@1 ${r.recall.toFixed(3)}, GC overlapped ${r.gcOverlap.all} lookups (${r.gcOverlap.tail} >= p99) | hit queries p50 ${f(r.hitQueries.p50)} p99 ${f(r.hitQueries.p99)}, ` +
      `unrelated queries p50 ${f(r.missQueries.p50)} p99 ${f(r.missQueries.p99)} | add ${r.addMs.toFixed(3)} ms/entry, ${Math.round(r.bytesPerEntry)} B/entry accounted, ${Math.round(r.measuredBytesPerEntry)} measured`,
  );
}

/** Exact vs graph at small sizes: where EXACT_MAX should sit. */
export function benchCrossover(sizes: number[]): void {
  for (const n of sizes) {
    const g = gaussian(7 * n);
    const zero = new Float32Array(DIMS);
    const data = Array.from({ length: n }, () => around(zero, 1, g));
    const queries = Array.from({ length: 400 }, (_, i) => around(data[i % n], 0.2, g));
    const exact = new VectorIndex({ maxBytes: Number.POSITIVE_INFINITY, exactMax: Number.POSITIVE_INFINITY });
    const graph = new VectorIndex({ maxBytes: Number.POSITIVE_INFINITY, exactMax: 0 });
    for (let i = 0; i < n; i++) {
      exact.add('p', data[i], `k${i}`, 3_600_000);
      graph.add('p', data[i], `k${i}`, 3_600_000);
    }
    const e = lookups(exact, queries).lat;
    const x = lookups(graph, queries).lat;
    const xc = lookups(graph, queries).cpu;
    console.log(
      `crossover n=${n}: exact p50 ${pct(e, 50).toFixed(3)} ms p99 ${pct(e, 99).toFixed(3)} ms | HNSW p50 ${pct(x, 50).toFixed(3)} ms p99 ${pct(x, 99).toFixed(3)} ms (CPU p99 ${pct(xc, 99).toFixed(3)})`,
    );
  }
}
