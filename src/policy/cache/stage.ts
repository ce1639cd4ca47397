// The cache stage (STYLE.md §2): a hit answers without calling `next` (no attempt, nothing
// billed); a miss runs the rest of the pipeline and stores a complete 200 answer that passed
// output guardrails. Streams: a streamed miss is assembled from its chunks (CollectSink around the
// request's sink) and stored as the complete response; a hit replays it as a stream or as JSON,
// whatever the original was. Semantic mode (semantic.ts) adds a similarity lookup after an exact
// miss. Store and embedding faults never fail a request: a lookup that fails is a MISS, a store
// that fails is logged. POST /v1/messages is cached on its own route, keyed on the client's
// Anthropic body and stored as the Anthropic message (messages-stream.ts replays it as events).
import type { IncomingHttpHeaders } from 'node:http';
import { logger } from '../../logger.js';
import type { Operation } from '../../providers/types.js';
import type { ExecResult } from '../../routing/executor.js';
import { afterwards } from '../limits/store-errors.js';
import type { Next, PipelineContext, Stage } from '../pipeline.js';
import type { StateStore } from '../state/types.js';
import type { FileConfig } from '../../config/schema.js';
import { cacheOf, type CacheSpec } from './config.js';
import { messagesNativeBody } from '../../providers/anthropic/messages-route.js';
import { cacheKey, policyDigest } from './key.js';
import { assembleMessage, replayMessage } from './messages-stream.js';
import { cacheStorage } from './storage.js';
import { checkSemanticEmbeddings, embed, semanticParts } from './semantic.js';
import { semanticIndex, type SharedSemanticIndex } from './shared-index.js';
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

/** `file`: checked for semantic caches' embeddings targets (a ConfigError names the path). */
export function createCacheStage(store: StateStore, file?: FileConfig): Stage {
  if (file) checkSemanticEmbeddings(file, cacheOf);
  return {
    name: 'cache',
    // Synchronous when the config has no cache: a pass-through costs no promise of its own.
    handle(ctx, next) {
      const spec = cacheOf(ctx.routing);
      if (spec) return cached(ctx, next, spec);
      ctx.attributes['switchyard.cache_status'] = 'DISABLED';
      return next(ctx);
    },
  };

  async function cached(ctx: PipelineContext, next: Next, spec: CacheSpec): Promise<ExecResult> {
    const req = ctx.exec.request;
    // An adapter swap is POST /v1/messages (cached on its own route) or count_tokens (not cached).
    const native = req.adapt ? messagesNativeBody(ctx.body) : undefined;
    if (req.adapt && !native) {
      ctx.attributes['switchyard.cache_status'] = 'DISABLED';
      return next(ctx);
    }
    const route: Operation | 'messages' = native ? 'messages' : ctx.op;
    const body = native ?? ctx.body;
    const keyParts = {
      op: route,
      configId: ctx.configId,
      // Whatever decides the answers (targets, parameters, guardrails): a reload that changes
      // them starts afresh instead of serving what the old policy let through.
      routingDigest: policyDigest(ctx.routing, ctx.file),
      virtualKey: ctx.key?.name ?? '',
      configNamespace: spec.namespace ?? '',
      requestNamespace: header(ctx.headers, 'cache-namespace') ?? '',
    };
    const key = cacheKey({ ...keyParts, body });
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
      const entry = raw && decode(raw, route);
      if (entry) return answerHit(ctx, entry);
    }

    let status: CacheStatus = force ? 'REFRESH' : 'MISS';
    // Semantic: the user text's embedding, searched in its partition (everything else equal).
    let semantic: { partition: string; vec: Float32Array; index: SharedSemanticIndex } | undefined;
    const parts = spec.mode === 'semantic' ? semanticParts(ctx.op, body) : undefined;
    const index = parts && semanticIndex(store, ctx.configId, spec.max_bytes);
    if (parts && index) {
      const vec = await embed(spec, parts.text, ctx.exec.env, ctx.metadata);
      if (vec) {
        // Vectors of another embedding model are not comparable: it is part of the partition.
        const partition = `semantic:${cacheKey({ ...keyParts, variant: spec.embedding, body: parts.rest })}`;
        semantic = { partition, vec, index };
        if (!force) {
          const asked = Number(header(ctx.headers, 'cache-similarity-threshold'));
          const threshold =
            Number.isFinite(asked) && asked > spec.similarity_threshold
              ? Math.min(asked, 1)
              : spec.similarity_threshold;
          const found = await index.search(partition, vec, threshold);
          if (found) {
            let raw: Buffer | undefined;
            let gone = false;
            try {
              raw = await storage.get(found.key);
              gone = raw === undefined;
            } catch (e) {
              logger.error('policy: cache lookup failed; answering as a miss', { error: (e as Error).message });
            }
            const entry = raw && decode(raw, route);
            if (entry) return answerHit(ctx, entry, 'SEMANTIC HIT', found.similarity);
            // Evicted or expired from the storage (not a store fault): not a candidate any more.
            if (gone) index.delete(partition, found.key);
          }
          status = 'SEMANTIC MISS';
        }
      }
    }
    ctx.attributes['switchyard.cache_status'] = status;
    let collect: CollectSink | undefined;
    if (req.stream && req.sink) {
      // The stored answer keeps its usage even when this client did not ask for it (Anthropic's
      // events always carry it).
      collect = new CollectSink(req.sink, status, !native && !req.includeUsage);
      req.sink = collect;
      if (!native) req.includeUsage = true;
    }
    const result = await next(ctx);
    if (result.status === 200 && storable(body)) {
      const answer = result.streamed
        ? collect?.completed && !collect.failed && !collect.overflow && result.streamError === undefined
          ? native
            ? assembleMessage(collect.chunks)
            : assemble(collect.chunks)
          : undefined
        : result.body;
      if (answer) {
        const entry: CacheEntry = {
          v: 1,
          op: route,
          body: answer,
          costUsd: ctx.usage.unpriced > 0 ? undefined : ctx.usage.costUsd,
          ms: Math.round((performance.now() - started) * 10) / 10,
          at: Date.now(),
        };
        await afterwards('cache store', () =>
          storage.set(key, Buffer.from(JSON.stringify(entry)), spec.max_age * 1000),
        );
        if (semantic) {
          const { partition, vec, index } = semantic;
          await afterwards('semantic index store', () => index.add(partition, vec, key, spec.max_age * 1000));
        }
      }
    }
    return { ...result, headers: { ...result.headers, [CACHE_STATUS_HEADER]: status } };
  }
}

async function answerHit(
  ctx: PipelineContext,
  entry: CacheEntry,
  status: 'HIT' | 'SEMANTIC HIT' = 'HIT',
  similarity?: number,
): Promise<ExecResult> {
  ctx.attributes['switchyard.cache_status'] = status;
  if (similarity !== undefined) ctx.attributes['switchyard.cache.similarity'] = Math.round(similarity * 1e6) / 1e6;
  if (entry.costUsd !== undefined) ctx.attributes['switchyard.cache.saved_cost_usd'] = entry.costUsd;
  ctx.attributes['switchyard.cache.original_ms'] = entry.ms;
  const headers = { 'x-switchyard-attempts': '0', 'x-switchyard-retry-count': '0', [CACHE_STATUS_HEADER]: status };
  const base = { attempts: [], retries: 0, rescued: false, headers };
  const req = ctx.exec.request;
  if (!(req.stream && req.sink)) return { ...base, status: 200, body: entry.body, streamed: false };
  const sink = req.sink;
  sink.start(headers);
  const chunks = entry.op === 'messages' ? replayMessage(entry.body) : replay(entry.body, req.includeUsage);
  for (const c of chunks) {
    if (sink.closed) return { ...base, status: 200, streamed: true, streamError: 'cancelled' };
    await sink.write(c);
  }
  await sink.end();
  return { ...base, status: 200, streamed: true };
}
