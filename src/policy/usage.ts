// What a request actually consumed, seen through the executor's observer: tokens and cost of
// every attempt, failed ones the provider billed included, priced exactly as the attempt spans
// are (telemetry/cost.ts), so budgets settle to what ClickHouse shows.
import type { PriceSpec } from '../config/schema.js';
import type { AttemptEnd, AttemptInfo, RequestObserver } from '../routing/observer.js';
import { attemptCostUsd } from '../telemetry/cost.js';

export type PriceFn = (provider: string, model: string | undefined) => PriceSpec | undefined;

export class UsageTally {
  inputTokens = 0;
  outputTokens = 0;
  costUsd = 0;
  /** Attempts whose cost could not be priced (unknown model price). */
  unpriced = 0;

  constructor(private readonly price: PriceFn) {}

  get tokens(): number {
    return this.inputTokens + this.outputTokens;
  }

  /** `inner` wrapped so that every attempt's end is counted here first. */
  wrap(inner: RequestObserver): RequestObserver {
    return {
      backoff: (w, a, r) => inner.backoff(w, a, r),
      attemptStart: (info: AttemptInfo) => {
        const obs = inner.attemptStart(info);
        return {
          firstChunk: (ms) => obs.firstChunk(ms),
          end: (end: AttemptEnd) => {
            this.add(info, end);
            obs.end(end);
          },
        };
      },
    };
  }

  private add(info: AttemptInfo, end: AttemptEnd): void {
    this.inputTokens += end.usage?.input_tokens ?? 0;
    this.outputTokens += end.usage?.output_tokens ?? 0;
    const c = attemptCostUsd(end, info.providerName, info.model, this.price);
    if (!c.priced) return;
    if (c.usd === undefined) this.unpriced++;
    else this.costUsd += c.usd;
  }
}
