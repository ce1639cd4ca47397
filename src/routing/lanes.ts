// The executor's bookkeeping around the tree walk: where a subtree runs (its race slot, its
// hedged group's latencies, its leaf siblings for ejection), when a group goes on to its next
// child, and what routing tells the request span.
import type { TargetSpec } from '../config/schema.js';
import type { ExecResult, Failed } from './exec-types.js';
import type { EjectionChange } from './health.js';
import type { HedgeGroupState } from './hedge-budget.js';
import type { Slot } from './hedge.js';

/** Where a subtree runs: the race slot it belongs to, the hedged group's state (its targets' latencies), its leaf siblings. */
export interface Lane {
  slot?: Slot;
  hedgeGroup?: HedgeGroupState;
  group: readonly string[];
}
export const TOP: Lane = { group: [] };

/** Whether a group goes on to its next child after `r` failed (Portkey's fallback rule). */
export function goesOn(r: Failed, fallbackOn: number[] | undefined, streamed: boolean, deadlineAt: number): boolean {
  // A denying guardrail stops here, unless the strategy lists 446 (Portkey's way to fall back on it).
  if (r.outcome === 'cancelled' || streamed || (r.stop && !fallbackOn?.includes(446))) return false;
  if (Date.now() >= deadlineAt) return false;
  // An answer a `retry` guardrail refused goes on to the next target, whatever the statuses listed.
  if (r.outcome === 'guardrail') return true;
  // Fallback on the listed statuses, or on any failure when none are listed (Portkey's rule).
  return !fallbackOn || fallbackOn.includes(r.status);
}

/** A hedged group's budget key: its content, so an unchanged group keeps its budget across reloads. */
const groupKeys = new WeakMap<TargetSpec, string>();
export function groupKey(node: TargetSpec): string {
  let k = groupKeys.get(node);
  if (k === undefined) groupKeys.set(node, (k = JSON.stringify(node)));
  return k;
}

/** What a request's routing did beyond its attempts: hedging and ejections, for the request span. */
export interface RoutingNotes {
  hedged: boolean;
  hedges: number;
  throttled: number;
  hedgeWon: boolean;
  ejections: Array<EjectionChange & { time: number }>;
}

export function newNotes(): RoutingNotes {
  return { hedged: false, hedges: 0, throttled: 0, hedgeWon: false, ejections: [] };
}

/** The request-span attributes and events the notes make (attributes only when the request was hedged). */
export function routingNotes(n: RoutingNotes, winner?: number): Pick<ExecResult, 'spanAttributes' | 'spanEvents'> {
  const out: Pick<ExecResult, 'spanAttributes' | 'spanEvents'> = {};
  if (n.hedged) {
    const a: Record<string, string | number | boolean> = {
      'switchyard.hedges': n.hedges,
      'switchyard.hedge.won': n.hedgeWon,
    };
    if (n.throttled > 0) a['switchyard.hedge.throttled'] = n.throttled;
    if (winner !== undefined) a['switchyard.hedge.winner'] = winner;
    out.spanAttributes = a;
  }
  if (n.ejections.length > 0)
    out.spanEvents = n.ejections.map((c) => ({
      name: 'switchyard.ejection',
      time: c.time,
      attributes: {
        'switchyard.ejection.action': c.action,
        'switchyard.ejection.target': c.key,
        'switchyard.ejection.ewma_ms': Math.round(c.ewmaMs * 10) / 10,
        ...(c.bestMs === undefined ? {} : { 'switchyard.ejection.best_ms': Math.round(c.bestMs * 10) / 10 }),
      },
    }));
  return out;
}
