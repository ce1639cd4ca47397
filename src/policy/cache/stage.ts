// The cache stage (STYLE.md §2): a hit answers without calling `next` (no attempt, nothing
// billed); a miss runs the rest of the pipeline and stores a complete 200 answer that passed
// output guardrails. Streams: a streamed miss is assembled from its chunks (CollectSink around the
// request's sink) and stored as the complete response; a hit replays it as a stream or as JSON,
// whatever the original was. Store faults never fail a request: a lookup that fails is a MISS,
// a store that fails is logged.
import type { IncomingHttpHeaders } from 'node:http';
import { logger } from '../../logger.js';
import type { ExecResult } from '../../routing/executor.js';
import { afterwards } from '../limits/store-errors.js';
import type { PipelineContext, Stage } from '../pipeline.js';
import type { StateStore } from '../state/types.js';
import { cacheOf } from './config.js';
import { cacheKey, digest } from './key.js';
import { cacheStorage } from './storage.js';
import { assemble, CollectSink, replay } from './stream.js';

type Json = Record<string, unknown>;
export type CacheStatus = 'HIT' | 'SEMANTIC HIT' | 'MISS' | 'SEMANTIC MISS' | 'REFRESH' | 'DISABLED';

export const CACHE_STATUS_HEADER = 'x-switchyard-cache-status';

/** What an entry holds: the complete response, what it cost and how long it took the first time. */
export interface CacheEntry {
  v: 1;
  op: string;
  body: Json;
  /** USD the original request cost (undefined when it could not be priced). */
  costUsd?: number;
  /** Milliseconds the original request took through the pipeline. */
  ms: number;
  /** When it was stored (epoch ms). */
  at: number;
}

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[`x-switchyard-${name}`] ?? h[`x-portkey-${name}`];
  return Array.isArray(v) ? v[0] : v;
}

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function decode(raw: Buffer, op: string): CacheEntry | undefined {
  try {
    const e = JSON.parse(raw.toString('utf8')) as CacheEntry;
    return e?.v === 1 && e.op === op && isObj(e.body) ? e : undefined;
  } catch {
    return undefined;
  }
}

/** Several choices drawn at random are not one answer to replay. */
function storable(req: Json): boolean {
  const n = typeof req.n === 'number' ? req.n : 1;
  return n <= 1 || req.temperature === 0;
}

export function createCacheStage(store: StateStore): Stage {
  return {
    name: 'cache',
    async handle(ctx, next) {
      const spec = cacheOf(ctx.routing);
      const req = ctx.exec.request;
      // POST /v1/messages (an adapter swap) answers in its own wire format: not cached yet.
      if (!spec || req.adapt) {
        ctx.attributes['switchyard.cache_status'] = 'DISABLED';
        return next(ctx);
      }
      const key = cacheKey({
        op: ctx.op,
        configId: ctx.configId,
        routingDigest: ctx.configId === 'inline' ? digest(ctx.routing) : undefined,
        virtualKey: ctx.key?.name ?? '',
        configNamespace: spec.namespace ?? '',
        requestNamespace: header(ctx.headers, 'cache-namespace') ?? '',
        body: ctx.body,
      });
      const storage = cacheStorage(store, ctx.configId, spec.max_bytes);
      const force = header(ctx.headers, 'cache-force-refresh')?.trim().toLowerCase() === 'true';
      const started = performance.now();
      if (!force) {
        let raw: Buffer | undefined;
        try {
          raw = await storage.get(key);
        } catch (e) {
          logger.error('policy: cache lookup failed; answering as a miss', { error: (e as Error).message });
        }
        const entry = raw && decode(raw, ctx.op);
        if (entry) return answerHit(ctx, entry);
      }

      const status: CacheStatus = force ? 'REFRESH' : 'MISS';
      ctx.attributes['switchyard.cache_status'] = status;
      let collect: CollectSink | undefined;
      if (req.stream && req.sink) {
        // The stored answer keeps its usage even when this client did not ask for it.
        collect = new CollectSink(req.sink, status, !req.includeUsage);
        req.sink = collect;
        req.includeUsage = true;
      }
      const result = await next(ctx);
      if (result.status === 200 && storable(ctx.body)) {
        const body = result.streamed ? (collect && collect.completed && !collect.failed && result.streamError === undefined ? assemble(collect.chunks) : undefined) : result.body;
        if (body) {
          const entry: CacheEntry = { v: 1, op: ctx.op, body, costUsd: ctx.usage.unpriced > 0 ? undefined : ctx.usage.costUsd, ms: Math.round((performance.now() - started) * 10) / 10, at: Date.now() };
          await afterwards('cache store', () => storage.set(key, Buffer.from(JSON.stringify(entry)), spec.max_age * 1000));
        }
      }
      return { ...result, headers: { ...result.headers, [CACHE_STATUS_HEADER]: status } };
    },
  };
}

async function answerHit(ctx: PipelineContext, entry: CacheEntry): Promise<ExecResult> {
  ctx.attributes['switchyard.cache_status'] = 'HIT';
  if (entry.costUsd !== undefined) ctx.attributes['switchyard.cache.saved_cost_usd'] = entry.costUsd;
  ctx.attributes['switchyard.cache.original_ms'] = entry.ms;
  const headers = { 'x-switchyard-attempts': '0', 'x-switchyard-retry-count': '0', [CACHE_STATUS_HEADER]: 'HIT' };
  const base = { attempts: [], retries: 0, rescued: false, headers };
  const req = ctx.exec.request;
  if (!(req.stream && req.sink)) return { ...base, status: 200, body: entry.body, streamed: false };
  const sink = req.sink;
  sink.start(headers);
  for (const c of replay(entry.body, req.includeUsage)) {
    if (sink.closed) return { ...base, status: 200, streamed: true, streamError: 'cancelled' };
    await sink.write(c);
  }
  await sink.end();
  return { ...base, status: 200, streamed: true };
}
