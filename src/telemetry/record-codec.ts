// Request records as flat positional arrays for the trip to the export worker. A structured
// clone of the record objects cost ~9 µs per request on the request thread (every key and every
// repeated string written out again); flat values with low-cardinality strings (provider, model,
// route, outcome…) interned in a table both sides keep cost ~2 µs. Absent fields travel as
// undefined. The fixture in test/telemetry/record-codec.test.ts is typed with every field
// required, so a field added to records.ts fails to compile there until the codec carries it.
import type { Operation, Usage } from '../providers/types.js';
import type { Outcome } from '../routing/outcome.js';
import type { AttemptSpanRecord, BackoffRecord, RequestRecord } from './records.js';

export type Value = string | number | boolean | undefined | string[];

export interface EncodedBatch {
  /** The decoder must forget its table before reading this batch. */
  reset: boolean;
  /** Strings interned since the previous batch, in id order. */
  strings: string[];
  data: Value[];
}

/** Interned strings come from config and upstream answers (model names); bound the table anyway. */
const MAX_INTERNED = 8192;

export class RecordEncoder {
  private table = new Map<string, number>();
  private fresh: string[] = [];
  private reset = false;
  private data: Value[] = [];

  /** Appends one record to the current batch. */
  add(r: RequestRecord): void {
    if (this.data.length === 0 && this.table.size >= MAX_INTERNED) {
      // Start over at a batch boundary, where no id of the old table is in flight.
      this.table.clear();
      this.fresh = [];
      this.reset = true;
    }
    const d = this.data;
    const p = r.parent;
    const a = r.answered;
    d.push(
      this.s(r.op),
      this.s(r.route),
      r.traceId,
      r.spanId,
      p?.spanId,
      p?.traceFlags,
      p?.traceState,
      r.start,
      r.end,
      r.switchyardTraceId,
    );
    const keys = Object.keys(r.metadata);
    d.push(keys.length);
    for (const k of keys) d.push(this.s(k), r.metadata[k]);
    d.push(
      this.s(r.configId),
      this.s(r.strategy),
      r.status,
      this.s(r.errorType),
      this.s(r.streamError),
      r.retries,
      r.rescued,
    );
    d.push(this.s(a?.providerName), this.s(a?.model), this.s(a?.target), this.s(a?.responseModel), r.attemptCount);
    d.push(r.attempts.length);
    for (const at of r.attempts) this.attempt(at);
    d.push(r.backoffs.length);
    for (const b of r.backoffs) d.push(b.time, b.waitMs, b.afterAttempt, this.s(b.reason));
    const attrs = r.attributes ? Object.keys(r.attributes) : [];
    d.push(attrs.length);
    for (const k of attrs) d.push(this.s(k), r.attributes![k]);
    const events = r.events ?? [];
    d.push(events.length);
    for (const e of events) {
      const ks = Object.keys(e.attributes);
      d.push(this.s(e.name), e.time, ks.length);
      for (const k of ks) d.push(this.s(k), e.attributes[k]);
    }
  }

  /** The batch so far (and the strings it introduced); starts a new one. */
  take(): EncodedBatch {
    const out: EncodedBatch = { reset: this.reset, strings: this.fresh, data: this.data };
    this.reset = false;
    this.fresh = [];
    this.data = [];
    return out;
  }

  private attempt(at: AttemptSpanRecord): void {
    const { info: i, result: x } = at;
    const u = x?.usage;
    this.data.push(
      at.spanId,
      this.s(i.op),
      i.attempt,
      this.s(i.target),
      this.s(i.providerSlug),
      this.s(i.providerName),
      this.s(i.model),
      i.stream,
      this.s(i.serverAddress),
      i.serverPort,
      i.resendCount,
      i.hedge,
      at.start,
      at.end,
      at.firstChunk?.time,
      at.firstChunk?.ttftMs,
      x !== undefined,
      this.s(x?.outcome),
      x?.status,
      u !== undefined,
      u?.input_tokens,
      u?.output_tokens,
      u?.cache_read_tokens,
      u?.cache_write_tokens,
      u?.reasoning_tokens,
      this.s(x?.responseModel),
      x?.responseId,
      x?.finishReasons,
      x?.ttftMs,
      this.s(x?.errorType),
      x?.errorMessage,
      at.input,
      at.output,
    );
  }

  /** Interns a string: its id (a number) travels instead of the text. */
  private s(v: string | undefined): number | undefined {
    if (v === undefined) return undefined;
    let id = this.table.get(v);
    if (id === undefined) {
      id = this.table.size;
      this.table.set(v, id);
      this.fresh.push(v);
    }
    return id;
  }
}

export class RecordDecoder {
  private table: string[] = [];
  private d: Value[] = [];
  private i = 0;

  decode(batch: EncodedBatch): RequestRecord[] {
    if (batch.reset) this.table = [];
    for (const s of batch.strings) this.table.push(s);
    this.d = batch.data;
    this.i = 0;
    const out: RequestRecord[] = [];
    while (this.i < this.d.length) out.push(this.record());
    this.d = [];
    return out;
  }

  private record(): RequestRecord {
    const op = this.str() as Operation;
    const route = this.str()!;
    const traceId = this.raw() as string;
    const spanId = this.raw() as string;
    const parentSpanId = this.raw() as string | undefined;
    const traceFlags = this.raw() as number | undefined;
    const traceState = this.raw() as string | undefined;
    const start = this.num();
    const end = this.num();
    const switchyardTraceId = this.raw() as string;
    const metadata: Record<string, string> = {};
    for (let n = this.num(); n > 0; n--) {
      const k = this.str()!;
      metadata[k] = this.raw() as string;
    }
    const configId = this.str()!;
    const strategy = this.str()!;
    const status = this.num();
    const errorType = this.str();
    const streamError = this.str();
    const retries = this.num();
    const rescued = this.raw() as boolean;
    const providerName = this.str();
    const model = this.str();
    const target = this.str();
    const responseModel = this.str();
    const attemptCount = this.num();
    const attempts: AttemptSpanRecord[] = [];
    for (let n = this.num(); n > 0; n--) attempts.push(this.attempt());
    const backoffs: BackoffRecord[] = [];
    for (let n = this.num(); n > 0; n--)
      backoffs.push({
        time: this.num(),
        waitMs: this.num(),
        afterAttempt: this.num(),
        reason: this.str() as BackoffRecord['reason'],
      });
    let attributes: RequestRecord['attributes'];
    for (let n = this.num(); n > 0; n--) {
      const k = this.str()!;
      (attributes ??= {})[k] = this.raw() as string | number | boolean;
    }
    let events: RequestRecord['events'];
    for (let n = this.num(); n > 0; n--) {
      const name = this.str()!;
      const time = this.num();
      const attrs: Record<string, string | number | boolean> = {};
      for (let m = this.num(); m > 0; m--) {
        const k = this.str()!;
        attrs[k] = this.raw() as string | number | boolean;
      }
      (events ??= []).push({ name, time, attributes: attrs });
    }
    // Only defined fields, as the recorder builds them.
    const r: RequestRecord = {
      op,
      route,
      traceId,
      spanId,
      start,
      end,
      switchyardTraceId,
      metadata,
      configId,
      strategy,
      status,
      retries,
      rescued,
      attemptCount,
      attempts,
      backoffs,
    };
    if (parentSpanId !== undefined)
      r.parent =
        traceState !== undefined
          ? { spanId: parentSpanId, traceFlags: traceFlags!, traceState }
          : { spanId: parentSpanId, traceFlags: traceFlags! };
    if (errorType !== undefined) r.errorType = errorType;
    if (streamError !== undefined) r.streamError = streamError;
    if (attributes !== undefined) r.attributes = attributes;
    if (events !== undefined) r.events = events;
    if (providerName !== undefined)
      r.answered =
        responseModel !== undefined
          ? { providerName, model: model!, target: target!, responseModel }
          : { providerName, model: model!, target: target! };
    return r;
  }

  private attempt(): AttemptSpanRecord {
    const spanId = this.raw() as string;
    const info: AttemptSpanRecord['info'] = {
      op: this.str() as Operation,
      attempt: this.num(),
      target: this.str()!,
      providerSlug: this.str()!,
      providerName: this.str()!,
      model: this.str()!,
      stream: this.raw() as boolean,
      serverAddress: this.str()!,
      serverPort: this.num(),
      resendCount: this.num(),
    };
    if (this.raw() === true) info.hedge = true;
    const at: AttemptSpanRecord = { spanId, info, start: this.num() };
    const end = this.raw() as number | undefined;
    const fcTime = this.raw() as number | undefined;
    const fcTtft = this.raw() as number | undefined;
    const hasResult = this.raw() as boolean;
    const outcome = this.str() as Outcome | undefined;
    const status = this.raw() as number | undefined;
    const hasUsage = this.raw() as boolean;
    const usage = this.usage(hasUsage);
    const responseModel = this.str();
    const responseId = this.raw() as string | undefined;
    const finishReasons = this.raw() as string[] | undefined;
    const ttftMs = this.raw() as number | undefined;
    const errorType = this.str();
    const errorMessage = this.raw() as string | undefined;
    const input = this.raw() as string | undefined;
    const output = this.raw() as string | undefined;
    if (end !== undefined) at.end = end;
    if (fcTime !== undefined) at.firstChunk = { time: fcTime, ttftMs: fcTtft! };
    if (hasResult) {
      const result: NonNullable<AttemptSpanRecord['result']> = { outcome: outcome! };
      if (status !== undefined) result.status = status;
      if (usage) result.usage = usage;
      if (responseModel !== undefined) result.responseModel = responseModel;
      if (responseId !== undefined) result.responseId = responseId;
      if (finishReasons !== undefined) result.finishReasons = finishReasons;
      if (ttftMs !== undefined) result.ttftMs = ttftMs;
      if (errorType !== undefined) result.errorType = errorType;
      if (errorMessage !== undefined) result.errorMessage = errorMessage;
      at.result = result;
    }
    if (input !== undefined) at.input = input;
    if (output !== undefined) at.output = output;
    return at;
  }

  private usage(present: boolean): Usage | undefined {
    const keys = [
      'input_tokens',
      'output_tokens',
      'cache_read_tokens',
      'cache_write_tokens',
      'reasoning_tokens',
    ] as const;
    const u: Usage = {};
    for (const k of keys) {
      const v = this.raw() as number | undefined;
      if (v !== undefined) u[k] = v;
    }
    return present ? u : undefined;
  }

  private raw(): Value {
    return this.d[this.i++];
  }

  private num(): number {
    return this.d[this.i++] as number;
  }

  private str(): string | undefined {
    const id = this.d[this.i++] as number | undefined;
    return id === undefined ? undefined : this.table[id];
  }
}
