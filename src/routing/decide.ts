// The routing decision: a pure function of the config node, the request and target health
// (plus a random source for weighted choice). It returns the children to try, in order.
import type { TargetSpec } from '../config/schema.js';
import { latencyPick, rankAll, weightedPick } from './balancer.js';
import type { BreakerState } from './health.js';
import { matches, type ConditionInput } from './conditions.js';
import { healthKey, inherit, isLeaf, type Inherited } from './tree.js';

export interface DecisionInput extends ConditionInput {
  health: (key: string) => BreakerState;
  rng: () => number;
  /** The latency balancer's score of a leaf's health key (PeakEWMA × load; lower is better). */
  score?: (key: string) => number;
  /** A hedged group needs every candidate in order, not only loadbalance's one pick. */
  ranked?: boolean;
}

export type Decision = { order: number[] } | { error: string };

function healthy(node: TargetSpec, settings: Inherited, input: DecisionInput): boolean {
  if (isLeaf(node)) return input.health(healthKey(node, settings, input.params.model)) !== 'open';
  return node.targets!.some((c) => healthy(c, inherit(settings, c), input));
}

/** A child's score: a leaf's own; a nested group's best leaf. */
function score(node: TargetSpec, settings: Inherited, input: DecisionInput): number {
  if (isLeaf(node)) return input.score?.(healthKey(node, settings, input.params.model)) ?? 0;
  return Math.min(...node.targets!.map((c) => score(c, inherit(settings, c), input)));
}

export function decide(node: TargetSpec, settings: Inherited, input: DecisionInput): Decision {
  const children = node.targets ?? [];
  const mode = node.strategy?.mode ?? 'single';
  // Only fallback and loadbalance look at health: single and conditional do not walk the subtree.
  const healthOf = () => children.map((c) => healthy(c, inherit(settings, c), input));
  switch (mode) {
    case 'single':
      return { order: [0] };
    case 'fallback': {
      // Healthy targets first in config order; open-breaker ones stay as a last resort.
      const isHealthy = healthOf();
      const idx = children.map((_c, i) => i);
      return { order: [...idx.filter((i) => isHealthy[i]), ...idx.filter((i) => !isHealthy[i])] };
    }
    case 'loadbalance': {
      const weights = children.map((c) => c.weight ?? 1);
      const positive = weights.map((_w, i) => i).filter((i) => weights[i] > 0);
      if (positive.length === 0) return { error: 'loadbalance has no target with weight > 0' };
      const isHealthy = healthOf();
      const live = positive.filter((i) => isHealthy[i]);
      const pool = live.length ? live : positive;
      const pick =
        node.strategy?.balancer === 'latency'
          ? (c: readonly number[]) =>
              latencyPick(c, weights, (i) => score(children[i], inherit(settings, children[i]), input), input.rng)
          : (c: readonly number[]) => weightedPick(c, weights, input.rng);
      if (!input.ranked) return { order: [pick(pool)] };
      // Hedges go to healthy targets only; unhealthy ones stay last as for fallback.
      const rest = positive.filter((i) => !pool.includes(i));
      return { order: [...rankAll(pool, pick), ...rest] };
    }
    case 'conditional': {
      const byName = new Map(children.map((c, i) => [c.name, i]));
      for (const cond of node.strategy?.conditions ?? []) {
        if (matches(cond.query, input)) {
          const i = byName.get(cond.then);
          return i === undefined ? { error: `conditional target "${cond.then}" not found` } : { order: [i] };
        }
      }
      const d = node.strategy?.default;
      if (d === undefined) return { error: 'no condition matched and the conditional strategy has no default' };
      const i = byName.get(d);
      return i === undefined ? { error: `default target "${d}" not found` } : { order: [i] };
    }
  }
}
