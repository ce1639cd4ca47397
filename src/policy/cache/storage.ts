// Where entries live: through the StateStore's get/set, so with Redis an entry one sidecar wrote
// is a hit on every other. With the memory store, entries sit in a byte-bounded LRU of their own
// per routing config (`cache.max_bytes`), kept beside the store so that it outlives reloads.
import type { StateStore } from '../state/types.js';

export interface CacheStorage {
  get(key: string): Promise<Buffer | undefined>;
  set(key: string, value: Buffer, ttlMs: number): Promise<void>;
}

/** Least recently used first out, bounded by the bytes of its keys and values; entries expire. */
export class ByteLru implements CacheStorage {
  private readonly map = new Map<string, { value: Buffer; expiresAt: number; bytes: number }>();
  bytes = 0;

  constructor(
    public maxBytes: number,
    private readonly clock: () => number = Date.now,
  ) {}

  get size(): number {
    return this.map.size;
  }

  async get(key: string): Promise<Buffer | undefined> {
    const e = this.map.get(key);
    if (!e) return undefined;
    this.map.delete(key);
    if (e.expiresAt <= this.clock()) {
      this.bytes -= e.bytes;
      return undefined;
    }
    this.map.set(key, e); // most recently used goes last
    return e.value;
  }

  async set(key: string, value: Buffer, ttlMs: number): Promise<void> {
    // Key, value and the map entry's own overhead, roughly.
    const bytes = key.length + value.length + 64;
    const old = this.map.get(key);
    if (old) {
      this.map.delete(key);
      this.bytes -= old.bytes;
    }
    if (bytes > this.maxBytes) return;
    this.map.set(key, { value, expiresAt: this.clock() + ttlMs, bytes });
    this.bytes += bytes;
    this.shrink();
  }

  /** Evicts least recently used entries (expired ones first met) until within maxBytes. */
  shrink(): void {
    for (const [k, e] of this.map) {
      if (this.bytes <= this.maxBytes) break;
      this.map.delete(k);
      this.bytes -= e.bytes;
    }
  }
}

const memoryCaches = new WeakMap<StateStore, Map<string, ByteLru>>();

/** The storage of one routing config's entries on `store`. */
export function cacheStorage(store: StateStore, configId: string, maxBytes: number): CacheStorage {
  if (store.kind !== 'memory') return store;
  let perConfig = memoryCaches.get(store);
  if (!perConfig) memoryCaches.set(store, (perConfig = new Map()));
  let lru = perConfig.get(configId);
  if (!lru) perConfig.set(configId, (lru = new ByteLru(maxBytes)));
  else if (lru.maxBytes !== maxBytes) {
    // A reload changed the bound.
    lru.maxBytes = maxBytes;
    lru.shrink();
  }
  return lru;
}
