// The simple cache's key: SHA-256 over canonical JSON (keys sorted at every depth) of the request
// body without `stream`/`stream_options`, together with the route, the routing config, the
// virtual key and the namespaces. Any parameter change misses; key order does not matter.
import { createHash } from 'node:crypto';
import type { FileConfig, TargetSpec } from '../../config/schema.js';
import type { Operation } from '../../providers/types.js';

/** JSON with object keys sorted at every depth; undefined members dropped as JSON.stringify does. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') {
    const s = JSON.stringify(v);
    return s === undefined ? 'null' : s;
  }
  if (Array.isArray(v))
    return `[${v.map((x) => (x === undefined || typeof x === 'function' ? 'null' : canonicalJson(x))).join(',')}]`;
  const keys = Object.keys(v).sort();
  let out = '{';
  for (const k of keys) {
    const x = (v as Record<string, unknown>)[k];
    if (x === undefined || typeof x === 'function') continue;
    out += `${out.length > 1 ? ',' : ''}${JSON.stringify(k)}:${canonicalJson(x)}`;
  }
  return `${out}}`;
}

/** The body parts that do not change the answer's content: how it is delivered. */
const DELIVERY = new Set(['stream', 'stream_options']);

export interface KeyParts {
  /** The route: an operation of the OpenAI API, or 'messages' (POST /v1/messages, Anthropic's format). */
  op: Operation | 'messages';
  configId: string;
  /** policyDigest() of the routing config: a config changed by a reload shares no entry with the old one. */
  routingDigest?: string;
  /** The calling virtual key's name ('' without one): tenants never share an entry. */
  virtualKey: string;
  configNamespace: string;
  requestNamespace: string;
  /** Anything else that must separate entries (semantic partitions: the embedding model). */
  variant?: string;
  body: Record<string, unknown>;
}

export function cacheKey(p: KeyParts): string {
  const body: Record<string, unknown> = {};
  for (const k of Object.keys(p.body)) if (!DELIVERY.has(k)) body[k] = p.body[k];
  // Each part JSON-quoted in a fixed order: no two different part lists give the same text.
  const material =
    JSON.stringify([
      'switchyard.cache.v1',
      p.op,
      p.configId,
      p.routingDigest ?? '',
      p.virtualKey,
      p.configNamespace,
      p.requestNamespace,
      p.variant ?? '',
    ]) + canonicalJson(body);
  return `cache:${createHash('sha256').update(material).digest('hex')}`;
}

export function digest(v: unknown): string {
  return createHash('sha256').update(canonicalJson(v)).digest('hex').slice(0, 32);
}

const policyDigests = new WeakMap<TargetSpec, string>();

/**
 * A digest of what decides a routing config's answers: the config as written (targets, models,
 * override params, strategy, guardrails; its `cache:` block aside, so that a new max_age keeps the
 * entries) and the file's guardrail definitions when the config uses any by id. Memoised per
 * config object: a loaded config is one object until the next reload.
 */
export function policyDigest(routing: TargetSpec, file: Pick<FileConfig, 'guardrails'>): string {
  let d = policyDigests.get(routing);
  if (d === undefined) {
    const { cache: _cache, ...rest } = routing as Record<string, unknown>;
    const named = ['input_guardrails', 'output_guardrails', 'before_request_hooks', 'after_request_hooks'].some(
      (k) => rest[k] !== undefined,
    );
    d = digest([rest, named ? (file.guardrails ?? null) : null]);
    policyDigests.set(routing, d);
  }
  return d;
}
