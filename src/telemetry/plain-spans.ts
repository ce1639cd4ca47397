// Spans as plain ReadableSpan objects, made as the SDK's Tracer and SpanImpl (sdk-trace 2.12)
// make them, for the calls span-builder.ts makes: the same sampler call and decision, ids,
// parent, trace state, hrtime conversion, attribute and event limits, and the same resource,
// scope and span processor chain, taken from the SDK tracer the pipeline builds. Why: the SDK's
// span machinery (two Date/performance reads per span, a sanitising copy per setAttributes
// call, a per-key validation path) was ~32 µs of the export worker's ~40 µs per request.
// test/telemetry/plain-spans.test.ts proves the exported bytes equal to the SDK path's.
import {
  diag,
  INVALID_SPAN_CONTEXT,
  SamplingDecision,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
  type Attributes,
  type AttributeValue,
  type Context,
  type HrTime,
  type Link,
  type Span,
  type SpanAttributeValue,
  type SpanContext,
  type SpanOptions,
  type SpanStatus,
  type TimeInput,
  type Tracer,
} from '@opentelemetry/api';
import {
  isAttributeValue,
  isTracingSuppressed,
  sanitizeAttributes,
  type InstrumentationScope,
} from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, Sampler, SpanLimits, SpanProcessor, TimedEvent } from '@opentelemetry/sdk-trace-base';
import type { PresetIds } from './span-builder.js';

/** What the SDK tracer attaches to every span it makes. */
export interface SpanMachinery {
  resource: Resource;
  scope: InstrumentationScope;
  sampler: Sampler;
  limits: SpanLimits;
  processor: SpanProcessor;
}

/** The SDK tracer's own sampler, limits, resource, scope and processor chain (its fields are not
 *  public API, so a renamed one fails here, at start, rather than exporting something else). */
export function machineryOf(tracer: Tracer): SpanMachinery {
  const t = tracer as unknown as {
    _resource?: Resource;
    instrumentationScope?: InstrumentationScope;
    _sampler?: Sampler;
    _spanLimits?: SpanLimits;
    _spanProcessor?: SpanProcessor;
  };
  if (!t._resource || !t.instrumentationScope || !t._sampler || !t._spanLimits || !t._spanProcessor)
    throw new Error('plain spans: the SDK tracer no longer has the fields they copy');
  return {
    resource: t._resource,
    scope: t.instrumentationScope,
    sampler: t._sampler,
    limits: t._spanLimits,
    processor: t._spanProcessor,
  };
}

// Epoch ms are always above any performance.now() reading (uptime); only smaller numbers take
// the SDK's performance-timestamp branch, which needs the clock.
const EPOCH_FLOOR = 1e12;

function millisToHrTime(ms: number): HrTime {
  return [Math.trunc(ms / 1000), Math.round((ms % 1000) * 1e6)];
}

function addHrTimes(a: HrTime, b: HrTime): HrTime {
  const out: HrTime = [a[0] + b[0], a[1] + b[1]];
  if (out[1] >= 1e9) {
    out[1] -= 1e9;
    out[0] += 1;
  }
  return out;
}

const hasOwn = Object.prototype.hasOwnProperty;
// Shared until written: most spans have no links or events, and nothing reads the end time or
// duration before end() sets them (fewer young-generation objects per span).
const NO_LINKS: Link[] = Object.freeze([]) as unknown as Link[];
const NO_EVENTS: TimedEvent[] = Object.freeze([]) as unknown as TimedEvent[];
const UNSET: SpanStatus = Object.freeze({ code: SpanStatusCode.UNSET });
const NOT_ENDED: HrTime = Object.freeze([0, 0]) as unknown as HrTime;
const NO_DURATION: HrTime = Object.freeze([-1, -1]) as unknown as HrTime;

export class PlainTracer implements Tracer {
  constructor(
    private readonly m: SpanMachinery,
    private readonly ids: PresetIds,
  ) {}

  /** Tracer.startSpan: the sampler decides (NOT_RECORD gives the API's non-recording span). */
  startSpan(name: string, options: SpanOptions = {}, context: Context): Span {
    if (options.root) context = trace.deleteSpan(context);
    if (isTracingSuppressed(context)) return trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
    const parentSpanContext = trace.getSpan(context)?.spanContext();
    const spanId = this.ids.generateSpanId();
    let traceId: string;
    let traceState: SpanContext['traceState'];
    let validParent: SpanContext | undefined;
    if (!parentSpanContext || !trace.isSpanContextValid(parentSpanContext)) traceId = this.ids.generateTraceId();
    else {
      traceId = parentSpanContext.traceId;
      traceState = parentSpanContext.traceState;
      validParent = parentSpanContext;
    }
    const kind = options.kind ?? SpanKind.INTERNAL;
    const links: Link[] = (options.links ?? []).map((l) => ({
      context: l.context,
      attributes: sanitizeAttributes(l.attributes),
    }));
    const attributes = sanitizeAttributes(options.attributes);
    const result = this.m.sampler.shouldSample(context, traceId, name, kind, attributes, links);
    traceState = result.traceState ?? traceState;
    const traceFlags = result.decision === SamplingDecision.RECORD_AND_SAMPLED ? TraceFlags.SAMPLED : TraceFlags.NONE;
    const spanContext: SpanContext = { traceId, spanId, traceFlags, traceState };
    if (result.decision === SamplingDecision.NOT_RECORD) return trace.wrapSpanContext(spanContext);
    const span = new PlainSpan(this.m, spanContext, name, kind, validParent, options.startTime);
    if (links.length) span.addLinks(links);
    // The SDK sets the (sanitised) start attributes the sampler may have added to.
    if (result.attributes || options.attributes)
      span.setAttributes(sanitizeAttributes(Object.assign(attributes, result.attributes)));
    this.m.processor.onStart(span as never, context);
    return span;
  }

  startActiveSpan(): never {
    throw new Error('plain spans: startActiveSpan is not used by the span builder');
  }
}

/** SpanImpl's recording behaviour, as a ReadableSpan the processors and serialisers take. */
class PlainSpan implements ReadableSpan, Span {
  attributes: Attributes = {};
  links: Link[] = NO_LINKS;
  events: TimedEvent[] = NO_EVENTS;
  startTime: HrTime;
  endTime: HrTime = NOT_ENDED;
  duration: HrTime = NO_DURATION;
  status: SpanStatus = UNSET;
  ended = false;
  droppedAttributesCount = 0;
  droppedEventsCount = 0;
  droppedLinksCount = 0;
  resource: Resource;
  instrumentationScope: InstrumentationScope;
  private attributesCount = 0;
  private offset: number | undefined;

  constructor(
    private readonly m: SpanMachinery,
    private readonly ctx: SpanContext,
    public name: string,
    public readonly kind: SpanKind,
    public readonly parentSpanContext: SpanContext | undefined,
    start: TimeInput | undefined,
  ) {
    this.resource = m.resource;
    this.instrumentationScope = m.scope;
    this.startTime = this.time(start ?? Date.now());
  }

  /** SpanImpl._getTime, for a span whose start time was given (span-builder always gives one). */
  private time(inp: TimeInput | undefined): HrTime {
    if (typeof inp === 'number') {
      if (inp < EPOCH_FLOOR && inp <= performance.now()) {
        // A performance timestamp; the SDK measures this offset once per span.
        this.offset ??= Date.now() - (performance.now() + performance.timeOrigin);
        return addHrTimes(millisToHrTime(performance.timeOrigin), millisToHrTime(inp + this.offset));
      }
      return millisToHrTime(inp);
    }
    if (inp instanceof Date) return millisToHrTime(inp.getTime());
    if (Array.isArray(inp)) return inp as HrTime;
    return millisToHrTime(Date.now());
  }

  spanContext(): SpanContext {
    return this.ctx;
  }

  setAttribute(key: string, value?: SpanAttributeValue): this {
    if (value == null || this.ended) return this;
    if (key.length === 0) {
      diag.warn(`Invalid attribute key: ${key}`);
      return this;
    }
    const t = typeof value;
    if (t !== 'string' && t !== 'number' && t !== 'boolean' && !isAttributeValue(value)) {
      diag.warn(`Invalid attribute value set for key: ${key}`);
      return this;
    }
    const limit = this.m.limits.attributeCountLimit;
    // Stored values are never undefined, so only a defined one needs the own-property check.
    const isNew = this.attributes[key] === undefined || !hasOwn.call(this.attributes, key);
    if (limit !== undefined && this.attributesCount >= limit && isNew) {
      this.droppedAttributesCount++;
      return this;
    }
    this.attributes[key] = this.truncate(value);
    if (isNew) this.attributesCount++;
    return this;
  }

  setAttributes(attributes: Attributes): this {
    for (const key in attributes) if (hasOwn.call(attributes, key)) this.setAttribute(key, attributes[key]);
    return this;
  }

  addEvent(name: string, attributesOrStartTime?: Attributes | TimeInput, timeStamp?: TimeInput): this {
    if (this.ended) return this;
    if (this.events === NO_EVENTS) this.events = [];
    const { eventCountLimit, attributePerEventCountLimit } = this.m.limits;
    if (eventCountLimit === 0) {
      diag.warn('No events allowed.');
      this.droppedEventsCount++;
      return this;
    }
    if (eventCountLimit !== undefined && this.events.length >= eventCountLimit) {
      this.events.shift();
      this.droppedEventsCount++;
    }
    let attrs = attributesOrStartTime;
    if (typeof attrs === 'number' || Array.isArray(attrs) || attrs instanceof Date) {
      if (!(typeof timeStamp === 'number' || Array.isArray(timeStamp) || timeStamp instanceof Date)) timeStamp = attrs;
      attrs = undefined;
    }
    const sanitized = sanitizeAttributes(attrs);
    const attributes: Attributes = {};
    let droppedAttributesCount = 0;
    let count = 0;
    for (const k in sanitized) {
      if (!hasOwn.call(sanitized, k)) continue;
      if (attributePerEventCountLimit !== undefined && count >= attributePerEventCountLimit) {
        droppedAttributesCount++;
        continue;
      }
      attributes[k] = this.truncate(sanitized[k]);
      count++;
    }
    this.events.push({ name, attributes, time: this.time(timeStamp), droppedAttributesCount });
    return this;
  }

  addLink(link: Link): this {
    if (this.ended) return this;
    if (this.links === NO_LINKS) this.links = [];
    const { linkCountLimit, attributePerLinkCountLimit } = this.m.limits;
    if (linkCountLimit === 0) {
      this.droppedLinksCount++;
      return this;
    }
    if (linkCountLimit !== undefined && this.links.length >= linkCountLimit) {
      this.links.shift();
      this.droppedLinksCount++;
    }
    const sanitized = sanitizeAttributes(link.attributes);
    const attributes: Attributes = {};
    let droppedAttributesCount = 0;
    let count = 0;
    for (const k in sanitized) {
      if (!hasOwn.call(sanitized, k)) continue;
      if (attributePerLinkCountLimit !== undefined && count >= attributePerLinkCountLimit) {
        droppedAttributesCount++;
        continue;
      }
      attributes[k] = this.truncate(sanitized[k]);
      count++;
    }
    const out: Link = { context: link.context };
    if (count > 0) out.attributes = attributes;
    if (droppedAttributesCount > 0) out.droppedAttributesCount = droppedAttributesCount;
    this.links.push(out);
    return this;
  }

  addLinks(links: Link[]): this {
    for (const l of links) this.addLink(l);
    return this;
  }

  setStatus(status: SpanStatus): this {
    if (this.ended || status.code === SpanStatusCode.UNSET || this.status.code === SpanStatusCode.OK) return this;
    const next: SpanStatus = { code: status.code };
    if (status.code === SpanStatusCode.ERROR && typeof status.message === 'string') next.message = status.message;
    this.status = next;
    return this;
  }

  updateName(name: string): this {
    if (!this.ended) this.name = name;
    return this;
  }

  end(endTime?: TimeInput): void {
    if (this.ended) return;
    this.endTime = this.time(endTime);
    let s = this.endTime[0] - this.startTime[0];
    let ns = this.endTime[1] - this.startTime[1];
    if (ns < 0) {
      s -= 1;
      ns += 1e9;
    }
    this.duration = [s, ns];
    if (s < 0) {
      // The SDK's rule for an end before the start.
      this.endTime = this.startTime.slice() as HrTime;
      this.duration = [0, 0];
    }
    this.m.processor.onEnding?.(this as never);
    this.ended = true;
    this.m.processor.onEnd(this);
  }

  isRecording(): boolean {
    return !this.ended;
  }

  recordException(): void {
    throw new Error('plain spans: recordException is not used by the span builder');
  }

  /** SpanImpl._truncateToSize. */
  private truncate<V extends AttributeValue | undefined>(value: V): V {
    const limit = this.m.limits.attributeValueLengthLimit ?? 0;
    if (limit <= 0) {
      diag.warn(`Attribute value limit must be positive, got ${limit}`);
      return value;
    }
    if (typeof value === 'string') return (value.length <= limit ? value : value.substring(0, limit)) as V;
    if (Array.isArray(value))
      return value.map((v) => (typeof v === 'string' && v.length > limit ? v.substring(0, limit) : v)) as V;
    return value;
  }
}
