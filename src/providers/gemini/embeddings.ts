// OpenAI embeddings ↔ Gemini batchEmbedContents.
import { embeddingInputs, num } from '../common/chat-input.js';
import { embeddingList } from '../common/openai-shapes.js';
import type { ParsedResponse } from '../types.js';

type Json = Record<string, unknown>;

export function toGeminiEmbedRequest(body: Json, model: string): Json {
  const dims = num(body.dimensions);
  return {
    requests: embeddingInputs(body.input, 'gemini').map((text) => ({
      model: `models/${model}`,
      content: { parts: [{ text }] },
      ...(dims !== undefined ? { outputDimensionality: dims } : {}),
    })),
  };
}

/** Gemini reports no token counts for embeddings, so usage stays empty (not zero). */
export function fromGeminiEmbeddings(json: Json, model: string, format: unknown): ParsedResponse {
  const list = json.embeddings as Array<{ values?: number[] }> | undefined;
  if (!Array.isArray(list) || list.some((e) => !Array.isArray(e?.values)))
    throw new TypeError('response has no "embeddings[].values"');
  return {
    body: embeddingList(
      list.map((e) => e.values!),
      model,
      format,
      {},
    ),
    usage: {},
    responseModel: model,
  };
}
