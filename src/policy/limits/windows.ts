// Budget periods as fixed UTC windows. A pure function of the clock: every sidecar that reads
// the same clock second computes the same window id, so a fleet shares one counter per window
// without coordinating. Ids are stable strings (they become part of the store's keys).
//
//   1d     one UTC calendar day              id "1d:2026-12-01"        ends at the next 00:00 UTC
//   7d     seven days, Monday 00:00 UTC to   id "7d:2026-11-30"        (the start day; ISO weeks)
//          the next Monday (or from `anchorMs`)
//   30d    thirty days from the Unix epoch   id "30d:2026-11-22"       (the start day)
//          (or from `anchorMs`)
//   month  one UTC calendar month            id "month:2026-12"        ends at the 1st of the next month
//   never  one window for ever              id "never"                endsAt null
//
// `anchorMs` (e.g. a key's creation time) shifts the 7d and 30d windows to start at
// anchor + k * length; windows before the anchor are counted back from it the same way.

export type BudgetPeriod = '1d' | '7d' | '30d' | 'month' | 'never';
export const BUDGET_PERIODS: readonly BudgetPeriod[] = ['1d', '7d', '30d', 'month', 'never'];

export function isBudgetPeriod(x: unknown): x is BudgetPeriod {
  return typeof x === 'string' && (BUDGET_PERIODS as readonly string[]).includes(x);
}

export interface BudgetWindow {
  /** Stable id, e.g. "1d:2026-12-01"; the store keys the counter by it. */
  id: string;
  /** Start, ms since the epoch (0 for "never"). */
  startsAt: number;
  /** End (exclusive), ms since the epoch; null for "never". */
  endsAt: number | null;
}

const DAY = 86_400_000;
/** 1970-01-05T00:00:00Z, the first Monday after the epoch: the default 7d anchor. */
const MONDAY = 4 * DAY;

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function fixed(prefix: string, lengthMs: number, anchorMs: number, nowMs: number): BudgetWindow {
  const k = Math.floor((nowMs - anchorMs) / lengthMs);
  const startsAt = anchorMs + k * lengthMs;
  // A whole-day anchor gives a date id; any other anchor keeps its exact start instant.
  const id = startsAt % DAY === 0 ? day(startsAt) : new Date(startsAt).toISOString();
  return { id: `${prefix}:${id}`, startsAt, endsAt: startsAt + lengthMs };
}

/** The window of `period` that contains `nowMs` (ms since the epoch, UTC). */
export function budgetWindow(period: BudgetPeriod, nowMs: number, opts: { anchorMs?: number } = {}): BudgetWindow {
  if (!Number.isFinite(nowMs)) throw new RangeError(`budget window: invalid time ${nowMs}`);
  switch (period) {
    case '1d':
      return fixed('1d', DAY, 0, nowMs);
    case '7d':
      return fixed('7d', 7 * DAY, opts.anchorMs ?? MONDAY, nowMs);
    case '30d':
      return fixed('30d', 30 * DAY, opts.anchorMs ?? 0, nowMs);
    case 'month': {
      const d = new Date(nowMs);
      const y = d.getUTCFullYear();
      const m = d.getUTCMonth();
      const startsAt = Date.UTC(y, m, 1);
      const endsAt = Date.UTC(y, m + 1, 1);
      return { id: `month:${String(y).padStart(4, '0')}-${String(m + 1).padStart(2, '0')}`, startsAt, endsAt };
    }
    case 'never':
      return { id: 'never', startsAt: 0, endsAt: null };
    default:
      throw new RangeError(
        `budget window: unknown period ${JSON.stringify(period)} (expected one of ${BUDGET_PERIODS.join(', ')})`,
      );
  }
}
