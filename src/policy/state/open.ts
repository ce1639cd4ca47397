// Builds the StateStore named by the config's `state:` section.
import { MemoryStateStore, type MemoryStateStoreOptions } from './memory.js';
import type { RedisStateStoreOptions } from './redis.js';
import type { StateStore } from './types.js';

export interface StateStoreConfig {
  /** "memory" (default; one sidecar) or "redis" (a fleet shares one redis-server). */
  store?: 'memory' | 'redis';
  /** Required for "redis": redis://[[user]:password@]host[:port][/db] or rediss://. */
  redis_url?: string;
}

export interface OpenStateStoreOptions {
  /** How long to wait for Redis to answer before returning the store anyway; default 1000 ms. */
  connectWaitMs?: number;
  memory?: MemoryStateStoreOptions;
  redis?: Omit<RedisStateStoreOptions, 'url'>;
}

/**
 * Opens the configured store. A Redis store is returned even when Redis is not reachable yet:
 * its operations reject with StateStoreUnavailable until it connects (by itself), so a
 * sidecar can start, and fail open or closed, while Redis is down. Throws only on bad config.
 */
export async function openStateStore(
  cfg: StateStoreConfig = {},
  opts: OpenStateStoreOptions = {},
): Promise<StateStore> {
  const kind = cfg.store ?? 'memory';
  if (kind === 'memory') return new MemoryStateStore(opts.memory);
  if (kind !== 'redis') throw new Error(`state.store: expected "memory" or "redis" (got ${JSON.stringify(kind)})`);
  if (!cfg.redis_url) throw new Error('state.redis_url is required when state.store is "redis"');
  if (!/^rediss?:\/\//.test(cfg.redis_url)) throw new Error('state.redis_url must start with redis:// or rediss://');
  // ioredis is loaded only when a config names Redis (~15 MB of a sidecar's memory otherwise).
  const { RedisStateStore } = await import('./redis.js');
  const store = new RedisStateStore({ ...opts.redis, url: cfg.redis_url });
  await store.waitReady(opts.connectWaitMs ?? 1000);
  return store;
}
