// The semantic index shared through a real redis-server (shared-index.ts): what one sidecar
// stores is found by another, in partitions past EXACT_MAX (searched through the HNSW graph);
// a reader fetches only what is new (one GET per writer head when nothing is); a new entry is
// seen once the refresh window has passed; entries expire. Time is a test clock: no sleeps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalise } from '../../src/policy/cache/semantic.js';
import { REMOTE_REFRESH_MS, SharedSemanticIndex } from '../../src/policy/cache/shared-index.js';
import { EXACT_MAX, VectorIndex } from '../../src/policy/cache/vector-index.js';
import { RedisStateStore } from '../../src/policy/state/redis.js';
import type { StateStore } from '../../src/policy/state/types.js';
import { hasRedisServer, NO_REDIS_MESSAGE, startRedisServer, type RedisServer } from '../helpers/redis.js';

let redis: RedisServer;
let storeA: RedisStateStore;
let storeB: RedisStateStore;

beforeAll(async () => {
  if (!hasRedisServer) {
    console.warn(NO_REDIS_MESSAGE);
    return;
  }
  redis = await startRedisServer();
  const prefix = `semidx${process.pid}:`;
  storeA = new RedisStateStore({ url: redis.url, keyPrefix: prefix });
  storeB = new RedisStateStore({ url: redis.url, keyPrefix: prefix });
  expect(await storeA.waitReady(10_000)).toBe(true);
  expect(await storeB.waitReady(10_000)).toBe(true);
}, 60_000);
afterAll(async () => {
  await storeA?.close();
  await storeB?.close();
  await redis?.stop();
});

const DIMS = 32;
let seed = 3;
const rnd = () => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 2 ** 32 - 0.5;
};
const vec = () => normalise(Float32Array.from({ length: DIMS }, rnd)) as Float32Array;

/** The store with its GETs counted. */
function counting(store: StateStore): { store: StateStore; gets: () => number } {
  let n = 0;
  const wrapped = Object.create(store, {
    get: {
      value: (key: string) => {
        n++;
        return store.get(key);
      },
    },
  }) as StateStore;
  return { store: wrapped, gets: () => n };
}

describe.skipIf(!hasRedisServer)('semantic index shared through Redis', () => {
  it('finds what another sidecar stored, reads only what is new, sees new entries after the window', async () => {
    let now = Date.now();
    const clock = () => now;
    const a = new SharedSemanticIndex(storeA, new VectorIndex({ maxBytes: 1e8, clock }), clock);
    const counted = counting(storeB);
    const b = new SharedSemanticIndex(counted.store, new VectorIndex({ maxBytes: 1e8, clock }), clock);
    const n = EXACT_MAX + 8;
    const data = Array.from({ length: n }, vec);
    for (let i = 0; i < n; i++) await a.add('part', data[i], `k${i}`, 60_000);

    for (const i of [0, 7, n - 1]) expect((await b.search('part', data[i], 0.99))?.key).toBe(`k${i}`);
    expect(b.local.usesGraph('part')).toBe(true);
    expect(await b.search('other', data[0], 0.5)).toBeUndefined();

    // Nothing new: after the window, a refresh reads the writer list and one head, no entry.
    now += REMOTE_REFRESH_MS;
    const before = counted.gets();
    await b.search('part', data[1], 0.99);
    expect(counted.gets() - before).toBe(2);

    // A new entry: not read inside the window, read (alone) after it.
    const fresh = vec();
    await a.add('part', fresh, 'fresh', 60_000);
    expect(await b.search('part', fresh, 0.99)).toBeUndefined();
    now += REMOTE_REFRESH_MS;
    const before2 = counted.gets();
    expect((await b.search('part', fresh, 0.99))?.key).toBe('fresh');
    expect(counted.gets() - before2).toBe(3);

    // A restarted sidecar is a new writer: its entries are found too.
    const a2 = new SharedSemanticIndex(storeA, new VectorIndex({ maxBytes: 1e8, clock }), clock);
    const late = vec();
    await a2.add('part', late, 'late', 60_000);
    now += REMOTE_REFRESH_MS;
    expect((await b.search('part', late, 0.99))?.key).toBe('late');

    // Past their TTL, entries are no answers any more.
    now += 61_000;
    expect(await b.search('part', data[0], 0.5)).toBeUndefined();
  });
});
