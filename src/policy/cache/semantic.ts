// Semantic mode: after an exact miss, the user text of a short conversation is embedded through
// the configured embeddings target and searched among earlier answers of the same partition
// (everything but the user text: model, parameters, system prompt, tools, config, virtual key,
// namespaces); cosine similarity at or above the threshold answers with that entry.
//
// The index is exact search over normalised Float32 vectors, in this process, per state store
// (it outlives reloads), bounded by entry count in all (100,000) and per partition (1,000; oldest
// out): exact search is linear in a partition's size and memory-bound at 1,536 dims (~2-3 µs per
// entry here, ~250 ms at 100,000 in one partition), so the per-partition bound keeps a lookup to
// a few ms; an ANN index (HNSW) would be the next step for large partitions. The entries themselves live in the
// cache storage; with Redis the vectors are shared too (SharedSemanticIndex below).
import { randomUUID } from 'node:crypto';
import type { FileConfig, TargetSpec } from '../../config/schema.js';
import { ConfigError, formatPath } from '../../config/errors.js';
import { adapterFor } from '../../providers/registry.js';
import { execute, type ExecEnv } from '../../routing/executor.js';
import { noopObserver } from '../../routing/observer.js';
import type { StateStore } from '../state/types.js';
import type { CacheSpec } from './config.js';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Conversations longer than this are looked up exactly only. */
export const MAX_SEMANTIC_MESSAGES = 4;
export const DEFAULT_INDEX_ENTRIES = 100_000;
/** Exact search is linear in a partition's entries (~2 µs each at 1,536 dims here): keep them few. */
export const DEFAULT_PARTITION_ENTRIES = 1_000;

/** "@slug/model" → its parts; the slug must name an embeddings-capable provider of the file. */
export function parseEmbedding(spec: string): { slug: string; model: string } | undefined {
  const m = /^@([A-Za-z0-9._-]+)\/(.+)$/.exec(spec);
  return m ? { slug: m[1], model: m[2] } : undefined;
}

/** Load-time check of every semantic cache's `embedding` (needs the file's providers). */
export function checkSemanticEmbeddings(file: FileConfig, specOf: (cfg: TargetSpec) => CacheSpec | undefined): void {
  for (const [id, cfg] of Object.entries(file.configs)) {
    const spec = specOf(cfg);
    if (spec?.mode !== 'semantic') continue;
    const path = formatPath(['configs', id, 'cache', 'embedding']);
    if (!spec.embedding)
      throw new ConfigError(
        `${path}: semantic mode needs an embeddings target, e.g. "@openai-prod/text-embedding-3-small"`,
      );
    const e = parseEmbedding(spec.embedding);
    if (!e) throw new ConfigError(`${path}: expected "@provider/model" (got ${JSON.stringify(spec.embedding)})`);
    const p = Object.hasOwn(file.providers, e.slug) ? file.providers[e.slug] : undefined;
    if (!p) throw new ConfigError(`${path}: unknown provider "@${e.slug}"`);
    const adapter = adapterFor(p.type);
    if (!adapter?.supports('embeddings'))
      throw new ConfigError(`${path}: provider "@${e.slug}" (${p.type}) does not serve embeddings`);
  }
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((p) => (isObj(p) && typeof p.text === 'string' ? p.text : ''))
    .filter(Boolean)
    .join('\n');
}

/**
 * The user text to embed and the body with it blanked (the partition's material), or undefined
 * when the request is not a short chat with user text.
 */
export function semanticParts(op: string, body: Json): { text: string; rest: Json } | undefined {
  if (
    op !== 'chat' ||
    !Array.isArray(body.messages) ||
    body.messages.length === 0 ||
    body.messages.length > MAX_SEMANTIC_MESSAGES
  )
    return undefined;
  const texts: string[] = [];
  const messages = body.messages.map((m) => {
    if (!isObj(m) || m.role !== 'user') return m;
    texts.push(textOf(m.content));
    return { ...m, content: '' };
  });
  const text = texts.join('\n').trim();
  return text ? { text, rest: { ...body, messages } } : undefined;
}

/** Embeds `text` through the configured target within `timeoutMs`; undefined on any failure. */
export async function embed(
  spec: CacheSpec,
  text: string,
  env: Omit<ExecEnv, 'observer'>,
  metadata: Record<string, string>,
): Promise<Float32Array | undefined> {
  const e = parseEmbedding(spec.embedding ?? '');
  if (!e) return undefined;
  const timeoutMs = spec.embedding_timeout_ms;
  const signal = AbortSignal.timeout(timeoutMs);
  const routing: TargetSpec = {
    provider: `@${e.slug}`,
    override_params: { model: e.model },
    request_timeout: timeoutMs,
  };
  const run = execute(
    {
      op: 'embeddings',
      body: { model: e.model, input: text },
      stream: false,
      includeUsage: false,
      metadata,
      routing,
      deadlineAt: Date.now() + timeoutMs,
      clientSignal: signal,
    },
    { ...env, observer: noopObserver },
  ).catch(() => undefined);
  // The executor honours the deadline; this bounds anything it waits on besides.
  let t: NodeJS.Timeout | undefined;
  const timer = new Promise<undefined>((res) => {
    t = globalThis.setTimeout(() => res(undefined), timeoutMs + 20) as unknown as NodeJS.Timeout;
  });
  const r = await Promise.race([run, timer]);
  clearTimeout(t);
  if (r?.status !== 200) return undefined;
  const data = r.body?.data;
  const v = Array.isArray(data) && isObj(data[0]) ? data[0].embedding : undefined;
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'number')) return undefined;
  return normalise(Float32Array.from(v as number[]));
}

export function normalise(v: Float32Array): Float32Array | undefined {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i] * v[i];
  if (!(n > 0)) return undefined;
  const s = 1 / Math.sqrt(n);
  for (let i = 0; i < v.length; i++) v[i] *= s;
  return v;
}

/** Four accumulators: about twice as fast as one on V8 for 1,536-dim vectors. */
function dotProduct(a: Float32Array, b: Float32Array): number {
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

interface IndexEntry {
  vec: Float32Array;
  key: string;
  expiresAt: number;
}

/** Exact nearest-neighbour search per partition over normalised vectors. */
export class SemanticIndex {
  private readonly parts = new Map<string, IndexEntry[]>();
  private count = 0;
  /** Insertion order across partitions, for eviction. */
  private readonly order: Array<{ partition: string; entry: IndexEntry }> = [];
  private head = 0;

  constructor(
    private readonly maxEntries = DEFAULT_INDEX_ENTRIES,
    private readonly clock: () => number = Date.now,
    private readonly maxPerPartition = DEFAULT_PARTITION_ENTRIES,
  ) {}

  get size(): number {
    return this.count;
  }

  add(partition: string, vec: Float32Array, key: string, ttlMs: number): void {
    let list = this.parts.get(partition);
    if (!list) this.parts.set(partition, (list = []));
    // One vector per entry key: a refreshed entry replaces its vector.
    const at = list.findIndex((e) => e.key === key);
    if (at >= 0) {
      list.splice(at, 1);
      this.count--;
    }
    const entry = { vec, key, expiresAt: this.clock() + ttlMs };
    list.push(entry);
    this.order.push({ partition, entry });
    this.count++;
    if (list.length > this.maxPerPartition) {
      list.shift(); // the partition's oldest
      this.count--;
    }
    while (this.count > this.maxEntries && this.head < this.order.length) this.evict(this.order[this.head++]);
    if (this.head > 4096 && this.head * 2 > this.order.length) {
      this.order.splice(0, this.head);
      this.head = 0;
    }
  }

  private evict(o: { partition: string; entry: IndexEntry }): void {
    const list = this.parts.get(o.partition);
    const i = list ? list.indexOf(o.entry) : -1;
    if (i < 0) return;
    list!.splice(i, 1);
    this.count--;
    if (list!.length === 0) this.parts.delete(o.partition);
  }

  /** The most similar live entry of the partition at or above `threshold`. */
  search(partition: string, vec: Float32Array, threshold: number): { key: string; similarity: number } | undefined {
    const list = this.parts.get(partition);
    if (!list) return undefined;
    const now = this.clock();
    let best: IndexEntry | undefined;
    let bestSim = -Infinity;
    for (const e of list) {
      if (e.expiresAt <= now || e.vec.length !== vec.length) continue;
      const dot = dotProduct(e.vec, vec);
      if (dot > bestSim) {
        bestSim = dot;
        best = e;
      }
    }
    return best && bestSim >= threshold ? { key: best.key, similarity: Math.min(1, bestSim) } : undefined;
  }
}

/** How long a sidecar reuses the vectors it read from the other sidecars of a partition. */
export const REMOTE_REFRESH_MS = 500;

interface WireEntry {
  k: string;
  /** The vector, Float32 little-endian, base64. */
  v: string;
  /** Expiry, epoch ms. */
  e: number;
}

const toWire = (vec: Float32Array): string =>
  Buffer.from(vec.buffer, vec.byteOffset, vec.byteLength).toString('base64');
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
function fromWire(b64: string): Float32Array {
  const b = Buffer.from(b64, 'base64');
  if (LITTLE_ENDIAN) return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length - (b.length % 4)));
  const out = new Float32Array(b.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = b.readFloatLE(i * 4);
  return out;
}

/**
 * The index as the cache stage sees it: this sidecar's vectors in memory, and with the Redis
 * store also every other sidecar's. Each sidecar writes only its own list per partition
 * (`semv:<partition>:<writer>`, so writers never race on a list) and names itself in the
 * partition's writer list (`semw:<partition>`; a registration lost to a concurrent write heals
 * at the writer's next store). Readers fetch the other writers' lists at most every
 * REMOTE_REFRESH_MS per partition, so an entry written on one sidecar is a semantic hit on
 * another within about a second. Failures only cost hits, never answers.
 */
export class SharedSemanticIndex {
  readonly writer = randomUUID().slice(0, 12);
  private readonly own = new Map<string, WireEntry[]>();
  private readonly remote = new Map<string, { at: number; index: SemanticIndex }>();
  private writes = Promise.resolve();

  constructor(
    private readonly store: StateStore,
    readonly local = new SemanticIndex(),
    private readonly clock: () => number = Date.now,
  ) {}

  private get shared(): boolean {
    return this.store.kind === 'redis';
  }

  add(partition: string, vec: Float32Array, key: string, ttlMs: number): Promise<void> {
    this.local.add(partition, vec, key, ttlMs);
    if (!this.shared) return Promise.resolve();
    // One write at a time from this sidecar: its own lists are read-modify-written only here.
    const run = this.writes.then(() => this.publish(partition, vec, key, ttlMs));
    this.writes = run.catch(() => {});
    return run;
  }

  private async publish(partition: string, vec: Float32Array, key: string, ttlMs: number): Promise<void> {
    const now = this.clock();
    const list = (this.own.get(partition) ?? []).filter((e) => e.e > now && e.k !== key);
    list.push({ k: key, v: toWire(vec), e: now + ttlMs });
    while (list.length > DEFAULT_PARTITION_ENTRIES) list.shift();
    this.own.set(partition, list);
    const keep = Math.max(...list.map((e) => e.e)) - now;
    await this.store.set(
      `semv:${partition}:${this.writer}`,
      Buffer.from(JSON.stringify(list)),
      Math.max(1, Math.ceil(keep)),
    );
    const raw = await this.store.get(`semw:${partition}`);
    const writers: Array<{ w: string; e: number }> = raw
      ? (JSON.parse(raw.toString('utf8')) as Array<{ w: string; e: number }>).filter((x) => x.e > now)
      : [];
    const mine = writers.find((x) => x.w === this.writer);
    if (mine && mine.e >= now + keep - 60_000) return;
    const next = [...writers.filter((x) => x.w !== this.writer), { w: this.writer, e: now + keep }];
    await this.store.set(
      `semw:${partition}`,
      Buffer.from(JSON.stringify(next)),
      Math.max(1, Math.ceil(Math.max(...next.map((x) => x.e)) - now)),
    );
  }

  async search(
    partition: string,
    vec: Float32Array,
    threshold: number,
  ): Promise<{ key: string; similarity: number } | undefined> {
    const mine = this.local.search(partition, vec, threshold);
    if (!this.shared) return mine;
    let theirs: { key: string; similarity: number } | undefined;
    try {
      theirs = (await this.others(partition)).search(partition, vec, threshold);
    } catch {
      theirs = undefined;
    }
    if (!mine) return theirs;
    if (!theirs) return mine;
    return theirs.similarity > mine.similarity ? theirs : mine;
  }

  private async others(partition: string): Promise<SemanticIndex> {
    const now = this.clock();
    const cached = this.remote.get(partition);
    if (cached && now - cached.at < REMOTE_REFRESH_MS) return cached.index;
    const index = new SemanticIndex(DEFAULT_INDEX_ENTRIES, this.clock, DEFAULT_INDEX_ENTRIES);
    const raw = await this.store.get(`semw:${partition}`);
    const writers = raw
      ? (JSON.parse(raw.toString('utf8')) as Array<{ w: string; e: number }>).filter(
          (x) => x.e > now && x.w !== this.writer,
        )
      : [];
    const lists = await Promise.all(writers.map((x) => this.store.get(`semv:${partition}:${x.w}`)));
    for (const l of lists) {
      if (!l) continue;
      for (const e of JSON.parse(l.toString('utf8')) as WireEntry[])
        if (e.e > now) index.add(partition, fromWire(e.v), e.k, e.e - now);
    }
    if (this.remote.size > 10_000) this.remote.clear();
    this.remote.set(partition, { at: now, index });
    return index;
  }
}

const indexes = new WeakMap<StateStore, SharedSemanticIndex>();

export function semanticIndex(store: StateStore): SharedSemanticIndex {
  let ix = indexes.get(store);
  if (!ix) indexes.set(store, (ix = new SharedSemanticIndex(store)));
  return ix;
}
