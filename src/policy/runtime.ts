// The sidecar's policy at run time: the shared state store (opened once, reopened only when the
// config's `state:` changes) and the pipeline built from the current config, swapped on every
// reload so that a revoked or rotated key takes effect without a restart.
import type { FileConfig } from '../config/schema.js';
import { logger } from '../logger.js';
import { buildPolicy, type Policy } from './build.js';
import { MemoryStateStore } from './state/memory.js';
import { openStateStore } from './state/open.js';
import type { StateStore } from './state/types.js';

const sameState = (a: FileConfig['state'], b: FileConfig['state']) =>
  a.store === b.store && a.redis_url === b.redis_url;

export class PolicyRuntime {
  private store: StateStore;
  private stateSpec: FileConfig['state'];
  private policy: Policy;

  constructor(file: FileConfig) {
    // Memory until start(): a Redis store is opened asynchronously.
    this.stateSpec = file.state;
    this.store = new MemoryStateStore();
    this.policy = buildPolicy(file, this.store);
  }

  get current(): Policy {
    return this.policy;
  }

  get stateStore(): StateStore {
    return this.store;
  }

  async start(file: FileConfig): Promise<void> {
    await this.apply(file, true);
  }

  /** A reloaded config: new keys and limits now; a new store only if `state:` changed. */
  async update(file: FileConfig): Promise<void> {
    await this.apply(file, false);
  }

  private async apply(file: FileConfig, first: boolean): Promise<void> {
    if (first ? file.state.store !== 'memory' : !sameState(this.stateSpec, file.state)) {
      const next = await openStateStore(file.state);
      const old = this.store;
      this.store = next;
      this.stateSpec = file.state;
      // Requests in flight finish their settle on the old store first.
      setTimeout(() => void old.close().catch(() => {}), 5_000).unref();
      logger.info('policy state store opened', { store: file.state.store });
    }
    this.policy = buildPolicy(file, this.store);
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}
