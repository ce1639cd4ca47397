// A routing config's `cache:` block, validated once at load (paths named in errors), and kept
// beside the config it belongs to (a WeakMap, as guardrails do), so a request reads it for free.
import { z } from 'zod';
import type { TargetSpec } from '../../config/schema.js';
import { ConfigError, formatPath, fromZod } from '../../config/errors.js';

export const DEFAULT_MAX_AGE_S = 86_400;
export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

export const CacheSpec = z.strictObject({
  /** simple: exact match on the canonical request. semantic: exact, then similar user text (semantic.ts). */
  mode: z.enum(['simple', 'semantic']),
  /** Seconds an entry lives. */
  max_age: z
    .number()
    .int()
    .positive()
    .max(10 * 365 * 86_400)
    .default(DEFAULT_MAX_AGE_S),
  /** Semantic mode: cosine similarity an answer needs (a request may raise it, never lower it). */
  similarity_threshold: z.number().gt(0).max(1).default(0.95),
  /** Semantic mode: "@provider/model" of an embeddings-capable provider of the file. */
  embedding: z.string().min(1).optional(),
  /** Semantic mode: an embedding slower than this (or failing) makes the lookup a MISS. */
  embedding_timeout_ms: z.number().int().positive().default(300),
  /** A namespace of this config's entries (a request's namespace header adds to it, never replaces it). */
  namespace: z.string().min(1).max(256).optional(),
  /**
   * Bytes of this config's answers in one sidecar's memory (memory store; LRU beyond it), and
   * separately of its semantic vectors (any store; oldest out, vector-index.ts).
   */
  max_bytes: z.number().int().positive().default(DEFAULT_MAX_BYTES),
});
export type CacheSpec = z.output<typeof CacheSpec>;

const specs = new WeakMap<TargetSpec, CacheSpec>();

/** Validates `cfg.cache` (top level of a routing config); throws a ConfigError naming the path. */
export function parseCache(raw: unknown, path: PropertyKey[]): CacheSpec {
  // Portkey also writes `cache: "simple"`.
  const input = typeof raw === 'string' ? { mode: raw } : raw;
  const r = CacheSpec.safeParse(input);
  if (!r.success) throw fromZod(r.error, formatPath([...path, 'cache']));
  if (r.data.mode === 'semantic' && !r.data.embedding) {
    throw new ConfigError(
      `${formatPath([...path, 'cache', 'embedding'])}: semantic mode needs an embeddings target, e.g. "@openai-prod/text-embedding-3-small"`,
    );
  }
  return r.data;
}

export function setCache(cfg: TargetSpec, spec: CacheSpec | undefined): void {
  if (spec) specs.set(cfg, spec);
}

export function cacheOf(cfg: TargetSpec): CacheSpec | undefined {
  return specs.get(cfg);
}

/** A routing built from another (the model field naming a provider) keeps its cache. */
export function carryCache(from: TargetSpec | undefined, to: TargetSpec): void {
  const s = from && specs.get(from);
  if (s) specs.set(to, s);
}
