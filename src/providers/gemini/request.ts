// OpenAI chat request → Gemini generateContent request (Gemini API and Vertex AI share it).
import { UnsupportedRequestError } from '../types.js';
import {
  contentParts,
  functionTools,
  maxTokens,
  num,
  parseArgs,
  responseFormat,
  stopList,
  textOf,
  toolChoice,
  toolNamesById,
  type OpenAIMessage,
  type Part,
} from '../common/chat-input.js';

type Json = Record<string, unknown>;
interface Turn {
  role: 'user' | 'model';
  parts: Json[];
}

const MIME_BY_EXT: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  pdf: 'application/pdf',
};

function geminiPart(p: Part): Json {
  if (p.kind === 'text') return { text: p.text };
  if (p.data !== undefined) return { inlineData: { mimeType: p.mime, data: p.data } };
  const ext = /\.([a-z0-9]+)(?:[?#]|$)/i.exec(p.url ?? '')?.[1]?.toLowerCase();
  return { fileData: { mimeType: (ext && MIME_BY_EXT[ext]) || 'image/jpeg', fileUri: p.url } };
}

function push(turns: Turn[], role: Turn['role'], parts: Json[]): void {
  if (parts.length === 0) return;
  const last = turns[turns.length - 1];
  if (last && last.role === role) last.parts.push(...parts);
  else turns.push({ role, parts });
}

/** A tool result must be a JSON object for functionResponse.response; plain text is wrapped. */
function toolResponse(content: unknown): Json {
  const text = textOf(content);
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Json;
  } catch {
    /* plain text */
  }
  return { content: text };
}

// OpenAI's reasoning_effort → a thinking budget (tokens); "minimal"/"none" turn thinking off where the model allows.
const THINKING_BUDGET: Record<string, number> = { none: 0, minimal: 0, low: 1024, medium: 8192, high: 24576 };

export function toGeminiRequest(body: Json, provider: string): Json {
  if (body.logit_bias !== undefined && body.logit_bias !== null)
    throw new UnsupportedRequestError(`${provider} does not support logit_bias`);
  if (Array.isArray(body.modalities) && body.modalities.includes('audio'))
    throw new UnsupportedRequestError(`${provider} chat does not produce audio output`);
  const messages = body.messages as OpenAIMessage[];
  const names = toolNamesById(messages);
  const system: Json[] = [];
  const contents: Turn[] = [];
  for (const m of messages) {
    switch (m.role) {
      case 'system':
      case 'developer': {
        const parts = contentParts(m.content, provider);
        if (parts.some((p) => p.kind !== 'text'))
          throw new UnsupportedRequestError(`${provider}: system messages take text only`);
        system.push(...parts.map(geminiPart));
        break;
      }
      case 'user':
        push(contents, 'user', contentParts(m.content, provider).map(geminiPart));
        break;
      case 'assistant': {
        const parts = contentParts(m.content, provider).map(geminiPart);
        for (const tc of m.tool_calls ?? [])
          parts.push({ functionCall: { name: tc.function.name, args: parseArgs(tc.function.arguments) } });
        push(contents, 'model', parts);
        break;
      }
      case 'tool': {
        const name = (m.tool_call_id && names.get(m.tool_call_id)) || m.name;
        if (!name)
          throw new UnsupportedRequestError(
            `${provider}: tool message "${m.tool_call_id ?? ''}" answers no earlier tool call`,
          );
        // Parallel results go back in one turn, in call order, as Gemini expects.
        push(contents, 'user', [{ functionResponse: { name, response: toolResponse(m.content) } }]);
        break;
      }
      default:
        throw new UnsupportedRequestError(`message role "${m.role}" is not supported by ${provider}`);
    }
  }
  if (contents.length === 0)
    throw new UnsupportedRequestError(`${provider} needs at least one user or assistant message`);

  const gen: Json = {};
  const stop = stopList(body.stop);
  if (stop) gen.stopSequences = stop;
  const max = maxTokens(body);
  if (max !== undefined) gen.maxOutputTokens = max;
  for (const [from, to] of [
    ['temperature', 'temperature'],
    ['top_p', 'topP'],
    ['seed', 'seed'],
    ['presence_penalty', 'presencePenalty'],
    ['frequency_penalty', 'frequencyPenalty'],
    ['n', 'candidateCount'],
  ] as const) {
    const v = num(body[from]);
    if (v !== undefined) gen[to] = v;
  }
  const rf = responseFormat(body.response_format);
  if (rf.kind !== 'text') gen.responseMimeType = 'application/json';
  if (rf.kind === 'json_schema') gen.responseJsonSchema = rf.schema; // full JSON Schema, unlike responseSchema's OpenAPI subset
  if (typeof body.reasoning_effort === 'string') {
    const budget = THINKING_BUDGET[body.reasoning_effort];
    if (budget === undefined)
      throw new UnsupportedRequestError(
        `reasoning_effort "${body.reasoning_effort}" is not one of none, minimal, low, medium, high`,
      );
    gen.thinkingConfig = { thinkingBudget: budget };
  }

  const out: Json = { contents };
  if (system.length) out.systemInstruction = { parts: system };
  if (Object.keys(gen).length) out.generationConfig = gen;
  const tools = functionTools(body, provider);
  if (tools.length) {
    out.tools = [
      {
        functionDeclarations: tools.map((t) => ({
          name: t.name,
          ...(t.description ? { description: t.description } : {}),
          parametersJsonSchema: t.parameters,
        })),
      },
    ];
  }
  const tc = toolChoice(body.tool_choice);
  if (tc) {
    const cfg: Json =
      tc.mode === 'auto'
        ? { mode: 'AUTO' }
        : tc.mode === 'none'
          ? { mode: 'NONE' }
          : tc.mode === 'required'
            ? { mode: 'ANY' }
            : { mode: 'ANY', allowedFunctionNames: [tc.name] };
    out.toolConfig = { functionCallingConfig: cfg };
  }
  return out;
}
