// POST /v1/messages: request validation, deterministic answers, prompt-cache accounting and the SSE event sequence.
import { z } from 'zod';
import { anthropicError, anthropicProblem } from './anthropic-errors.js';
import type { Reply } from './faults.js';
import { applyStop, argsFromSchema, countTokens, fragments, nextId, splitDeltas, truncateToTokens } from './text.js';
import { check } from './validate.js';

const CacheControl = z.looseObject({ type: z.literal('ephemeral'), ttl: z.enum(['5m', '1h']).optional() }).nullish();
const TextBlock = z.looseObject({ type: z.literal('text'), text: z.string().min(1), cache_control: CacheControl });
const ImageSource = z.discriminatedUnion('type', [
  z.looseObject({
    type: z.literal('base64'),
    media_type: z.enum(['image/jpeg', 'image/png', 'image/gif', 'image/webp']),
    data: z.string(),
  }),
  z.looseObject({ type: z.literal('url'), url: z.string() }),
]);
const Block = z.discriminatedUnion('type', [
  TextBlock,
  z.looseObject({ type: z.literal('image'), source: ImageSource, cache_control: CacheControl }),
  z.looseObject({
    type: z.literal('document'),
    source: z.looseObject({ type: z.string() }),
    cache_control: CacheControl,
  }),
  z.looseObject({
    type: z.literal('tool_use'),
    id: z.string(),
    name: z.string(),
    input: z.record(z.string(), z.unknown()),
    cache_control: CacheControl,
  }),
  z.looseObject({
    type: z.literal('tool_result'),
    tool_use_id: z.string(),
    content: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]).optional(),
    is_error: z.boolean().optional(),
    cache_control: CacheControl,
  }),
  z.looseObject({ type: z.literal('thinking'), thinking: z.string(), signature: z.string() }),
  z.looseObject({ type: z.literal('redacted_thinking'), data: z.string() }),
]);
const Message = z.looseObject({ role: z.enum(['user', 'assistant']), content: z.union([z.string(), z.array(Block)]) });
const Tool = z.looseObject({
  name: z.string(),
  description: z.string().optional(),
  input_schema: z.record(z.string(), z.unknown()).optional(),
  cache_control: CacheControl,
});
const ToolChoice = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('auto'), disable_parallel_tool_use: z.boolean().optional() }),
  z.looseObject({ type: z.literal('any'), disable_parallel_tool_use: z.boolean().optional() }),
  z.looseObject({ type: z.literal('tool'), name: z.string(), disable_parallel_tool_use: z.boolean().optional() }),
  z.looseObject({ type: z.literal('none') }),
]);
const MessagesBody = z.looseObject({
  model: z.string(),
  max_tokens: z.number().int().min(1),
  messages: z.array(Message).min(1),
  system: z.union([z.string(), z.array(TextBlock)]).optional(),
  tools: z.array(Tool).optional(),
  tool_choice: ToolChoice.optional(),
  stop_sequences: z.array(z.string()).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  stream: z.boolean().optional(),
  metadata: z.looseObject({ user_id: z.string().nullish() }).optional(),
});
export type MessagesBody = z.infer<typeof MessagesBody>;

function blockText(b: z.infer<typeof Block>): string {
  switch (b.type) {
    case 'text':
      return b.text;
    case 'tool_use':
      return `${b.name} ${JSON.stringify(b.input)}`;
    case 'tool_result':
      return typeof b.content === 'string' ? b.content : JSON.stringify(b.content ?? '');
    case 'image':
      return b.source.type === 'url' ? b.source.url : 'image';
    default:
      return b.type;
  }
}

/**
 * Prompt tokens in Anthropic's order (tools, system, messages). Everything up to the last block with
 * cache_control is the cacheable prefix: written to the cache (cache_creation) the first time this fake
 * sees it, read (cache_read) afterwards; input_tokens counts only what follows the last breakpoint.
 * (The real API also needs a minimum prefix length; the fake does not, so tests stay small.)
 */
export function promptUsage(b: MessagesBody, seen: Set<string>) {
  const segs: { text: string; mark: boolean }[] = [];
  for (const t of b.tools ?? []) segs.push({ text: JSON.stringify(t), mark: !!t.cache_control });
  if (typeof b.system === 'string') segs.push({ text: b.system, mark: false });
  else for (const s of b.system ?? []) segs.push({ text: s.text, mark: !!s.cache_control });
  for (const m of b.messages) {
    if (typeof m.content === 'string') segs.push({ text: m.content, mark: false });
    else for (const c of m.content) segs.push({ text: blockText(c), mark: !!c.cache_control });
  }
  let bp = -1;
  for (let i = 0; i < segs.length; i++) if (segs[i].mark) bp = i;
  let prefixTokens = 0;
  let rest = 0;
  let key = '';
  for (let i = 0; i < segs.length; i++) {
    const n = countTokens(segs[i].text);
    if (i <= bp) {
      prefixTokens += n;
      key += `${segs[i].text}\u0000`;
    } else rest += n;
  }
  let creation = 0;
  let read = 0;
  if (bp >= 0) {
    if (seen.has(key)) read = prefixTokens;
    else {
      seen.add(key);
      creation = prefixTokens;
    }
  }
  return {
    input_tokens: bp >= 0 ? rest : Math.max(1, rest),
    cache_creation_input_tokens: creation,
    cache_read_input_tokens: read,
  };
}

function lastUserText(b: MessagesBody): { text: string; lastIsUserText: boolean } {
  const last = b.messages[b.messages.length - 1];
  for (let i = b.messages.length - 1; i >= 0; i--) {
    const m = b.messages[i];
    if (m.role !== 'user') continue;
    if (typeof m.content === 'string') return { text: m.content, lastIsUserText: m === last };
    const texts = m.content.filter((c) => c.type === 'text').map((c) => c.text);
    if (texts.length > 0)
      return { text: texts.join('\n'), lastIsUserText: m === last && !m.content.some((c) => c.type === 'tool_result') };
  }
  return { text: '', lastIsUserText: false };
}

type Content =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

function answer(b: MessagesBody) {
  const { text: user, lastIsUserText } = lastUserText(b);
  const tools = b.tools ?? [];
  const choice = b.tool_choice?.type ?? 'auto';
  let tool: (typeof tools)[number] | undefined;
  if (tools.length > 0 && choice !== 'none') {
    if (b.tool_choice?.type === 'tool') {
      const name = b.tool_choice.name;
      tool = tools.find((t) => t.name === name);
    } else if (choice === 'any' || (lastIsUserText && user.toLowerCase().includes('use a tool'))) tool = tools[0];
  }
  const content: Content[] = [];
  let stop_reason: string = 'end_turn';
  let stop_sequence: string | null = null;
  // With auto choice Claude usually says something before the tool call; forced choices go straight to it.
  if (!tool || choice === 'auto') {
    const cut = applyStop(`Hello from fake-anthropic: ${user}`, b.stop_sequences);
    let text = cut.text;
    if (cut.stop !== undefined) {
      stop_reason = 'stop_sequence';
      stop_sequence = cut.stop;
      tool = undefined;
    }
    if (countTokens(text) > b.max_tokens) {
      text = truncateToTokens(text, b.max_tokens);
      stop_reason = 'max_tokens';
      stop_sequence = null;
      tool = undefined;
    }
    content.push({ type: 'text', text });
  }
  if (tool) {
    content.push({ type: 'tool_use', id: nextId('toolu_'), name: tool.name, input: argsFromSchema(tool.input_schema) });
    stop_reason = 'tool_use';
  }
  let output = 0;
  for (const c of content) output += countTokens(c.type === 'text' ? c.text : c.name + JSON.stringify(c.input));
  return { content, stop_reason, stop_sequence, output_tokens: Math.max(1, output) };
}

export function countTokensReply(body: unknown): Reply {
  const v = check(MessagesBody.omit({ max_tokens: true }), body);
  if (!v.ok) return anthropicProblem(v.problem);
  return { status: 200, json: { input_tokens: promptUsage(v.value as MessagesBody, new Set()).input_tokens } };
}

export function messages(body: unknown, seen: Set<string>): Reply {
  const v = check(MessagesBody, body);
  if (!v.ok) {
    const msgs = body !== null && typeof body === 'object' ? (body as { messages?: unknown }).messages : undefined;
    if (Array.isArray(msgs)) {
      const i = msgs.findIndex(
        (m: unknown) => m !== null && typeof m === 'object' && 'role' in m && m.role === 'system',
      );

      if (i >= 0) {
        return anthropicError(
          400,
          'invalid_request_error',
          'messages: Unexpected role "system". The Messages API accepts a top-level `system` parameter, not "system" as an input message role.',
        );
      }
    }
    return anthropicProblem(v.problem);
  }
  const b = v.value;
  for (let i = 0; i < b.messages.length; i++) {
    const c = b.messages[i].content;
    if (c === '' || (Array.isArray(c) && c.length === 0 && i < b.messages.length - 1)) {
      return anthropicError(
        400,
        'invalid_request_error',
        `messages.${i}: all messages must have non-empty content except for the optional final assistant message`,
      );
    }
  }
  const usage = promptUsage(b, seen);
  const a = answer(b);
  const id = nextId('msg_');
  const fullUsage = {
    ...usage,
    cache_creation: { ephemeral_5m_input_tokens: usage.cache_creation_input_tokens, ephemeral_1h_input_tokens: 0 },
    output_tokens: a.output_tokens,
    service_tier: 'standard',
  };
  if (!b.stream) {
    return {
      status: 200,
      json: {
        id,
        type: 'message',
        role: 'assistant',
        model: b.model,
        content: a.content,
        stop_reason: a.stop_reason,
        stop_sequence: a.stop_sequence,
        usage: fullUsage,
      },
    };
  }
  const frames: string[] = [];
  const ev = (type: string, data: Record<string, unknown>) =>
    frames.push(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  ev('message_start', {
    message: {
      id,
      type: 'message',
      role: 'assistant',
      model: b.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...fullUsage, output_tokens: 1 },
    },
  });
  a.content.forEach((c, index) => {
    if (c.type === 'text') {
      ev('content_block_start', { index, content_block: { type: 'text', text: '' } });
      if (index === 0) ev('ping', {});
      for (const d of splitDeltas(c.text)) ev('content_block_delta', { index, delta: { type: 'text_delta', text: d } });
    } else {
      ev('content_block_start', { index, content_block: { type: 'tool_use', id: c.id, name: c.name, input: {} } });
      if (index === 0) ev('ping', {});
      ev('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: '' } });
      for (const f of fragments(JSON.stringify(c.input)))
        ev('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: f } });
    }
    ev('content_block_stop', { index });
  });
  ev('message_delta', {
    delta: { stop_reason: a.stop_reason, stop_sequence: a.stop_sequence },
    usage: { output_tokens: a.output_tokens },
  });
  ev('message_stop', {});
  return { status: 200, sse: frames };
}
