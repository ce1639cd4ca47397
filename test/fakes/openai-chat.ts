// POST /v1/chat/completions: deterministic chat.completion objects and chat.completion.chunk streams.
import { z } from 'zod';
import type { Reply } from './faults.js';
import { openaiProblem } from './openai-errors.js';
import { applyStop, argsFromSchema, countTokens, fragments, nextId, splitDeltas, truncateToTokens } from './text.js';
import { check } from './validate.js';

const Part = z.looseObject({ type: z.string() });
const Message = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: z.union([z.string(), z.array(Part), z.null()]).optional(),
});
const Tool = z.looseObject({
  type: z.literal('function'),
  function: z.looseObject({
    name: z.string(),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
  }),
});
const ChatBody = z.looseObject({
  model: z.string(),
  messages: z.array(Message).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  n: z.number().int().min(1).max(128).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
  tools: z.array(Tool).nullish(),
  tool_choice: z
    .union([
      z.enum(['none', 'auto', 'required']),
      z.looseObject({ type: z.literal('function'), function: z.looseObject({ name: z.string() }) }),
    ])
    .nullish(),
});
export type ChatBody = z.infer<typeof ChatBody>;

export const FINGERPRINT = 'fp_fake0001';
/** A prompt containing this marker reports half its prompt tokens as cached (prompt caching). */
export const OPENAI_CACHE_MARKER = '[cache]';
/** Reasoning models report this many reasoning tokens, inside completion_tokens. */
export const REASONING_TOKENS = 16;

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let s = '';
  for (const p of content)
    if (p && typeof p === 'object' && 'text' in p && typeof p.text === 'string') s += `${s ? '\n' : ''}${p.text}`;

  return s;
}

function isReasoning(model: string): boolean {
  return /^(o\d|gpt-5)/.test(model);
}

interface Answer {
  text: string | null;
  tool?: { id: string; name: string; arguments: string };
  finish: 'stop' | 'length' | 'tool_calls';
  usage: Record<string, unknown>;
}

function pickTool(b: ChatBody, lastIsUser: boolean, lastUser: string) {
  const tools = b.tools ?? [];
  if (tools.length === 0 || b.tool_choice === 'none') return undefined;
  if (b.tool_choice && typeof b.tool_choice === 'object') {
    const name = b.tool_choice.function.name;
    return tools.find((t) => t.function.name === name);
  }
  if (b.tool_choice === 'required' || (lastIsUser && lastUser.toLowerCase().includes('use a tool'))) return tools[0];
  return undefined;
}

function answer(b: ChatBody): Answer {
  const msgs = b.messages;
  let lastUser = '';
  for (let i = msgs.length - 1; i >= 0; i--)
    if (msgs[i].role === 'user') {
      lastUser = textOf(msgs[i].content);
      break;
    }
  let promptText = '';
  for (const m of msgs) promptText += `${textOf(m.content)}\n`;
  let promptTokens = countTokens(promptText) + (b.tools ? countTokens(JSON.stringify(b.tools)) : 0);
  if (promptTokens === 0) promptTokens = 1;
  const cached = promptText.includes(OPENAI_CACHE_MARKER) ? Math.floor(promptTokens / 2) : 0;
  const reasoning = isReasoning(b.model) ? REASONING_TOKENS : 0;

  const tool = pickTool(b, msgs[msgs.length - 1].role === 'user', lastUser);
  let text: string | null = null;
  let finish: Answer['finish'] = 'stop';
  let completion: number;
  let call: Answer['tool'];
  if (tool) {
    call = {
      id: nextId('call_'),
      name: tool.function.name,
      arguments: JSON.stringify(argsFromSchema(tool.function.parameters)),
    };
    finish = 'tool_calls';
    completion = countTokens(call.name + call.arguments);
  } else {
    const stops = typeof b.stop === 'string' ? [b.stop] : (b.stop ?? undefined);
    text = applyStop(`Hello from fake-openai: ${lastUser}`, stops).text;
    const max = b.max_completion_tokens ?? b.max_tokens;
    if (max != null && countTokens(text) > max) {
      text = truncateToTokens(text, max);
      finish = 'length';
    }
    completion = countTokens(text);
  }
  completion += reasoning;
  return {
    text,
    tool: call,
    finish,
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completion,
      total_tokens: promptTokens + completion,
      prompt_tokens_details: { cached_tokens: cached, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: reasoning,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    },
  };
}

export function chatCompletion(body: unknown): Reply {
  const v = check(ChatBody, body);
  if (!v.ok) return openaiProblem(v.problem);
  const b = v.value;
  const a = answer(b);
  const id = nextId('chatcmpl-');
  const created = Math.floor(Date.now() / 1000);
  if (b.stream) return { status: 200, sse: streamFrames(b, a, id, created) };
  const message: Record<string, unknown> = { role: 'assistant', content: a.text, refusal: null, annotations: [] };
  if (a.tool)
    message.tool_calls = [
      { id: a.tool.id, type: 'function', function: { name: a.tool.name, arguments: a.tool.arguments } },
    ];
  const n = b.n ?? 1;
  const choices = [];
  for (let i = 0; i < n; i++) choices.push({ index: i, message, logprobs: null, finish_reason: a.finish });
  return {
    status: 200,
    json: {
      id,
      object: 'chat.completion',
      created,
      model: b.model,
      choices,
      usage: a.usage,
      service_tier: 'default',
      system_fingerprint: FINGERPRINT,
    },
  };
}

function streamFrames(b: ChatBody, a: Answer, id: string, created: number): string[] {
  const withUsage = b.stream_options?.include_usage === true;
  const frames: string[] = [];
  const push = (delta: Record<string, unknown>, finish: string | null) => {
    const chunk: Record<string, unknown> = {
      id,
      object: 'chat.completion.chunk',
      created,
      model: b.model,
      service_tier: 'default',
      system_fingerprint: FINGERPRINT,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    };
    if (withUsage) chunk.usage = null;
    frames.push(`data: ${JSON.stringify(chunk)}\n\n`);
  };
  if (a.tool) {
    push(
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ index: 0, id: a.tool.id, type: 'function', function: { name: a.tool.name, arguments: '' } }],
        refusal: null,
      },
      null,
    );
    for (const f of fragments(a.tool.arguments)) push({ tool_calls: [{ index: 0, function: { arguments: f } }] }, null);
  } else {
    push({ role: 'assistant', content: '', refusal: null }, null);
    for (const d of splitDeltas(a.text ?? '')) push({ content: d }, null);
  }
  push({}, a.finish);
  if (withUsage) {
    const last = {
      id,
      object: 'chat.completion.chunk',
      created,
      model: b.model,
      service_tier: 'default',
      system_fingerprint: FINGERPRINT,
      choices: [],
      usage: a.usage,
    };
    frames.push(`data: ${JSON.stringify(last)}\n\n`);
  }
  frames.push('data: [DONE]\n\n');
  return frames;
}
