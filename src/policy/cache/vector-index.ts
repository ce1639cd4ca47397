// The semantic cache's local nearest-neighbour index: per partition, exact search over the
// normalised Float32 vectors while the partition is small, an HNSW graph (usearch) once it holds
// more than EXACT_MAX entries. Exact search is linear (~1.5 µs per 1,536-dim vector in V8), HNSW
// about logarithmic. Measured (bench/cache.ts, 1,536 dims): the graph is as fast or faster from 16
// entries on (p50 17 vs 24 µs at 16, 21 vs 46 µs at 32, 61 vs 342 µs at 256), so exact search is
// kept only where it costs under ~50 µs, and spares the many tiny partitions a native graph each.
//
// The graph only finds candidates: it holds i8 copies (usearch scales each vector to norm 127),
// half the bytes per distance of f16 and faster to compare, and the SEARCH_K candidates it returns
// are re-ranked by exact cosine over the f32 vectors kept beside it. i8 similarities alone are
// ~0.01 off (too coarse beside a 0.95 threshold); re-ranked, the similarity compared with the
// threshold is exact, and a quantised score above it never makes a HIT on its own.
//
// It is an acceleration structure only: the answers live in the cache storage (memory or Redis),
// and a key found here that the storage no longer has is a miss (and dropped from here). Entries
// expire here with their TTL (filtered at lookup, swept oldest first at every add) and are
// evicted oldest first beyond `maxBytes` (the config's cache.max_bytes): the vectors of one
// config in one sidecar are bounded by the same figure as its answers.
import { createRequire } from 'node:module';
import type * as UsearchModule from 'usearch';
import type { Index as UsearchIndex } from 'usearch';
import { logger } from '../../logger.js';

/** Above this many entries a partition is searched through an HNSW graph (measured: bench/cache.ts). */
export const EXACT_MAX = 32;
/**
 * Graph parameters: usearch's default connectivity (12 lost recall: 0.96 at 100k). Search
 * expansion 24 (i8 graph, exact re-rank; bench/cache.ts, 1,536 dims): recall@1 1.000 at 10k and
 * 100k like 32, p50 0.118 vs 0.168 ms at 10k, 0.41 vs 0.44-0.49 ms at 100k; 16 lost recall.
 */
const CONNECTIVITY = 16;
const EXPANSION_ADD = 128;
const EXPANSION_SEARCH = 24;
/** Candidates read per graph lookup, so that a few expired ones do not hide a live one. */
const SEARCH_K = 8;
/** Expired entries removed per add (the sweep is spread over adds, never a long pause). */
const SWEEP_STEP = 64;

// usearch's ESM entry loops looking for its native build; its CommonJS entry loads it.
type Usearch = Pick<typeof UsearchModule, 'Index' | 'MetricKind' | 'ScalarKind'>;
let usearch: Usearch | null | undefined;
function loadUsearch(): Usearch | null {
  if (usearch === undefined) {
    try {
      usearch = createRequire(import.meta.url)('usearch') as Usearch;
    } catch (e) {
      // No native build for this platform: exact search everywhere (slower, same answers).
      logger.warn('cache: usearch unavailable, semantic lookups use exact search', { error: (e as Error).message });
      usearch = null;
    }
  }
  return usearch;
}

/** Bytes one entry holds here, roughly: its f32 vector, in a graph an i8 copy and links, bookkeeping. */
export function entryBytes(dims: number, inGraph: boolean): number {
  return dims * 4 + (inGraph ? dims + CONNECTIVITY * 2 * 4 * 2 : 0) + 192;
}

export interface VectorMatch {
  key: string;
  similarity: number;
}

interface Slot {
  key: string;
  expiresAt: number;
  bytes: number;
  /** The normalised vector as added: exact search, and the graph's candidates' exact re-rank. */
  vec: Float32Array;
}

class Partition {
  readonly slots = new Map<number, Slot>();
  readonly byKey = new Map<string, number>();
  graph?: UsearchIndex;
  next = 0;
  constructor(readonly dims: number) {}
}

/** Four accumulators: about twice as fast as one on V8 for 1,536-dim vectors. */
export function dotProduct(a: Float32Array, b: Float32Array): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const n = a.length - (a.length % 4);
  let i = 0;
  for (; i < n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < a.length; i++) s0 += a[i] * b[i];
  return s0 + s1 + s2 + s3;
}

export interface VectorIndexOptions {
  maxBytes: number;
  clock?: () => number;
  /** Partitions above this size use the graph; Infinity = exact search only (bench baseline). */
  exactMax?: number;
}

/** Nearest neighbours by cosine similarity (vectors are normalised), per partition. */
export class VectorIndex {
  private readonly parts = new Map<string, Partition>();
  /** Insertion order across partitions: expiry sweep and eviction, oldest first. */
  private order: Array<{ name: string; part: Partition; label: number }> = [];
  private head = 0;
  private count = 0;
  bytes = 0;
  maxBytes: number;
  private readonly clock: () => number;
  private readonly exactMax: number;

  constructor(o: VectorIndexOptions) {
    this.maxBytes = o.maxBytes;
    this.clock = o.clock ?? Date.now;
    this.exactMax = o.exactMax ?? EXACT_MAX;
  }

  get size(): number {
    return this.count;
  }

  /** Whether `partition` is searched through a graph (tests, bench). */
  usesGraph(partition: string): boolean {
    return this.parts.get(partition)?.graph !== undefined;
  }

  has(partition: string, key: string): boolean {
    return this.parts.get(partition)?.byKey.has(key) ?? false;
  }

  /** Adds (or replaces: one vector per key) an entry; `vec` must be normalised and is kept as is. */
  add(partition: string, vec: Float32Array, key: string, ttlMs: number): void {
    const now = this.clock();
    let part = this.parts.get(partition);
    if (part && part.dims !== vec.length) {
      // Another embedding model: the old vectors cannot be compared with the new ones.
      this.dropPartition(partition, part);
      part = undefined;
    }
    const old = part?.byKey.get(key);
    if (part && old !== undefined) {
      this.remove(partition, part, old);
      part = this.parts.get(partition); // gone if that was its last entry
    }
    if (!part) this.parts.set(partition, (part = new Partition(vec.length)));
    const label = part.next++;
    const slot: Slot = { key, expiresAt: now + ttlMs, bytes: entryBytes(vec.length, part.graph !== undefined), vec };
    if (part.graph) part.graph.add(BigInt(label), vec);
    part.slots.set(label, slot);
    part.byKey.set(key, label);
    this.order.push({ name: partition, part, label });
    this.count++;
    this.bytes += slot.bytes;
    if (!part.graph && part.slots.size > this.exactMax) this.toGraph(part);
    this.sweep(now);
  }

  /** Drops an entry (its answer is gone from the storage, or was replaced). */
  delete(partition: string, key: string): void {
    const part = this.parts.get(partition);
    const label = part?.byKey.get(key);
    if (part && label !== undefined) this.remove(partition, part, label);
  }

  /** The most similar live entry of the partition at or above `threshold`. */
  search(partition: string, vec: Float32Array, threshold: number): VectorMatch | undefined {
    const part = this.parts.get(partition);
    if (!part || part.dims !== vec.length) return undefined;
    const now = this.clock();
    if (!part.graph) {
      let best: Slot | undefined;
      let bestSim = -Infinity;
      for (const s of part.slots.values()) {
        if (s.expiresAt <= now) continue;
        const sim = dotProduct(s.vec, vec);
        if (sim > bestSim) {
          bestSim = sim;
          best = s;
        }
      }
      return best && bestSim >= threshold ? { key: best.key, similarity: Math.min(1, bestSim) } : undefined;
    }
    const m = part.graph.search(vec, Math.min(SEARCH_K, part.slots.size), 1);
    // The best live candidate by exact cosine (the graph's order is by its i8 copies).
    let best: Slot | undefined;
    let bestSim = -Infinity;
    for (let i = 0; i < m.keys.length; i++) {
      const label = Number(m.keys[i]);
      const s = part.slots.get(label);
      if (!s) continue;
      if (s.expiresAt <= now) {
        this.remove(partition, part, label);
        continue;
      }
      const sim = dotProduct(s.vec, vec);
      if (sim > bestSim) {
        bestSim = sim;
        best = s;
      }
    }
    return best && bestSim >= threshold ? { key: best.key, similarity: Math.min(1, bestSim) } : undefined;
  }

  private toGraph(part: Partition): void {
    const lib = loadUsearch();
    if (!lib) return;
    const graph = new lib.Index({
      dimensions: part.dims,
      metric: lib.MetricKind.Cos,
      quantization: lib.ScalarKind.I8,
      connectivity: CONNECTIVITY,
      expansion_add: EXPANSION_ADD,
      expansion_search: EXPANSION_SEARCH,
      multi: false,
    });
    const n = part.slots.size;
    const labels = new BigUint64Array(n);
    const matrix = new Float32Array(n * part.dims);
    let i = 0;
    for (const [label, s] of part.slots) {
      labels[i] = BigInt(label);
      matrix.set(s.vec, i * part.dims);
      i++;
    }
    graph.add(labels, matrix, 1);
    part.graph = graph;
    for (const s of part.slots.values()) {
      const b = entryBytes(part.dims, true);
      this.bytes += b - s.bytes;
      s.bytes = b;
    }
  }

  private remove(name: string, part: Partition, label: number): void {
    const s = part.slots.get(label);
    if (!s) return;
    part.slots.delete(label);
    if (part.byKey.get(s.key) === label) part.byKey.delete(s.key);
    part.graph?.remove(BigInt(label));
    this.count--;
    this.bytes -= s.bytes;
    if (part.slots.size === 0 && this.parts.get(name) === part) this.parts.delete(name);
  }

  private dropPartition(name: string, part: Partition): void {
    for (const label of [...part.slots.keys()]) this.remove(name, part, label);
    this.parts.delete(name);
  }

  /** Expired entries at the head of the order (a bounded step), then the oldest beyond maxBytes. */
  private sweep(now: number): void {
    for (let steps = 0; steps < SWEEP_STEP && this.head < this.order.length; steps++) {
      const o = this.order[this.head];
      const s = o.part.slots.get(o.label);
      if (s && s.expiresAt > now) break;
      this.head++;
      if (s) this.remove(o.name, o.part, o.label);
    }
    while (this.bytes > this.maxBytes && this.head < this.order.length) {
      const o = this.order[this.head++];
      this.remove(o.name, o.part, o.label);
    }
    if (this.head > 4096 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    } else if (this.order.length - this.head > 4 * this.count + 4096) {
      // Replaced keys leave dead entries behind a long-lived head: keep only the live ones.
      this.order = this.order.slice(this.head).filter((o) => o.part.slots.has(o.label));
      this.head = 0;
    }
  }
}
