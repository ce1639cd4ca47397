// The one executor: walks the target tree as decide() orders it, runs attempts with retries and
// backoff inside the request deadline, and commits a stream to the client at its first chunk.
// Hedged groups run as a race (hedge.ts); every attempt's latency feeds the balancer and ejection.
import type { TargetSpec } from '../config/schema.js';
import type { ProviderError } from '../providers/types.js';
import { resolveProvider } from '../providers/registry.js';
import { backoffMs, DEFAULT_RETRY_STATUS } from './backoff.js';
import { abortSignalOf } from './client-link.js';
import { decide } from './decide.js';
import type { RequestObserver } from './observer.js';
import { runAttempt, type AttemptFailure, type StreamSuccess } from './attempt.js';
import { relay, streamAttemptEnd } from './stream-relay.js';
import type { AttemptRecord, ExecEnv, ExecRequest, ExecResult, Failed, Json, NodeResult } from './exec-types.js';
import {
  clientStatus,
  guardrailFailure,
  parsedUrl,
  RETRYABLE_OUTCOMES,
  sleep,
  translationFailure,
} from './exec-util.js';
import { goesOn, groupKey, type Lane, newNotes, routingNotes, TOP } from './lanes.js';
import { Race, runRace } from './hedge.js';
import type { Outcome } from './outcome.js';
import { healthKey, inherit, isLeaf, leafModel, ROOT, type Inherited } from './tree.js';

export type {
  Answer,
  AttemptRecord,
  ExecEnv,
  ExecRequest,
  ExecResult,
  StreamSink,
  Verdict,
} from './exec-types.js';

export class Execution {
  readonly attempts: AttemptRecord[] = [];
  retries = 0;
  private answered?: ExecResult['answered'];
  private okBody?: Json;
  private streamed = false;
  private streamError?: Outcome;
  private readonly rng: () => number;
  private started = 0;
  private readonly notes = newNotes();

  constructor(
    private readonly req: ExecRequest,
    private readonly env: ExecEnv,
  ) {
    this.rng = env.rng ?? Math.random;
  }

  async run(): Promise<ExecResult> {
    const root = this.req.routing;
    const r = await this.runNode(root, [], inherit(ROOT, root), TOP);
    const notes = routingNotes(this.notes, this.answered?.attempt);
    // One literal, no spreads: this runs once per request.
    const ok = r.ok;
    const status = ok ? 200 : clientStatus(r.status);
    return {
      attempts: this.attempts,
      retries: this.retries,
      // A hedge's cancelled loser is not a failure: rescued only when an attempt really failed.
      rescued: ok && this.attempts.some((a) => a.error_type !== null && a.error_type !== 'cancelled'),
      answered: this.answered,
      headers: this.headers(),
      spanAttributes: notes.spanAttributes,
      spanEvents: notes.spanEvents,
      status,
      body: ok ? this.okBody : this.errorBody(status, r.error, r.outcome),
      streamed: ok && this.streamed,
      streamError: ok ? this.streamError : undefined,
    };
  }

  errorBody(status: number, error: ProviderError, outcome?: Outcome): Json {
    return {
      error: {
        message: error.message,
        type: error.type ?? outcome ?? 'api_error',
        code: error.code ?? outcome ?? null,
        status,
        attempts: this.attempts,
      },
    };
  }

  /** `inFlight`: attempts not recorded yet (a stream commits before its attempt ends). */
  private headers(inFlight = 0): Record<string, string> {
    const h: Record<string, string> = {
      'x-switchyard-attempts': String(this.attempts.length + inFlight),
      'x-switchyard-retry-count': String(this.retries),
      'x-switchyard-cache-status': 'DISABLED',
    };
    if (this.answered) {
      h['x-switchyard-target'] = this.answered.target;
      h['x-switchyard-provider'] = this.answered.providerSlug;
    }
    return h;
  }

  private async runNode(node: TargetSpec, path: number[], settings: Inherited, lane: Lane): Promise<NodeResult> {
    if (isLeaf(node)) return this.runLeaf(node, path, settings, lane);
    const hedge = this.req.hedge !== false ? node.hedge : undefined;
    const d = decide(node, settings, {
      metadata: this.req.metadata,
      params: this.req.body,
      health: (k) => this.env.health.state(k),
      rng: this.rng,
      score: (k) => this.env.health.latency.score(k),
      ranked: hedge !== undefined,
    });
    if ('error' in d)
      return {
        ok: false,
        outcome: 'http_error',
        status: 400,
        error: { message: d.error, type: 'invalid_request_error', code: 'routing_error' },
      };
    const children = node.targets!;
    const group = children.filter(isLeaf).map((c) => healthKey(c, inherit(settings, c), this.req.body.model));
    const fallbackOn = node.strategy?.on_status_codes;
    const run = (i: number, l: Lane) => this.runNode(children[i], [...path, i], inherit(settings, children[i]), l);
    if (node.hedge !== undefined) {
      const g = this.env.health.hedges.group(groupKey(node), node.hedge.budget_percent);
      if (hedge !== undefined && d.order.length > 1) {
        this.notes.hedged = true;
        const delayMs = hedge.delay_ms === 'p95' ? g.p95(this.req.stream) : hedge.delay_ms;
        const race = new Race(lane.slot);
        const fallback = node.strategy?.mode === 'fallback';
        const sum = await runRace(
          {
            candidates: d.order,
            maxAttempts: hedge.max_attempts,
            delayMs,
            budget: g.bucket,
            overdue: (slots) => {
              for (const s of slots)
                if (s.current)
                  this.env.health.latency.observeAtLeast(s.current.key, performance.now() - s.current.startedAt);
            },
            fallback: (r) => fallback && goesOn(r as Failed, fallbackOn, this.streamed, this.req.deadlineAt),
          },
          race,
          lane.slot?.signal ?? abortSignalOf(this.req.clientSignal),
          (i, slot) => run(i, { slot, hedgeGroup: g, group }),
        );
        this.notes.hedges += sum.hedges;
        this.notes.throttled += sum.throttled;
        if (sum.result.ok && race.winner?.hedge) this.notes.hedgeWon = true;
        return sum.result;
      }
      lane = { ...lane, hedgeGroup: g };
    }
    let last: Failed | undefined;
    for (const i of d.order) {
      const r = await run(i, { ...lane, group });
      if (r.ok) return r;
      last = r;
      if (!goesOn(r, fallbackOn, this.streamed, this.req.deadlineAt)) return r;
    }
    return last!;
  }

  private async runLeaf(node: TargetSpec, path: number[], settings: Inherited, lane: Lane): Promise<NodeResult> {
    const signal = lane.slot?.signal ?? this.req.clientSignal;
    const target = path.length ? path.join('.') : '0';
    let resolved;
    try {
      resolved = resolveProvider(node, this.env.file, this.env.simulatedUrls);
    } catch (e) {
      return {
        ok: false,
        outcome: 'http_error',
        status: 400,
        error: { message: (e as Error).message, type: 'invalid_request_error', code: 'unknown_provider' },
      };
    }
    const { provider } = resolved;
    const adapter = this.req.adapt ? this.req.adapt(resolved.adapter) : resolved.adapter;
    const model = leafModel(settings, this.req.body.model);
    if (!adapter.supports(this.req.op)) {
      return {
        ok: false,
        outcome: 'http_error',
        status: 400,
        error: {
          message: `provider "${provider.slug}" (${adapter.name}) does not support ${this.req.op}`,
          type: 'invalid_request_error',
          code: 'unsupported_operation',
        },
      };
    }
    const key = healthKey(node, settings, this.req.body.model);
    // One copy per target (retries reuse it); `stream` is what this request does, whatever the body said.
    const body = { ...this.req.body, ...settings.override_params, model, stream: this.req.stream || undefined };
    const url = parsedUrl(provider.baseUrl);
    const retry = settings.retry;
    const maxRetries = retry?.attempts ?? 0;
    const retryOn = retry?.on_status_codes ?? DEFAULT_RETRY_STATUS;
    for (let i = 0; ; i++) {
      if (signal.aborted)
        return {
          ok: false,
          outcome: 'cancelled',
          status: 499,
          error: { message: (signal.reason as Error | undefined)?.message ?? 'cancelled', type: 'cancelled' },
        };
      const attemptNo = this.started++;
      const obs = this.env.observer.attemptStart({
        op: this.req.op,
        attempt: attemptNo,
        target,
        providerSlug: provider.slug,
        providerName: adapter.name,
        model,
        stream: this.req.stream,
        serverAddress: url.hostname,
        serverPort: Number(url.port) || (url.protocol === 'https:' ? 443 : 80),
        resendCount: i,
        ...(lane.slot?.hedge ? { hedge: true } : undefined),
        body,
      });
      const started = performance.now();
      const token = this.env.health.attemptStarted(key);
      if (lane.slot) lane.slot.current = { key, startedAt: started };
      let r;
      try {
        r = await runAttempt({
          op: this.req.op,
          body,
          stream: this.req.stream,
          includeUsage: this.req.includeUsage,
          adapter,
          provider,
          requestTimeoutMs: settings.request_timeout,
          firstChunkTimeoutMs: settings.first_chunk_timeout,
          idleTimeoutMs: settings.idle_timeout,
          deadlineAt: this.req.deadlineAt,
          clientSignal: signal,
          dispatcher: this.env.dispatcher,
        });
      } catch (e) {
        const fail = translationFailure(e);
        this.env.health.attemptSettled(key);
        this.latency(key, performance.now() - started, false, lane, token);
        this.record(target, provider.slug, model, fail, performance.now() - started);
        obs.end({
          outcome: 'http_error',
          status: fail.status,
          errorType: fail.error.type,
          errorMessage: fail.error.message,
        });
        return fail;
      }
      if (r.ok) {
        this.env.health.success(key);
        this.latency(key, r.kind === 'stream' ? r.ttftMs : performance.now() - started, true, lane, token);
        // In a race, the first answer (or first byte) takes the request; a later one is cut off.
        if (lane.slot && !lane.slot.claim()) {
          if (r.kind === 'stream') r.release();
          const lost: AttemptFailure = {
            ok: false,
            outcome: 'cancelled',
            status: 499,
            error: { message: 'another attempt of the hedged request answered first', type: 'cancelled' },
          };
          this.record(target, provider.slug, model, lost, performance.now() - started);
          obs.end({ outcome: 'cancelled', status: 499, errorType: 'cancelled', errorMessage: lost.error.message });
          return lost;
        }
        this.answered = {
          target,
          providerSlug: provider.slug,
          providerName: adapter.name,
          model,
          responseModel: undefined,
          attempt: attemptNo,
        };
        let refused: Failed;
        if (r.kind === 'json') {
          const p = r.parsed;
          const v = this.req.judge
            ? await this.req.judge({ kind: 'json', body: p.body }, this.attempts.length)
            : undefined;
          if (!v || v.ok) {
            this.record(target, provider.slug, model, r, performance.now() - started);
            this.answered.responseModel = p.responseModel;
            this.okBody = p.body;
            obs.end({
              outcome: 'ok',
              status: 200,
              usage: p.usage,
              responseModel: p.responseModel,
              responseId: p.responseId,
              finishReasons: p.finishReasons,
              output: p.body,
            });
            return { ok: true };
          }
          refused = guardrailFailure(v);
          this.answered = undefined;
          this.record(target, provider.slug, model, refused, performance.now() - started);
          // The provider answered (and billed): usage counts, the outcome says why it did not.
          obs.end({
            outcome: 'guardrail',
            status: 446,
            usage: p.usage,
            responseModel: p.responseModel,
            responseId: p.responseId,
            finishReasons: p.finishReasons,
            errorType: 'guardrail',
            errorMessage: v.message,
          });
        } else {
          const s = await this.pumpStream(r, obs, target, provider.slug, model, started);
          if (s.ok || s.outcome !== 'guardrail') return s;
          refused = s;
        }
        // A refused answer: again on this target while its retries last (no wait: nothing is overloaded), then the next.
        // A denying one only when the target's retry lists 446 explicitly (Portkey's way to retry on it).
        if (
          (refused.stop && !retry?.on_status_codes?.includes(446)) ||
          i >= maxRetries ||
          Date.now() >= this.req.deadlineAt
        )
          return refused;
        this.retries++;
        continue;
      }
      this.latency(key, performance.now() - started, false, lane, token);
      this.record(target, provider.slug, model, r, performance.now() - started);
      obs.end({
        outcome: r.outcome,
        status: r.status,
        errorType: r.outcome === 'http_error' ? String(r.status) : r.outcome,
        errorMessage: r.error.message,
      });
      if (r.outcome !== 'cancelled' && (r.status >= 500 || r.status === 429 || r.status === 408))
        this.env.health.failure(key);
      else this.env.health.attemptSettled(key);
      if (r.outcome === 'cancelled') return r;
      const retryable = i < maxRetries && RETRYABLE_OUTCOMES.has(r.outcome) && retryOn.includes(r.status);
      if (!retryable) return r;
      const useHeader = retry?.use_retry_after_header !== false && r.retryAfterMs !== undefined;
      const wait = useHeader ? r.retryAfterMs! : backoffMs(i, retry?.backoff_base_ms, retry?.backoff_max_ms, this.rng);
      // Never sleep past the deadline: a wait that does not fit ends this target's retries.
      if (Date.now() + wait >= this.req.deadlineAt) return r;
      this.env.observer.backoff(wait, this.attempts.length - 1, useHeader ? 'retry_after' : 'backoff');
      await sleep(wait, abortSignalOf(signal));
      this.retries++;
    }
  }

  private async pumpStream(
    r: StreamSuccess,
    obs: ReturnType<RequestObserver['attemptStart']>,
    target: string,
    slug: string,
    model: string,
    started: number,
  ): Promise<NodeResult> {
    const sink = this.req.sink!;
    obs.firstChunk(r.ttftMs);
    this.streamed = true;
    this.answered!.responseModel = r.translator.responseModel;
    sink.start(this.headers(1));
    const end = (outcome: Outcome, status: number, err?: ProviderError) => {
      r.release();
      this.record(target, slug, model, { ok: outcome === 'ok', outcome, status }, performance.now() - started);
      obs.end(streamAttemptEnd(r, outcome, status, err));
    };
    const relayed = await relay(r, sink);
    if (relayed.kind === 'failed') {
      const f = relayed.failure;
      this.streamError = f.outcome;
      end(f.outcome, f.status, f.error);
      // After the first byte there is no retry: an error frame, and never a clean [DONE].
      sink.fail(this.errorBody(clientStatus(f.status), f.error, f.outcome));
      return { ok: true };
    }
    if (relayed.kind === 'client_gone') {
      this.streamError = 'cancelled';
      end('cancelled', 499, { message: 'client disconnected', type: 'cancelled' });
      return { ok: true };
    }
    const v = this.req.judge ? await this.req.judge({ kind: 'stream' }, this.attempts.length) : undefined;
    if (v && !v.ok) {
      // The sink held the stream: the client saw none of it, so the request can still go on or answer 446.
      const refused = guardrailFailure(v);
      this.streamed = false;
      this.answered = undefined;
      end('guardrail', 446, refused.error);
      return refused;
    }
    end('ok', 200);
    await sink.end();
    return { ok: true };
  }

  /** Feeds an attempt's time to the balancer, ejection and the hedged group's p95s; notes ejections. */
  private latency(key: string, ms: number, measured: boolean, lane: Lane, token: number): void {
    if (lane.slot) lane.slot.current = undefined;
    if (measured) lane.hedgeGroup?.add(key, this.req.stream, ms);
    for (const c of this.env.health.attemptEnded(key, ms, measured, lane.group, token))
      this.notes.ejections.push({ ...c, time: performance.timeOrigin + performance.now() });
  }

  private record(
    target: string,
    provider: string,
    model: string,
    r: { ok: boolean; outcome?: Outcome; status: number },
    ms: number,
  ): void {
    this.attempts.push({
      target,
      provider,
      model,
      status: r.status,
      error_type: r.ok ? null : (r.outcome ?? 'http_error'),
      duration_ms: Math.round(ms * 10) / 10,
    });
  }
}

export function execute(req: ExecRequest, env: ExecEnv): Promise<ExecResult> {
  return new Execution(req, env).run();
}
