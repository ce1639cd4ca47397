// Embeddings on Bedrock through InvokeModel with each model family's own body: Amazon Titan
// (one text per call) and Cohere Embed (a batch of texts).
import { UnsupportedRequestError, type ParsedResponse } from '../types.js';
import { embeddingInputs, num } from '../common/chat-input.js';
import { embeddingList } from '../common/openai-shapes.js';

type Json = Record<string, unknown>;

export function embedFamily(model: string): 'titan' | 'cohere' {
  // Inference profiles prefix a geography ("us.cohere.embed-…").
  if (/(^|\.)amazon\.titan-embed/.test(model)) return 'titan';
  if (/(^|\.)cohere\.embed/.test(model)) return 'cohere';
  throw new UnsupportedRequestError(`bedrock embeddings support Amazon Titan and Cohere Embed models, not "${model}"`);
}

export function toInvokeEmbedBody(body: Json, model: string): Json {
  const inputs = embeddingInputs(body.input, 'bedrock');
  const dims = num(body.dimensions);
  if (embedFamily(model) === 'titan') {
    if (inputs.length !== 1)
      throw new UnsupportedRequestError('bedrock Titan embeddings take one input per request; send a single string');
    return { inputText: inputs[0], ...(dims !== undefined ? { dimensions: dims } : {}) };
  }
  if (dims !== undefined) throw new UnsupportedRequestError('bedrock Cohere embeddings do not support dimensions');
  const inputType = typeof body.input_type === 'string' ? body.input_type : 'search_document';
  return { texts: inputs, input_type: inputType };
}

export function fromInvokeEmbed(json: Json, model: string, format: unknown): ParsedResponse {
  if (Array.isArray(json.embedding)) {
    const usage = typeof json.inputTextTokenCount === 'number' ? { input_tokens: json.inputTextTokenCount } : {};
    return { body: embeddingList([json.embedding as number[]], model, format, usage), usage, responseModel: model };
  }
  // Cohere: "embeddings" is a list (embeddings_floats) or {float: [...]} (embeddings_by_type).
  const e = json.embeddings as number[][] | { float?: number[][] } | undefined;
  const vectors = Array.isArray(e) ? e : e?.float;
  if (!Array.isArray(vectors)) throw new TypeError('response has no "embedding" or "embeddings"');
  return { body: embeddingList(vectors, model, format, {}), usage: {}, responseModel: model };
}
