// Budgets: reserve before the first attempt, settle to the actual cost after. Every budget a
// request falls under is reserved atomically in the shared store (a virtual key's, its routing
// config's per-day budget, and per-metadata budgets such as one per user), so concurrent
// requests cannot overspend together; a reservation a killed sidecar never settles expires
// after the request deadline plus 60 s.
import { createHash, randomUUID } from 'node:crypto';
import type { ConfigBudgetSpec, MetadataBudgetSpec } from '../config.js';
import { BudgetExceededError } from '../errors.js';
import { estimate } from '../estimate.js';
import type { PipelineContext, Stage } from '../pipeline.js';
import type { StateStore } from '../state/types.js';
import { budgetWindow, type BudgetPeriod, type BudgetWindow } from './windows.js';
import { admitWith, afterwards, type OnStoreError } from './store-errors.js';

/** Money is counted in integer nano-USD: sums are exact, and a 25-token request still counts. */
export const NANO_PER_USD = 1e9;
export const usdToNano = (usd: number) => Math.round(usd * NANO_PER_USD);
const ORPHAN_GRACE_MS = 60_000;

export interface Budget {
  /** Store key of the counter. */
  key: string;
  /** Who it belongs to, for messages: 'virtual key "x"', 'config "prod"', … */
  owner: string;
  unit: 'usd' | 'tokens';
  /** In store units: nano-USD or tokens. */
  limit: number;
  period: BudgetPeriod;
  reserveOutputTokens: number;
}

/** Every budget this request falls under. */
export function budgetsFor(ctx: PipelineContext): Budget[] {
  const out: Budget[] = [];
  const b = ctx.key?.spec.budget;
  if (ctx.key && b) {
    const usd = b.max_cost_usd !== undefined;
    out.push({
      key: `vk:${ctx.key.name}`,
      owner: `virtual key "${ctx.key.name}"`,
      unit: usd ? 'usd' : 'tokens',
      limit: usd ? usdToNano(b.max_cost_usd!) : b.max_tokens!,
      period: b.period as BudgetPeriod,
      reserveOutputTokens: b.reserve_output_tokens,
    });
  }
  const cfg = ctx.routing.budget as ConfigBudgetSpec | undefined;
  if (cfg) {
    const usd = cfg.max_cost_per_day !== undefined;
    out.push({
      key: `cfg:${ctx.configId}`,
      owner: `config "${ctx.configId}"`,
      unit: usd ? 'usd' : 'tokens',
      limit: usd ? usdToNano(cfg.max_cost_per_day!) : cfg.max_tokens_per_day!,
      period: '1d',
      reserveOutputTokens: cfg.reserve_output_tokens,
    });
  }
  ((ctx.routing.budgets as MetadataBudgetSpec[] | undefined) ?? []).forEach((rule, i) => {
    const values: string[] = [];
    for (const [path, want] of Object.entries(rule.match)) {
      const v = ctx.metadata[path.slice('metadata.'.length)];
      if (v === undefined || (want !== '*' && want !== v)) return;
      values.push(v);
    }
    const who = createHash('sha256').update(values.join('\u0000')).digest('hex').slice(0, 24);
    const usd = rule.max_cost_usd !== undefined;
    out.push({
      key: `md:${ctx.configId}:${i}:${who}`,
      owner: `budget ${i} of config "${ctx.configId}" for ${Object.keys(rule.match).join(', ')} = ${values.join(', ')}`,
      unit: usd ? 'usd' : 'tokens',
      limit: usd ? usdToNano(rule.max_cost_usd!) : rule.max_tokens!,
      period: rule.period as BudgetPeriod,
      reserveOutputTokens: rule.reserve_output_tokens,
    });
  });
  return out;
}

const show = (b: Budget, units: number) =>
  b.unit === 'usd' ? `$${(units / NANO_PER_USD).toFixed(6)}` : `${units} tokens`;

export function createBudgetStage(store: StateStore, onStoreError: OnStoreError, now: () => number = Date.now): Stage {
  // The current window of each period, recomputed only when time leaves it.
  const windows = new Map<BudgetPeriod, BudgetWindow>();
  const windowAt = (period: BudgetPeriod, t: number): BudgetWindow => {
    const w = windows.get(period);
    if (w && t >= w.startsAt && (w.endsAt === null || t < w.endsAt)) return w;
    const fresh = budgetWindow(period, t);
    windows.set(period, fresh);
    return fresh;
  };
  return {
    name: 'budget',
    async handle(ctx, next) {
      const budgets = budgetsFor(ctx);
      if (budgets.length === 0) return next(ctx);
      const t = now();
      const ttlMs = Math.max(1, ctx.deadlineAt - t) + ORPHAN_GRACE_MS;
      const held: Array<{ b: Budget; windowId: string; windowEndsAt: number | null; id: string }> = [];
      const release = () =>
        Promise.all(
          held.map((h) =>
            afterwards('budget release', () =>
              store.settle(h.b.key, {
                windowId: h.windowId,
                windowEndsAt: h.windowEndsAt,
                reservationId: h.id,
                actual: 0,
              }),
            ),
          ),
        );
      let reservedUsd = 0;
      let worst = 0;
      for (const b of budgets) {
        const est = estimate(ctx.file, ctx.routing, ctx.body, b.reserveOutputTokens, ctx.price);
        const amount =
          b.unit === 'usd' ? Math.ceil((est.costUsd ?? 0) * NANO_PER_USD) : est.inputTokens + est.outputTokens;
        const w = windowAt(b.period, t);
        const id = randomUUID();
        const d = await admitWith(onStoreError, ctx, () =>
          store.reserve(b.key, {
            windowId: w.id,
            windowEndsAt: w.endsAt,
            limit: b.limit,
            amount,
            reservationId: id,
            ttlMs,
          }),
        );
        if (!d) continue; // failing open: unmetered
        if (!d.ok) {
          await release();
          throw new BudgetExceededError(
            `budget of ${b.owner} is exhausted: ${show(b, d.used)} used and ${show(b, d.reserved)} reserved of ${show(b, b.limit)} this ${b.period === 'never' ? 'lifetime' : `period (${b.period}, UTC)`}`,
          );
        }
        held.push({ b, windowId: w.id, windowEndsAt: w.endsAt, id });
        if (b.unit === 'usd') reservedUsd += amount / NANO_PER_USD;
        worst = Math.max(worst, (d.used + d.reserved) / b.limit);
      }
      if (held.length > 0) {
        ctx.attributes['switchyard.budget.reserved_usd'] = reservedUsd;
        ctx.attributes['switchyard.budget.usage'] = Math.round(worst * 1e4) / 1e4;
      }
      try {
        return await next(ctx);
      } finally {
        // What the attempts cost, failed ones the provider billed included; a cancelled client
        // settles what its attempts reported.
        // Not awaited: the answer does not wait for the store; until the settle lands, the
        // budget holds the reservation in place of the actual cost.
        const spentNano = usdToNano(ctx.usage.costUsd);
        void Promise.all(
          held.map((h) =>
            afterwards('budget settle', () =>
              store.settle(h.b.key, {
                windowId: h.windowId,
                windowEndsAt: h.windowEndsAt,
                reservationId: h.id,
                actual: h.b.unit === 'usd' ? spentNano : ctx.usage.tokens,
              }),
            ),
          ),
        );
      }
    },
  };
}
