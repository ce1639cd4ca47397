// Strings the policy stages together for one loaded config, in request order. Built when a
// config loads or reloads (a revoked key is gone at the next reload), around one StateStore.
import type { FileConfig } from '../config/schema.js';
import type { ExecResult } from '../routing/executor.js';
import { builtinPrices, mergePrices, priceLookup } from '../telemetry/pricing.js';
import { createCacheStage } from './cache/stage.js';
import { createGuardrailStage } from './guardrails/stage.js';
import { createIdentifyStage } from './keys/identify.js';
import { KeyRegistry } from './keys/registry.js';
import { createBudgetStage } from './limits/budget-stage.js';
import { createRateLimitStage } from './limits/rate-stage.js';
import { compose, executeTerminal, type PipelineContext, type Stage } from './pipeline.js';
import type { StateStore } from './state/types.js';
import type { PriceFn } from './usage.js';

export interface Policy {
  readonly stages: readonly Stage[];
  readonly keys: KeyRegistry;
  readonly price: PriceFn;
  /** Runs the stages around the executor. */
  run(ctx: PipelineContext): Promise<ExecResult>;
}

export function buildPolicy(file: FileConfig, store: StateStore): Policy {
  const keys = new KeyRegistry(file.virtual_keys);
  const onError = file.state.on_store_error;
  const stages: Stage[] = [
    createIdentifyStage(keys, file.server.require_virtual_key),
    createRateLimitStage(store, onError),
    createBudgetStage(store, onError),
    createGuardrailStage(),
    createCacheStage(store, file),
  ];
  const price = priceLookup(mergePrices(builtinPrices, file.pricing));
  const run = compose(stages, executeTerminal);
  return { stages, keys, price, run };
}
