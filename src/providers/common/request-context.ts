// parseResponse() sees only the provider and the answer; some answers (Bedrock's, Gemini
// embeddings) do not name the model or need to know how the request was translated. The
// resolved provider object is created per routed leaf, so it keys that context safely.
import type { ResolvedProvider } from '../types.js';

export interface RequestContext {
  model: string;
  encodingFormat?: unknown;
  /** Name of the synthetic tool that carries a JSON-mode answer (Bedrock). */
  jsonTool?: string;
}

const contexts = new WeakMap<ResolvedProvider, RequestContext>();

export function remember(p: ResolvedProvider, ctx: RequestContext): void {
  contexts.set(p, ctx);
}

export function recall(p: ResolvedProvider): RequestContext {
  return contexts.get(p) ?? { model: '' };
}
