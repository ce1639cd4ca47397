// The request path's side of telemetry: notes what happened (ids, times, outcomes) as plain
// records and hands each finished request to a sink. Building spans and metrics from them is
// span-builder.ts's job, in the export worker, so the event loop pays only for the notes.
import { propagation, ROOT_CONTEXT, trace, isSpanContextValid } from '@opentelemetry/api';
import type { IncomingHttpHeaders } from 'node:http';
import type { Operation } from '../providers/types.js';
import type { AttemptEnd, AttemptInfo, AttemptObserver, RequestObserver } from '../routing/observer.js';
import type { ContentCapture } from './content.js';
import { ids } from './ids.js';
import { nowMs, type AttemptSpanRecord, type ParentRecord, type RequestRecord } from './records.js';
import type { RequestSummary, RequestTelemetry } from './types.js';

function loggingDisabled(h: IncomingHttpHeaders): boolean {
  const v = h['x-switchyard-disable-logging'] ?? h['x-portkey-disable-logging'];
  return (Array.isArray(v) ? v[0] : v)?.trim().toLowerCase() === 'true';
}

export interface RecordSink {
  submit(record: RequestRecord): void;
}

export class RequestRecorder implements RequestTelemetry, RequestObserver {
  readonly traceId: string;
  readonly observer: RequestObserver = this;
  private readonly spanId = ids.generateSpanId();
  private readonly parent?: ParentRecord;
  private readonly start = nowMs();
  private readonly attempts: AttemptSpanRecord[] = [];
  private readonly backoffs: RequestRecord['backoffs'] = [];

  constructor(
    private readonly sink: RecordSink,
    private readonly op: Operation,
    private readonly route: string,
    headers: IncomingHttpHeaders,
    private readonly capture?: ContentCapture,
  ) {
    // x-switchyard-disable-logging / x-portkey-disable-logging: true: no content for this request.
    if (capture && loggingDisabled(headers)) this.capture = undefined;
    // W3C traceparent/tracestate continue the caller's trace; without them a new trace starts.
    const sc = headers.traceparent ? trace.getSpanContext(propagation.extract(ROOT_CONTEXT, headers)) : undefined;
    if (sc && isSpanContextValid(sc)) {
      this.traceId = sc.traceId;
      this.parent = { spanId: sc.spanId, traceFlags: sc.traceFlags, traceState: sc.traceState?.serialize() };
    } else {
      this.traceId = ids.generateTraceId();
    }
  }

  attemptStart(info: AttemptInfo): AttemptObserver {
    const { body, ...rest } = info;
    const rec: AttemptSpanRecord = { spanId: ids.generateSpanId(), info: rest, start: nowMs() };
    if (this.capture) rec.input = this.capture.inputText(body);
    this.attempts.push(rec);
    return {
      firstChunk: (ttftMs) => {
        rec.firstChunk = { time: nowMs(), ttftMs };
      },
      end: (r: AttemptEnd) => {
        rec.end = nowMs();
        const { output, ...result } = r;
        rec.result = result;
        if (this.capture && r.outcome === 'ok') rec.output = this.capture.outputText(output);
      },
    };
  }

  backoff(waitMs: number, afterAttempt: number, reason: 'backoff' | 'retry_after'): void {
    this.backoffs.push({ time: nowMs(), waitMs, afterAttempt, reason });
  }

  finish(s: RequestSummary): void {
    const r = s.result;
    // Only defined fields: the record is structured-cloned to the worker, keys and all.
    const rec: RequestRecord = {
      op: this.op,
      route: this.route,
      traceId: this.traceId,
      spanId: this.spanId,
      start: this.start,
      end: nowMs(),
      switchyardTraceId: s.switchyardTraceId,
      metadata: s.metadata,
      configId: s.configId,
      strategy: s.strategy,
      status: s.status,
      retries: r?.retries ?? 0,
      rescued: r?.rescued ?? false,
      attemptCount: r?.attempts.length ?? 0,
      attempts: this.attempts,
      backoffs: this.backoffs,
    };
    if (this.parent) rec.parent = this.parent;
    if (s.errorType !== undefined) rec.errorType = s.errorType;
    if (s.attributes && Object.keys(s.attributes).length > 0) rec.attributes = s.attributes;
    if (s.events && s.events.length > 0) rec.events = s.events;
    if (r?.streamError !== undefined) rec.streamError = r.streamError;
    const a = r?.answered;
    if (a)
      rec.answered = a.responseModel
        ? { providerName: a.providerName, model: a.model, target: a.target, responseModel: a.responseModel }
        : { providerName: a.providerName, model: a.model, target: a.target };
    this.sink.submit(rec);
  }
}
