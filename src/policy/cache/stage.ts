// The cache stage (STYLE.md §2): a hit answers without calling `next` (no attempt, nothing
// billed); a miss runs the rest of the pipeline and stores a complete 200 answer that passed
// output guardrails. Streams: a streamed miss is assembled from its chunks (CollectSink around the
// request's sink) and stored as the complete response; a hit replays it as a stream or as JSON,
// whatever the original was. Semantic mode (semantic.ts) adds a similarity lookup after an exact
// miss. Store and embedding faults never fail a request: a lookup that fails is a MISS, a store
// that fails is logged.
import type { IncomingHttpHeaders } from 'node:http';
import { logger } from '../../logger.js';
import type { ExecResult } from '../../routing/executor.js';
import { afterwards } from '../limits/store-errors.js';
import type { PipelineContext, Stage } from '../pipeline.js';
import type { StateStore } from '../state/types.js';
import type { FileConfig } from '../../config/schema.js';
import { cacheOf } from './config.js';
import { cacheKey, digest } from './key.js';
import { cacheStorage } from './storage.js';
import { checkSemanticEmbeddings, embed, semanticIndex, semanticParts } from './semantic.js';
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
    async handle(ctx, next) {
      const spec = cacheOf(ctx.routing);
      const req = ctx.exec.request;
      // POST /v1/messages (an adapter swap) answers in its own wire format: not cached yet.
      if (!spec || req.adapt) {
        ctx.attributes['switchyard.cache_status'] = 'DISABLED';
        return next(ctx);
      }
      const keyParts = {
        op: ctx.op,
        configId: ctx.configId,
        routingDigest: ctx.configId === 'inline' ? digest(ctx.routing) : undefined,
        virtualKey: ctx.key?.name ?? '',
        configNamespace: spec.namespace ?? '',
        requestNamespace: header(ctx.headers, 'cache-namespace') ?? '',
      };
      const key = cacheKey({ ...keyParts, body: ctx.body });
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

      let status: CacheStatus = force ? 'REFRESH' : 'MISS';
      // Semantic: the user text's embedding, searched in its partition (everything else equal).
      let semantic: { partition: string; vec: Float32Array } | undefined;
      const parts = spec.mode === 'semantic' ? semanticParts(ctx.op, ctx.body) : undefined;
      if (parts) {
        const vec = await embed(spec, parts.text, ctx.exec.env, ctx.metadata);
        if (vec) {
          semantic = { partition: `semantic:${cacheKey({ ...keyParts, body: parts.rest })}`, vec };
          if (!force) {
            const asked = Number(header(ctx.headers, 'cache-similarity-threshold'));
            const threshold =
              Number.isFinite(asked) && asked > spec.similarity_threshold
                ? Math.min(asked, 1)
                : spec.similarity_threshold;
            const found = await semanticIndex(store).search(semantic.partition, vec, threshold);
            if (found) {
              let raw: Buffer | undefined;
              try {
                raw = await storage.get(found.key);
              } catch (e) {
                logger.error('policy: cache lookup failed; answering as a miss', { error: (e as Error).message });
              }
              const entry = raw && decode(raw, ctx.op);
              if (entry) return answerHit(ctx, entry, 'SEMANTIC HIT', found.similarity);
            }
            status = 'SEMANTIC MISS';
          }
        }
      }
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
        const body = result.streamed
          ? collect?.completed && !collect.failed && !collect.overflow && result.streamError === undefined
            ? assemble(collect.chunks)
            : undefined
          : result.body;
        if (body) {
          const entry: CacheEntry = {
            v: 1,
            op: ctx.op,
            body,
            costUsd: ctx.usage.unpriced > 0 ? undefined : ctx.usage.costUsd,
            ms: Math.round((performance.now() - started) * 10) / 10,
            at: Date.now(),
          };
          await afterwards('cache store', () =>
            storage.set(key, Buffer.from(JSON.stringify(entry)), spec.max_age * 1000),
          );
          if (semantic) {
            const { partition, vec } = semantic;
            await afterwards('semantic index store', () =>
              semanticIndex(store).add(partition, vec, key, spec.max_age * 1000),
            );
          }
        }
      }
      return { ...result, headers: { ...result.headers, [CACHE_STATUS_HEADER]: status } };
    },
  };
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
  for (const c of replay(entry.body, req.includeUsage)) {
    if (sink.closed) return { ...base, status: 200, streamed: true, streamError: 'cancelled' };
    await sink.write(c);
  }
  await sink.end();
  return { ...base, status: 200, streamed: true };
}
