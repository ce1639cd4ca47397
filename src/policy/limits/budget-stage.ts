// Budgets: reserve before the first attempt, settle to the actual cost after. Every budget a
// request falls under is reserved atomically in the shared store (a virtual key's, its routing
// config's per-day budget, and per-metadata budgets such as one per user), so concurrent
// requests cannot overspend together; a reservation a killed sidecar never settles expires
// after the request deadline plus 60 s.
import { hash, randomUUID } from 'node:crypto';
import type { ConfigBudgetSpec, MetadataBudgetSpec } from '../config.js';
import { BudgetExceededError } from '../errors.js';
import { estimate } from '../estimate.js';
import type { Next, PipelineContext, Stage } from '../pipeline.js';
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

// A key's and a routing config's budgets are the same objects for every request until the next
// reload (keys and routing objects are rebuilt then): made once, not per request.
const keyBudgets = new WeakMap<object, Budget>();

function keyBudget(key: NonNullable<PipelineContext['key']>): Budget | undefined {
  const b = key.spec.budget;
  if (!b) return undefined;
  let out = keyBudgets.get(key);
  if (!out) {
    const usd = b.max_cost_usd !== undefined;
    out = {
      key: `vk:${key.name}`,
      owner: `virtual key "${key.name}"`,
      unit: usd ? 'usd' : 'tokens',
      limit: usd ? usdToNano(b.max_cost_usd!) : b.max_tokens!,
      period: b.period as BudgetPeriod,
      reserveOutputTokens: b.reserve_output_tokens,
    };
    keyBudgets.set(key, out);
  }
  return out;
}

function configBudget(ctx: PipelineContext): Budget | undefined {
  const cfg = ctx.routing.budget as ConfigBudgetSpec | undefined;
  if (!cfg) return undefined;
  let out = keyBudgets.get(ctx.routing);
  if (!out) {
    const usd = cfg.max_cost_per_day !== undefined;
    out = {
      key: `cfg:${ctx.configId}`,
      owner: `config "${ctx.configId}"`,
      unit: usd ? 'usd' : 'tokens',
      limit: usd ? usdToNano(cfg.max_cost_per_day!) : cfg.max_tokens_per_day!,
      period: '1d',
      reserveOutputTokens: cfg.reserve_output_tokens,
    };
    keyBudgets.set(ctx.routing, out);
  }
  return out;
}

/** Every budget this request falls under. */
export function budgetsFor(ctx: PipelineContext): Budget[] {
  const out: Budget[] = [];
  const kb = ctx.key && keyBudget(ctx.key);
  if (kb) out.push(kb);
  const cb = configBudget(ctx);
  if (cb) out.push(cb);
  const rules = ctx.routing.budgets as MetadataBudgetSpec[] | undefined;
  rules?.forEach((rule, i) => {
    const values: string[] = [];
    for (const [path, want] of Object.entries(rule.match)) {
      const v = ctx.metadata[path.slice('metadata.'.length)];
      if (v === undefined || (want !== '*' && want !== v)) return;
      values.push(v);
    }
    const who = hash('sha256', values.join('\u0000'), 'hex').slice(0, 24);
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
  const ops = store.local ?? store;
  type Held = { b: Budget; windowId: string; windowEndsAt: number | null; id: string };
  const settle = (what: string, h: Held, actual: number) =>
    afterwards(what, () =>
      ops.settle(h.b.key, { windowId: h.windowId, windowEndsAt: h.windowEndsAt, reservationId: h.id, actual }),
    );

  async function metered(ctx: PipelineContext, next: Next, budgets: Budget[]) {
    const t = now();
    const ttlMs = Math.max(1, ctx.deadlineAt - t) + ORPHAN_GRACE_MS;
    const held: Held[] = [];
    let reservedUsd = 0;
    let worst = 0;
    for (const b of budgets) {
      const est = estimate(ctx.file, ctx.routing, ctx.body, b.reserveOutputTokens, ctx.price);
      const amount =
        b.unit === 'usd' ? Math.ceil((est.costUsd ?? 0) * NANO_PER_USD) : est.inputTokens + est.outputTokens;
      const w = windowAt(b.period, t);
      const id = randomUUID();
      let d = admitWith(onStoreError, ctx, () =>
        ops.reserve(b.key, {
          windowId: w.id,
          windowEndsAt: w.endsAt,
          limit: b.limit,
          amount,
          reservationId: id,
          ttlMs,
        }),
      );
      if (d instanceof Promise) d = await d;
      if (!d) continue; // failing open: unmetered
      if (!d.ok) {
        await Promise.all(held.map((h) => settle('budget release', h, 0)));
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
      // settles what its attempts reported. Not awaited: the answer does not wait for the
      // store; until the settle lands, the budget holds the reservation in place of the cost.
      const spentNano = usdToNano(ctx.usage.costUsd);
      for (const h of held) void settle('budget settle', h, h.b.unit === 'usd' ? spentNano : ctx.usage.tokens);
    }
  }

  return {
    name: 'budget',
    handle(ctx, next) {
      const budgets = budgetsFor(ctx);
      return budgets.length === 0 ? next(ctx) : metered(ctx, next, budgets);
    },
  };
}
