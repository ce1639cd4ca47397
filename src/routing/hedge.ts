// Hedged requests ("The Tail at Scale"): when a group's first target has not produced a first
// byte (stream) or an answer (non-stream) after the delay, the next target in the group's order
// starts beside it; the first to produce one claims the request and the others are aborted at
// once (their upstream connections closed). Hedges spend the group's budget (hedge-budget.ts).
// Only before the first byte reaches the client: a claimed stream is the client's, whatever
// happens to it afterwards.
import { AbortReason } from './outcome.js';
import type { TokenBucket } from './hedge-budget.js';

/** Something that may take the request: a slot of an enclosing race, or nothing (always yes). */
export interface Claimant {
  readonly hedge?: boolean;
  claim(): boolean;
}

/** One runner of a race: its own abort signal (its parent's, plus its own cancel) and its claim. */
export class Slot implements Claimant {
  private readonly controller = new AbortController();
  readonly signal = this.controller.signal;
  /** The attempt running in this slot now (its target's health key), for the overdue signal. */
  current?: { key: string; startedAt: number };
  // Forwarding by hand: AbortSignal.any keeps signals alive on Node 20 (see attempt.ts).
  private readonly onParent = () => this.controller.abort(this.parent.reason);

  constructor(
    private readonly race: Race,
    /** Started as a hedge (here or in an enclosing race). */
    readonly hedge: boolean,
    private readonly parent: AbortSignal,
  ) {
    if (parent.aborted) this.controller.abort(parent.reason);
    else parent.addEventListener('abort', this.onParent, { once: true });
  }

  claim(): boolean {
    return this.race.claim(this);
  }

  cancel(): void {
    this.controller.abort(new AbortReason('hedge'));
  }

  dispose(): void {
    this.parent.removeEventListener('abort', this.onParent);
  }
}

export class Race {
  winner?: Slot;
  private readonly slots: Slot[] = [];

  constructor(private readonly outer?: Claimant) {}

  slot(hedge: boolean, parent: AbortSignal): Slot {
    const s = new Slot(this, hedge || this.outer?.hedge === true, parent);
    this.slots.push(s);
    return s;
  }

  claim(slot: Slot): boolean {
    if (this.winner) return this.winner === slot;
    if (this.outer && !this.outer.claim()) return false;
    this.winner = slot;
    for (const s of this.slots) if (s !== slot) s.cancel();
    return true;
  }
}

export interface RacePlan {
  /** The group's children, in the order to try them. */
  candidates: readonly number[];
  maxAttempts: number;
  /** undefined: no hedge this time (no delay known yet, or hedging off for the request). */
  delayMs?: number;
  budget?: TokenBucket;
  /**
   * The delay passed without a first byte (hedge or not, budget or not): the running attempts'
   * targets are at least that slow, which the balancer should know now rather than when they answer.
   */
  overdue?(running: readonly Slot[]): void;
  /** After every running attempt failed: go on with the next candidate (the group's fallback rule)? */
  fallback(failed: RaceRunResult): boolean;
}

export interface RaceRunResult {
  ok: boolean;
  outcome?: string;
}

export interface RaceSummary<R> {
  result: R;
  /** Hedges started, and hedges the budget refused. */
  hedges: number;
  throttled: number;
}

type Settled<R> = { kind: 'done'; r: R; slot: Slot; p: Promise<Settled<R>> } | { kind: 'timer' };

/** Runs a group's candidates as a race; `run` runs one child in a slot. */
export async function runRace<R extends RaceRunResult>(
  plan: RacePlan,
  race: Race,
  signal: AbortSignal,
  run: (child: number, slot: Slot) => Promise<R>,
  now: () => number = Date.now,
): Promise<RaceSummary<R>> {
  const running = new Map<Promise<Settled<R>>, Slot>();
  let next = 0;
  let started = 0;
  let lastStart = 0;
  let hedges = 0;
  let throttled = 0;
  let last: R | undefined;
  const start = (hedge: boolean) => {
    const child = plan.candidates[next++];
    started++;
    lastStart = now();
    const slot = race.slot(hedge, signal);
    const p: Promise<Settled<R>> = run(child, slot).then((r) => ({ kind: 'done', r, slot, p }));
    running.set(p, slot);
  };
  plan.budget?.request();
  start(false);
  while (running.size > 0) {
    const hedgeable =
      throttled === 0 &&
      plan.delayMs !== undefined &&
      plan.budget !== undefined &&
      race.winner === undefined &&
      next < plan.candidates.length &&
      started < plan.maxAttempts &&
      !signal.aborted;
    let timer: NodeJS.Timeout | undefined;
    const waits: Promise<Settled<R>>[] = [...running.keys()];
    if (hedgeable) {
      const ms = Math.max(0, lastStart + plan.delayMs! - now());
      waits.push(new Promise((resolve) => (timer = setTimeout(() => resolve({ kind: 'timer' }), ms))));
    }
    const ev = await Promise.race(waits);
    clearTimeout(timer);
    if (ev.kind === 'timer') {
      plan.overdue?.([...running.values()]);
      if (plan.budget!.tryHedge()) {
        hedges++;
        start(true);
      } else throttled++; // one refusal ends this request's hedging: the budget is what it is
      continue;
    }
    running.delete(ev.p);
    ev.slot.dispose();
    if (ev.r.ok) {
      // The losers were aborted when this one claimed; wait for them so their attempts are recorded.
      await Promise.allSettled(running.keys());
      return { result: ev.r, hedges, throttled };
    }
    if (last === undefined || ev.r.outcome !== 'cancelled') last = ev.r;
    if (ev.r.outcome !== 'cancelled') plan.budget?.failure();
    if (race.winner !== undefined) continue; // a loser: the winner is still running
    if (running.size === 0 && next < plan.candidates.length && !signal.aborted && plan.fallback(ev.r)) start(false);
  }
  return { result: last!, hedges, throttled };
}
