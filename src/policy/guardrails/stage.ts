// The guardrails stage: input checks before anything is called (block → 446, warn → 246,
// redact → the provider sees the redacted text); output checks judge each answer inside the
// executor (ExecRequest.judge), so `retry` is a failed attempt with outcome `guardrail` and the
// routing config goes on. Streams are held until the verdict when a check may block, retry or
// redact; warn-only checks let chunks flow and report in a final frame.
import { GuardrailBlockedError } from '../errors.js';
import type { Answer, ExecResult, Verdict } from '../../routing/executor.js';
import type { Next, PipelineContext, Stage } from '../pipeline.js';
import { guardrailsOf } from './config.js';
import { runPhase, type PhaseOutcome } from './run.js';
import { HeldSink, WatchSink } from './stream.js';
import { inputSlots, outputSlots } from './subject.js';
import type { GuardrailSet, GuardrailVerdict } from './types.js';

/** Default bound of a held stream (text bytes, roughly). */
export const DEFAULT_STREAM_BUFFER_BYTES = 1024 * 1024;

export interface GuardrailStageOptions {
  streamBufferBytes?: number;
}

type HookResults = Record<'before_request_hooks' | 'after_request_hooks', GuardrailVerdict[]>;

class RequestVerdicts {
  before: PhaseOutcome | undefined;
  /** The last judged answer's outcome (the one the client gets, or the last refused one). */
  after: PhaseOutcome | undefined;
  anyFailed = false;

  hookResults(): HookResults {
    return { before_request_hooks: this.before?.verdicts ?? [], after_request_hooks: this.after?.verdicts ?? [] };
  }

  note(o: PhaseOutcome): void {
    if (o.verdicts.some((v) => !v.verdict)) this.anyFailed = true;
  }

  get warned(): boolean {
    return (this.before?.warned ?? false) || (this.after?.warned ?? false);
  }
}

export function createGuardrailStage(opts: GuardrailStageOptions = {}): Stage {
  const bufferBytes = opts.streamBufferBytes ?? DEFAULT_STREAM_BUFFER_BYTES;
  return {
    name: 'guardrails',
    // Synchronous when the config has no guardrails: a pass-through costs no promise of its own.
    handle(ctx, next) {
      const set = guardrailsOf(ctx.routing);
      return set ? guarded(ctx, next, set) : next(ctx);
    },
  };

  async function guarded(ctx: PipelineContext, next: Next, set: GuardrailSet): Promise<ExecResult> {
    const events = (ctx.events ??= []);
    const rv = new RequestVerdicts();
    const model = typeof ctx.body.model === 'string' ? ctx.body.model : '';
    const verdict = (v: 'passed' | 'failed' | 'denied') => (ctx.attributes['switchyard.guardrails.verdict'] = v);

    if (set.input.length) {
      const o = await runPhase(
        set.input,
        inputSlots(ctx.body),
        { model, metadata: ctx.metadata, body: ctx.body },
        events,
      );
      rv.before = o;
      rv.note(o);
      if (o.denied) {
        verdict('denied');
        throw new GuardrailBlockedError(o.message!, rv.hookResults());
      }
      if (o.redacted && ctx.exec.request.adapt) {
        // A route that swaps adapters (POST /v1/messages) may send the client's own body to the
        // provider, not the redacted one: refuse rather than pass the text on unredacted.
        verdict('denied');
        throw new GuardrailBlockedError(
          'input redaction is not supported on this route yet; the request was refused instead of sent unredacted',
          rv.hookResults(),
        );
      }
    }
    // Embeddings answer vectors, not text: output checks have nothing to read there.
    if (set.output.length && ctx.op !== 'embeddings') installOutput(ctx, set, rv, bufferBytes);
    else if (rv.before?.warned && ctx.exec.request.stream && ctx.exec.request.sink) {
      // A stream cannot answer 246: the input's warn verdict rides in a final frame.
      ctx.exec.request.sink = new WatchSink(ctx.exec.request.sink, 0, () => ({ hook_results: rv.hookResults() }));
    }

    let result: ExecResult;
    try {
      result = await next(ctx);
    } catch (e) {
      verdict(rv.anyFailed ? 'failed' : 'passed');
      throw e;
    }
    const deniedByUs =
      result.status === 446 && !result.streamed && rv.after !== undefined && (rv.after.denied || rv.after.retry);
    if (deniedByUs || (result.streamed && result.streamError === 'guardrail')) verdict('denied');
    else verdict(rv.anyFailed ? 'failed' : 'passed');
    if (result.streamed) return result;
    if (deniedByUs) return { ...result, body: { ...result.body, hook_results: rv.hookResults() } };
    if (result.status === 200 && rv.warned)
      return { ...result, status: 246, body: { ...result.body, hook_results: rv.hookResults() } };
    return result;
  }
}

function judged(o: PhaseOutcome): Verdict {
  if (o.denied) return { ok: false, retry: false, message: o.message! };
  if (o.retry) return { ok: false, retry: true, message: o.message! };
  return { ok: true };
}

function installOutput(ctx: PipelineContext, set: GuardrailSet, rv: RequestVerdicts, bufferBytes: number): void {
  const req = ctx.exec.request;
  const events = ctx.events!;
  const holds = set.output.some((g) => g.action !== 'warn');
  const modelOf = (body: Record<string, unknown> | undefined) =>
    typeof body?.model === 'string' ? body.model : typeof ctx.body.model === 'string' ? ctx.body.model : '';
  const record = (o: PhaseOutcome) => {
    rv.after = o;
    rv.note(o);
  };
  const trailer = () => ({ hook_results: rv.hookResults() });

  if (req.stream && req.sink && holds) {
    const held = new HeldSink(req.sink, bufferBytes);
    req.sink = held;
    req.judge = async (answer: Answer, attempt: number): Promise<Verdict> => {
      if (answer.kind !== 'stream') return { ok: true };
      const { slots, commit } = held.assembled.slots();
      const o = await runPhase(
        set.output,
        slots,
        {
          model: modelOf(undefined),
          metadata: ctx.metadata,
          body: { choices: [{ message: { content: slots.map((x) => x.get()).join('') } }] },
          request: ctx.body,
        },
        events,
        attempt,
      );
      if (o.redacted && held.nativeFrames) {
        // The route writes its own frames as they came: a redaction could not reach them, so refuse.
        o.denied = true;
        o.message = 'the answer needed redaction, which this route cannot apply to a stream; refused instead';
      }
      record(o);
      const v = judged(o);
      if (!v.ok) held.discard();
      else {
        if (o.redacted) commit();
        if (o.warned || rv.before?.warned) held.trailer = trailer();
      }
      return v;
    };
    return;
  }
  if (req.stream && req.sink) {
    // Warn only: nothing to hold; the verdict rides in a final frame.
    req.sink = new WatchSink(req.sink, bufferBytes, async (w) => {
      let o: PhaseOutcome;
      if (w.overflow) {
        const verdicts = set.output.map((g) => ({
          id: g.id,
          verdict: false,
          action: g.action,
          deny: false,
          checks: g.checks.map((c) => ({
            id: c.id,
            verdict: false,
            execution_time: 0,
            error: 'the answer exceeded the guardrails buffer and was not checked',
          })),
          execution_time: 0,
        }));
        o = { verdicts, denied: false, retry: false, warned: true, redacted: false };
      } else {
        const slots = w.assembled.slots().slots;
        o = await runPhase(
          set.output,
          slots,
          {
            model: modelOf(undefined),
            metadata: ctx.metadata,
            body: { choices: [{ message: { content: slots.map((x) => x.get()).join('') } }] },
            request: ctx.body,
          },
          events,
        );
      }
      record(o);
      return o.warned || rv.before?.warned ? trailer() : undefined;
    });
    return;
  }
  req.judge = async (answer: Answer, attempt: number): Promise<Verdict> => {
    if (answer.kind !== 'json') return { ok: true };
    const o = await runPhase(
      set.output,
      outputSlots(answer.body),
      { model: modelOf(answer.body), metadata: ctx.metadata, body: answer.body, request: ctx.body },
      events,
      attempt,
    );
    record(o);
    return judged(o);
  };
}
