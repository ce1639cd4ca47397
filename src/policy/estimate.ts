// Before the first attempt: how many tokens a request will likely use and what it will likely
// cost, for rate limits (tokens per minute) and budget reservations. Input tokens are estimated
// from the body's text (about 4 characters a token); output at max_tokens, or at the budget's
// reserve_output_tokens when the request sets none. Priced at the model it will most likely
// hit: the first target in order (the heaviest for load balancing).
import type { FileConfig, TargetSpec } from '../config/schema.js';
import { providerRef } from '../config/load.js';
import { adapterFor } from '../providers/registry.js';
import { inherit, isLeaf, ROOT, type Inherited } from '../routing/tree.js';
import { costUsd } from '../telemetry/cost.js';
import type { PriceFn } from './usage.js';

const CHARS_PER_TOKEN = 4;

// Per body object: the rate and budget stages both ask, and serialising the messages is the
// estimate's whole cost.
const inputEstimates = new WeakMap<object, number>();

export function estimateInputTokens(body: Record<string, unknown>): number {
  const known = inputEstimates.get(body);
  if (known !== undefined) return known;
  const tokens = Math.ceil(textLength(body.messages ?? body.input ?? body.prompt ?? '') / CHARS_PER_TOKEN);
  inputEstimates.set(body, tokens);
  return tokens;
}

/** Characters of the strings and keys in a JSON value: what serialising it would count, less the
 *  punctuation, without building the string (a 32 KB conversation would allocate 32 KB). */
function textLength(v: unknown): number {
  if (typeof v === 'string') return v.length;
  if (typeof v !== 'object' || v === null) return v === undefined ? 0 : 4;
  let n = 0;
  if (Array.isArray(v)) for (const x of v) n += textLength(x);
  else
    for (const k in v) {
      n += k.length + textLength((v as Record<string, unknown>)[k]);
    }
  return n;
}

/** The request's own output cap, if it sets one. */
export function requestedOutputTokens(body: Record<string, unknown>): number | undefined {
  const v = body.max_completion_tokens ?? body.max_tokens ?? body.max_output_tokens;
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.ceil(v) : undefined;
}

// Per routing object and file: the likely leaf's provider name and model override.
const likely = new WeakMap<
  TargetSpec,
  { file: FileConfig; leaf: { providerName: string; override: unknown } | undefined }
>();

/** The leaf a request most likely reaches: its provider name (gen_ai.provider.name) and model. */
export function likelyLeaf(
  file: FileConfig,
  routing: TargetSpec,
  requestModel: unknown,
): { providerName: string; model: string } | undefined {
  let hit = likely.get(routing);
  if (!hit || hit.file !== file) {
    let node = routing;
    let settings: Inherited = inherit(ROOT, node);
    while (!isLeaf(node)) {
      const children = node.targets!;
      node =
        node.strategy?.mode === 'loadbalance'
          ? children.reduce((a, b) => ((b.weight ?? 1) > (a.weight ?? 1) ? b : a))
          : children[0];
      settings = inherit(settings, node);
    }
    const ref = providerRef(node);
    const type = (ref?.slug !== undefined ? file.providers[ref.slug]?.type : undefined) ?? ref?.type;
    const adapter = type ? adapterFor(type) : undefined;
    hit = {
      file,
      leaf: adapter ? { providerName: adapter.name, override: settings.override_params.model } : undefined,
    };
    likely.set(routing, hit);
  }
  if (!hit.leaf) return undefined;
  const m = hit.leaf.override ?? requestModel;
  return { providerName: hit.leaf.providerName, model: typeof m === 'string' ? m : '' };
}

export interface Estimate {
  inputTokens: number;
  outputTokens: number;
  /** USD at the likely model's price; undefined when it has no price. */
  costUsd?: number;
}

export function estimate(
  file: FileConfig,
  routing: TargetSpec,
  body: Record<string, unknown>,
  reserveOutput: number,
  price: PriceFn,
): Estimate {
  const inputTokens = estimateInputTokens(body);
  const outputTokens = requestedOutputTokens(body) ?? reserveOutput;
  const leaf = likelyLeaf(file, routing, body.model);
  const p = leaf ? price(leaf.providerName, leaf.model) : undefined;
  return {
    inputTokens,
    outputTokens,
    costUsd: p ? costUsd({ input_tokens: inputTokens, output_tokens: outputTokens }, p) : undefined,
  };
}
