// Bedrock Converse answers (JSON, usage, errors) → OpenAI shapes.
import type { IncomingHttpHeaders } from 'node:http';
import type { ProviderError, Usage } from '../types.js';
import { chatCompletion, errorTypeForStatus, syntheticId, type ToolCall } from '../common/openai-shapes.js';

type Json = Record<string, unknown>;

export interface BedrockUsage {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
}

/** Converse's inputTokens excludes cache reads and writes; GenAI input_tokens is their sum. */
export function usageFromBedrock(u: BedrockUsage | undefined): Usage {
  if (!u) return {};
  const out: Usage = {};
  const read = u.cacheReadInputTokens ?? 0;
  const write = u.cacheWriteInputTokens ?? 0;
  if (u.inputTokens !== undefined) out.input_tokens = u.inputTokens + read + write;
  if (u.outputTokens !== undefined) out.output_tokens = u.outputTokens;
  if (u.cacheReadInputTokens !== undefined) out.cache_read_tokens = read;
  if (u.cacheWriteInputTokens !== undefined) out.cache_write_tokens = write;
  return out;
}

const STOP: Record<string, string> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  guardrail_intervened: 'content_filter',
  content_filtered: 'content_filter',
};

export function finishReason(stop: unknown, jsonMode: boolean): string {
  const fr = (typeof stop === 'string' && STOP[stop]) || 'stop';
  return jsonMode && fr === 'tool_calls' ? 'stop' : fr;
}

export function toOpenAIChat(
  json: Json,
  model: string,
  jsonTool: string | undefined,
): { body: Json; usage: Usage; finishReason: string } {
  const message = (json.output as { message?: { content?: Json[] } } | undefined)?.message;
  if (!message || !Array.isArray(message.content)) throw new TypeError('response has no "output.message.content"');
  let text = '';
  const toolCalls: ToolCall[] = [];
  for (const b of message.content) {
    if (typeof b.text === 'string') text += b.text;
    const tu = b.toolUse as { toolUseId?: string; name?: string; input?: unknown } | undefined;
    if (tu?.name) {
      if (jsonTool && tu.name === jsonTool) text += JSON.stringify(tu.input ?? {});
      else
        toolCalls.push({
          id: tu.toolUseId ?? syntheticId('call'),
          name: tu.name,
          arguments: JSON.stringify(tu.input ?? {}),
        });
    }
  }
  const usage = usageFromBedrock(json.usage as BedrockUsage);
  const fr = finishReason(json.stopReason, jsonTool !== undefined);
  return {
    body: chatCompletion(syntheticId('chatcmpl-bedrock'), model, [{ text, toolCalls, finishReason: fr }], usage),
    usage,
    finishReason: fr,
  };
}

/**
 * Bedrock error names → standard statuses where Bedrock's own differ, so one retry/fallback policy
 * fits every provider: credential failures are 401, quota and throttling 429, model failures 502.
 */
const STATUS_BY_TYPE: Record<string, number> = {
  ThrottlingException: 429,
  ServiceQuotaExceededException: 429,
  ModelNotReadyException: 429,
  ServiceUnavailableException: 503,
  InternalServerException: 500,
  ModelErrorException: 502,
  ModelStreamErrorException: 502,
  ModelTimeoutException: 408,
  ValidationException: 400,
  ResourceNotFoundException: 404,
  AccessDeniedException: 403,
  UnrecognizedClientException: 401,
  InvalidSignatureException: 401,
  IncompleteSignatureException: 401,
  MissingAuthenticationTokenException: 401,
  ExpiredTokenException: 401,
};

/** Exception names arrive as "ThrottlingException", "throttlingException" (streams) or "…Exception:http://…". */
export function normalizeType(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  const name = raw.split(':')[0].split('#').pop()!.trim();
  return name ? name[0].toUpperCase() + name.slice(1) : undefined;
}

export function statusForType(type: string | undefined, fallback: number): number {
  return (type && STATUS_BY_TYPE[type]) || fallback;
}

export function bedrockError(status: number, type: string | undefined, message: string | undefined): ProviderError {
  const std = statusForType(type, status);
  return {
    message: message ?? `upstream returned ${status}`,
    type: errorTypeForStatus(std),
    code: type ?? null,
    ...(std !== status ? { status: std } : {}),
  };
}

export function parseBedrockError(status: number, text: string, headers: IncomingHttpHeaders): ProviderError {
  const h = headers['x-amzn-errortype'];
  let type = normalizeType(Array.isArray(h) ? h[0] : h);
  let message: string | undefined;
  try {
    const j = JSON.parse(text) as { message?: string; Message?: string; __type?: string };
    message = j.message ?? j.Message;
    type ??= normalizeType(j.__type);
  } catch {
    if (text) message = `upstream returned ${status}: ${text.slice(0, 200)}`;
  }
  return bedrockError(status, type, message);
}
