// The semantic index as the cache stage sees it: one local VectorIndex per routing config (in
// this process, per state store, so it outlives reloads), fed with this sidecar's entries and,
// with the Redis store, every other sidecar's.
//
// Fleet sharing: the vectors live in the StateStore as a log per partition and writer. A writer
// sets `seme:<partition>:<writer>:<n>` (the entry: key, vector, expiry) and then
// `semh:<partition>:<writer>` = "<epoch>:<n>" (its head, written after the entry, so a head never
// names an entry not yet there), and names itself in the partition's writer list
// (`semw:<partition>`; a registration lost to a concurrent write heals at the writer's next
// store). Only the writer writes its own log, so writers never race. A reader, at most every
// REMOTE_REFRESH_MS per partition and before searching it, reads the writer list and the heads,
// and fetches only the entries past what it last read (the newest REMOTE_BATCH at most) into its
// local index. So an entry written on one sidecar is a semantic hit on another within about a
// second, and a refresh with nothing new costs 1 + writers GETs. Entries expire in Redis and
// here with their TTL. Store failures only cost hits, never answers.
import { randomUUID } from 'node:crypto';
import type { StateStore } from '../state/types.js';
import { type VectorMatch, VectorIndex } from './vector-index.js';

/** How long a sidecar reuses what it read of the other sidecars' logs of a partition. */
export const REMOTE_REFRESH_MS = 500;
/**
 * The newest entries read from one writer's log per refresh. Each costs a GET and an index add
 * (~0.5-2 ms with the graph at 1,536 dims), paid by the lookup that refreshes: this bounds that
 * lookup's wait. A reader joining late learns the newest ones of each writer, then all new ones.
 */
export const REMOTE_BATCH = 256;
/** Partitions whose read or write position is remembered; beyond it they start over (new epoch). */
const MAX_TRACKED = 10_000;

interface WireEntry {
  k: string;
  /** The vector, Float32 little-endian, base64. */
  v: string;
  /** Expiry, epoch ms. */
  e: number;
}
interface LogPos {
  epoch: string;
  n: number;
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
function parsePos(raw: Buffer | undefined): LogPos | undefined {
  const m = raw && /^([\w-]+):(\d+)$/.exec(raw.toString('utf8'));
  return m ? { epoch: m[1], n: Number(m[2]) } : undefined;
}
const ttl = (ms: number) => Math.max(1, Math.ceil(ms));

export class SharedSemanticIndex {
  readonly writer = randomUUID().slice(0, 12);
  /** This sidecar's log position per partition. */
  private readonly own = new Map<string, LogPos>();
  /** Per partition: when the other writers' logs were last read, and how far. */
  private readonly read = new Map<string, { at: number; logs: Map<string, LogPos>; pending?: Promise<void> }>();
  private writes = Promise.resolve();

  constructor(
    private readonly store: StateStore,
    readonly local: VectorIndex,
    private readonly clock: () => number = Date.now,
  ) {}

  private get shared(): boolean {
    return this.store.kind === 'redis';
  }

  add(partition: string, vec: Float32Array, key: string, ttlMs: number): Promise<void> {
    this.local.add(partition, vec, key, ttlMs);
    if (!this.shared) return Promise.resolve();
    // One write at a time from this sidecar: its log positions advance only here.
    const run = this.writes.then(() => this.publish(partition, vec, key, ttlMs));
    this.writes = run.catch(() => {});
    return run;
  }

  /** The answer for `key` is gone from the storage: not a candidate any more (here). */
  delete(partition: string, key: string): void {
    this.local.delete(partition, key);
  }

  private async publish(partition: string, vec: Float32Array, key: string, ttlMs: number): Promise<void> {
    const now = this.clock();
    if (this.own.size > MAX_TRACKED) this.own.clear();
    const pos = this.own.get(partition) ?? { epoch: randomUUID().slice(0, 8), n: 0 };
    pos.n++;
    this.own.set(partition, pos);
    const entry: WireEntry = { k: key, v: toWire(vec), e: now + ttlMs };
    await this.store.set(`seme:${partition}:${this.writer}:${pos.n}`, Buffer.from(JSON.stringify(entry)), ttl(ttlMs));
    await this.store.set(`semh:${partition}:${this.writer}`, Buffer.from(`${pos.epoch}:${pos.n}`), ttl(ttlMs));
    const raw = await this.store.get(`semw:${partition}`);
    const writers: Array<{ w: string; e: number }> = raw
      ? (JSON.parse(raw.toString('utf8')) as Array<{ w: string; e: number }>).filter((x) => x.e > now)
      : [];
    const mine = writers.find((x) => x.w === this.writer);
    if (mine && mine.e >= now + ttlMs - 60_000) return;
    const next = [...writers.filter((x) => x.w !== this.writer), { w: this.writer, e: now + ttlMs }];
    await this.store.set(
      `semw:${partition}`,
      Buffer.from(JSON.stringify(next)),
      ttl(Math.max(...next.map((x) => x.e)) - now),
    );
  }

  async search(partition: string, vec: Float32Array, threshold: number): Promise<VectorMatch | undefined> {
    if (this.shared) {
      try {
        await this.refresh(partition);
      } catch {
        // The store is down: this sidecar's own entries (and what it read before) still answer.
      }
    }
    return this.local.search(partition, vec, threshold);
  }

  private refresh(partition: string): Promise<void> {
    const now = this.clock();
    let r = this.read.get(partition);
    if (r?.pending !== undefined) return r.pending;
    if (r && now - r.at < REMOTE_REFRESH_MS) return Promise.resolve();
    if (!r) {
      if (this.read.size > MAX_TRACKED) this.read.clear();
      this.read.set(partition, (r = { at: now, logs: new Map() }));
    }
    const state = r;
    state.at = now;
    state.pending = this.pull(partition, state.logs).finally(() => {
      state.pending = undefined;
    });
    return state.pending;
  }

  /** Reads the other writers' new entries of `partition` into the local index. */
  private async pull(partition: string, logs: Map<string, LogPos>): Promise<void> {
    const now = this.clock();
    const raw = await this.store.get(`semw:${partition}`);
    const writers = raw
      ? (JSON.parse(raw.toString('utf8')) as Array<{ w: string; e: number }>)
          .filter((x) => x.e > now && x.w !== this.writer)
          .map((x) => x.w)
      : [];
    const heads = await Promise.all(writers.map((w) => this.store.get(`semh:${partition}:${w}`)));
    await Promise.all(
      writers.map(async (w, i) => {
        const head = parsePos(heads[i]);
        if (!head) return;
        const seen = logs.get(w);
        // A new epoch is a new log (the writer forgot the partition): read it from its start.
        let from = seen && seen.epoch === head.epoch && seen.n <= head.n ? seen.n + 1 : 1;
        from = Math.max(from, head.n - REMOTE_BATCH + 1);
        const ns: number[] = [];
        for (let n = from; n <= head.n; n++) ns.push(n);
        const entries = await Promise.all(ns.map((n) => this.store.get(`seme:${partition}:${w}:${n}`)));
        const at = this.clock();
        for (const e of entries) {
          if (!e) continue; // expired
          const x = JSON.parse(e.toString('utf8')) as WireEntry;
          if (x.e > at) this.local.add(partition, fromWire(x.v), x.k, x.e - at);
        }
        logs.set(w, head);
      }),
    );
  }
}

const indexes = new WeakMap<StateStore, Map<string, SharedSemanticIndex>>();

/** The semantic index of routing config `configId` on `store`, its vectors bounded by `maxBytes`. */
export function semanticIndex(store: StateStore, configId: string, maxBytes: number): SharedSemanticIndex {
  let perConfig = indexes.get(store);
  if (!perConfig) indexes.set(store, (perConfig = new Map()));
  let ix = perConfig.get(configId);
  if (!ix) perConfig.set(configId, (ix = new SharedSemanticIndex(store, new VectorIndex({ maxBytes }))));
  else ix.local.maxBytes = maxBytes; // a reload may change the bound; the next add applies it
  return ix;
}
