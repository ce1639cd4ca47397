// Gemini answers (generateContent JSON, usage, google.rpc errors) → OpenAI shapes.
import { randomUUID } from 'node:crypto';
import type { ProviderError, Usage } from '../types.js';
import { chatCompletion, errorTypeForStatus, type Choice, type ToolCall } from '../common/openai-shapes.js';

type Json = Record<string, unknown>;

export interface GeminiUsage {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  cachedContentTokenCount?: number;
  thoughtsTokenCount?: number;
  toolUsePromptTokenCount?: number;
}

/** promptTokenCount already includes cached tokens; thinking tokens are billed as output but counted apart. */
export function usageFromGemini(u: GeminiUsage | undefined): Usage {
  if (!u) return {};
  const out: Usage = {};
  if (u.promptTokenCount !== undefined) out.input_tokens = u.promptTokenCount + (u.toolUsePromptTokenCount ?? 0);
  if (u.candidatesTokenCount !== undefined || u.thoughtsTokenCount !== undefined)
    out.output_tokens = (u.candidatesTokenCount ?? 0) + (u.thoughtsTokenCount ?? 0);
  if (u.cachedContentTokenCount !== undefined) out.cache_read_tokens = u.cachedContentTokenCount;
  if (u.thoughtsTokenCount !== undefined) out.reasoning_tokens = u.thoughtsTokenCount;
  return out;
}

const FILTERED = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'LANGUAGE',
]);

export function finishReason(reason: unknown, hasToolCalls: boolean): string {
  if (reason === 'MAX_TOKENS') return 'length';
  if (typeof reason === 'string' && FILTERED.has(reason)) return 'content_filter';
  return hasToolCalls ? 'tool_calls' : 'stop';
}

/** Gemini rarely sends call ids; OpenAI clients need one to answer each call. */
export function callId(given: unknown): string {
  return typeof given === 'string' && given ? given : `call_${randomUUID().replace(/-/g, '').slice(0, 24)}`;
}

export interface PartsOut {
  text: string;
  toolCalls: ToolCall[];
}

/** Text and function calls of a candidate's parts; thought summaries are not answer text. */
export function readParts(parts: unknown): PartsOut {
  const out: PartsOut = { text: '', toolCalls: [] };
  if (!Array.isArray(parts)) return out;
  for (const p of parts as Json[]) {
    if (p.thought === true) continue;
    if (typeof p.text === 'string') out.text += p.text;
    const fc = p.functionCall as { name?: string; args?: unknown; id?: string } | undefined;
    if (fc?.name) out.toolCalls.push({ id: callId(fc.id), name: fc.name, arguments: JSON.stringify(fc.args ?? {}) });
  }
  return out;
}

export function toOpenAIChat(json: Json, requestModel: string): { body: Json; usage: Usage; finishReasons: string[] } {
  const candidates = json.candidates as Array<Json> | undefined;
  const feedback = json.promptFeedback as { blockReason?: string } | undefined;
  if (!Array.isArray(candidates) && !feedback?.blockReason) throw new TypeError('response has no "candidates"');
  const choices: Choice[] = [];
  if (!candidates?.length) choices.push({ text: '', toolCalls: [], finishReason: 'content_filter' });
  else {
    const sorted = [...candidates].sort((a, b) => Number(a.index ?? 0) - Number(b.index ?? 0));
    for (const c of sorted) {
      const { text, toolCalls } = readParts((c.content as Json | undefined)?.parts);
      choices.push({ text, toolCalls, finishReason: finishReason(c.finishReason, toolCalls.length > 0) });
    }
  }
  const usage = usageFromGemini(json.usageMetadata as GeminiUsage);
  const id = typeof json.responseId === 'string' ? json.responseId : callId(undefined).replace('call_', 'chatcmpl-');
  const model = typeof json.modelVersion === 'string' ? json.modelVersion : requestModel;
  return { body: chatCompletion(id, model, choices, usage), usage, finishReasons: choices.map((c) => c.finishReason) };
}

/** google.rpc.Code names → HTTP statuses (the mapping Google's own gateways use). */
const RPC_STATUS: Record<string, number> = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  OUT_OF_RANGE: 400,
  UNAUTHENTICATED: 401,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  ABORTED: 409,
  ALREADY_EXISTS: 409,
  RESOURCE_EXHAUSTED: 429,
  CANCELLED: 499,
  UNKNOWN: 500,
  INTERNAL: 500,
  DATA_LOSS: 500,
  UNIMPLEMENTED: 501,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
};

export function statusForRpc(status: unknown, fallback = 500): number {
  return (typeof status === 'string' && RPC_STATUS[status]) || fallback;
}

/** `{"error": {"code", "message", "status"}}` (sometimes wrapped in an array) → our error. */
export function parseGoogleError(status: number, text: string): ProviderError {
  try {
    let j = JSON.parse(text) as unknown;
    if (Array.isArray(j)) j = j[0];
    const e = (
      j as { error?: { code?: number; message?: string; status?: string; details?: Array<{ reason?: string }> } }
    )?.error;
    if (e && typeof e === 'object') {
      // Google answers a bad API key with 400 INVALID_ARGUMENT; it is an auth failure (401) to routing.
      const badKey = Array.isArray(e.details) && e.details.some((d) => d?.reason === 'API_KEY_INVALID');
      const std = badKey ? 401 : e.status ? statusForRpc(e.status, status) : status;
      return {
        message: e.message ?? `upstream returned ${status}`,
        type: errorTypeForStatus(std),
        code: e.status ?? null,
        ...(std !== status ? { status: std } : {}),
      };
    }
  } catch {
    /* not JSON */
  }
  return {
    message: `upstream returned ${status}${text ? `: ${text.slice(0, 200)}` : ''}`,
    type: errorTypeForStatus(status),
    code: null,
  };
}
