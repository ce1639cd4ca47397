// Semantic mode: after an exact miss, the user text of a short conversation is embedded through
// the configured embeddings target and searched among earlier answers of the same partition
// (everything but the user text: model, parameters, system prompt, tools, config, virtual key,
// namespaces, the embedding model); cosine similarity at or above the threshold answers with that
// entry. This module finds the text and embeds it; vector-index.ts searches (exact while a
// partition is small, HNSW beyond), shared-index.ts shares the vectors across a fleet.
import type { FileConfig, TargetSpec } from '../../config/schema.js';
import { ConfigError, formatPath } from '../../config/errors.js';
import { adapterFor } from '../../providers/registry.js';
import { execute, type ExecEnv } from '../../routing/executor.js';
import { noopObserver } from '../../routing/observer.js';
import type { CacheSpec } from './config.js';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Conversations longer than this are looked up exactly only. */
export const MAX_SEMANTIC_MESSAGES = 4;

/** "@slug/model" → its parts; the slug must name an embeddings-capable provider of the file. */
export function parseEmbedding(spec: string): { slug: string; model: string } | undefined {
  const m = /^@([A-Za-z0-9._-]+)\/(.+)$/.exec(spec);
  return m ? { slug: m[1], model: m[2] } : undefined;
}

/** Load-time check of every semantic cache's `embedding` (needs the file's providers). */
export function checkSemanticEmbeddings(file: FileConfig, specOf: (cfg: TargetSpec) => CacheSpec | undefined): void {
  for (const [id, cfg] of Object.entries(file.configs)) {
    const spec = specOf(cfg);
    if (spec?.mode !== 'semantic') continue;
    const path = formatPath(['configs', id, 'cache', 'embedding']);
    if (!spec.embedding)
      throw new ConfigError(
        `${path}: semantic mode needs an embeddings target, e.g. "@openai-prod/text-embedding-3-small"`,
      );
    const e = parseEmbedding(spec.embedding);
    if (!e) throw new ConfigError(`${path}: expected "@provider/model" (got ${JSON.stringify(spec.embedding)})`);
    const p = Object.hasOwn(file.providers, e.slug) ? file.providers[e.slug] : undefined;
    if (!p) throw new ConfigError(`${path}: unknown provider "@${e.slug}"`);
    const adapter = adapterFor(p.type);
    if (!adapter?.supports('embeddings'))
      throw new ConfigError(`${path}: provider "@${e.slug}" (${p.type}) does not serve embeddings`);
  }
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((p) => (isObj(p) && typeof p.text === 'string' ? p.text : ''))
    .filter(Boolean)
    .join('\n');
}

/**
 * The user text to embed and the body with it blanked (the partition's material), or undefined
 * when the request is not a short chat with user text.
 */
export function semanticParts(op: string, body: Json): { text: string; rest: Json } | undefined {
  if (
    op !== 'chat' ||
    !Array.isArray(body.messages) ||
    body.messages.length === 0 ||
    body.messages.length > MAX_SEMANTIC_MESSAGES
  )
    return undefined;
  const texts: string[] = [];
  const messages = body.messages.map((m) => {
    if (!isObj(m) || m.role !== 'user') return m;
    texts.push(textOf(m.content));
    // Only the text is compared by similarity: other parts (images, tool results, documents)
    // stay in the partition, so the same words about another image never hit.
    const content = Array.isArray(m.content)
      ? m.content.map((p) => (isObj(p) && typeof p.text === 'string' ? { ...p, text: '' } : p))
      : '';
    return { ...m, content };
  });
  const text = texts.join('\n').trim();
  return text ? { text, rest: { ...body, messages } } : undefined;
}

/** Embeds `text` through the configured target within `timeoutMs`; undefined on any failure. */
export async function embed(
  spec: CacheSpec,
  text: string,
  env: Omit<ExecEnv, 'observer'>,
  metadata: Record<string, string>,
): Promise<Float32Array | undefined> {
  const e = parseEmbedding(spec.embedding ?? '');
  if (!e) return undefined;
  const timeoutMs = spec.embedding_timeout_ms;
  const signal = AbortSignal.timeout(timeoutMs);
  const routing: TargetSpec = {
    provider: `@${e.slug}`,
    override_params: { model: e.model },
    request_timeout: timeoutMs,
  };
  const run = execute(
    {
      op: 'embeddings',
      body: { model: e.model, input: text },
      stream: false,
      includeUsage: false,
      metadata,
      routing,
      deadlineAt: Date.now() + timeoutMs,
      clientSignal: signal,
    },
    { ...env, observer: noopObserver },
  ).catch(() => undefined);
  // The executor honours the deadline; this bounds anything it waits on besides.
  let t: NodeJS.Timeout | undefined;
  const timer = new Promise<undefined>((res) => {
    t = globalThis.setTimeout(() => res(undefined), timeoutMs + 20) as unknown as NodeJS.Timeout;
  });
  const r = await Promise.race([run, timer]);
  clearTimeout(t);
  if (r?.status !== 200) return undefined;
  const data = r.body?.data;
  const v = Array.isArray(data) && isObj(data[0]) ? data[0].embedding : undefined;
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'number')) return undefined;
  return normalise(Float32Array.from(v as number[]));
}

export function normalise(v: Float32Array): Float32Array | undefined {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i] * v[i];
  if (!(n > 0)) return undefined;
  const s = 1 / Math.sqrt(n);
  for (let i = 0; i < v.length; i++) v[i] *= s;
  return v;
}
