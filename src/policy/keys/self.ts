// GET /v1/keys/self: what the calling key may do and how much of its budget is left.
import type { IncomingHttpHeaders } from 'node:http';
import { UnauthorizedError } from '../errors.js';
import { budgetWindow, type BudgetPeriod } from '../limits/windows.js';
import { NANO_PER_USD, usdToNano } from '../limits/budget-stage.js';
import type { Policy } from '../build.js';
import type { StateStore } from '../state/types.js';
import { isUsable, presentedKey } from './identify.js';

export async function describeSelf(
  policy: Policy,
  store: StateStore,
  headers: IncomingHttpHeaders,
  now = Date.now(),
): Promise<Record<string, unknown>> {
  const presented = presentedKey(headers);
  const key = presented ? policy.keys.find(presented.secret) : undefined;
  if (!key || !isUsable(key, now)) throw new UnauthorizedError();
  const s = key.spec;
  const out: Record<string, unknown> = {
    name: key.name,
    providers: s.providers ?? null,
    models: s.models ?? null,
    rate_limit: s.rate_limit ?? null,
    expires_at: s.expires_at ?? null,
    budget: null,
  };
  if (s.budget) {
    const w = budgetWindow(s.budget.period as BudgetPeriod, now);
    const st = await store.budgetStatus(`vk:${key.name}`, { windowId: w.id });
    const usd = s.budget.max_cost_usd !== undefined;
    const limit = usd ? usdToNano(s.budget.max_cost_usd!) : s.budget.max_tokens!;
    const conv = (n: number) => (usd ? n / NANO_PER_USD : n);
    out.budget = {
      unit: usd ? 'usd' : 'tokens',
      period: s.budget.period,
      window_ends_at: w.endsAt === null ? null : new Date(w.endsAt).toISOString(),
      limit: conv(limit),
      used: conv(st.used),
      reserved: conv(st.reserved),
      remaining: conv(Math.max(0, limit - st.used - st.reserved)),
    };
  }
  return out;
}
