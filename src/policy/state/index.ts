export * from './types.js';
export { MemoryStateStore, type MemoryStateStoreOptions } from './memory.js';
export { RedisStateStore, type RedisStateStoreOptions } from './redis.js';
export { openStateStore, type StateStoreConfig, type OpenStateStoreOptions } from './open.js';
