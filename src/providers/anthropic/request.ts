// OpenAI chat request → Anthropic Messages API request.
import { UnsupportedRequestError } from '../types.js';
import { functionTools } from '../common/chat-input.js';

type Json = Record<string, unknown>;
type Block = Json;

interface OpenAIMessage {
  role: string;
  content?: unknown;
  tool_calls?: Array<{ id: string; type?: string; function: { name: string; arguments?: string } }>;
  tool_call_id?: string;
  name?: string;
}

export const DEFAULT_MAX_TOKENS = 4096;

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((p) => (p && typeof p === 'object' && (p as Json).type === 'text' ? String((p as Json).text ?? '') : ''))
      .join('');
  }
  return '';
}

function imageBlock(url: string): Block {
  const m = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (m) return { type: 'image', source: { type: 'base64', media_type: m[1], data: m[2] } };
  return { type: 'image', source: { type: 'url', url } };
}

function contentBlocks(content: unknown): Block[] {
  if (content === null || content === undefined) return [];
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  if (!Array.isArray(content))
    throw new UnsupportedRequestError('message content must be a string or an array of parts');
  return content.map((part: Json) => {
    switch (part?.type) {
      case 'text':
        // cache_control on a text part marks Anthropic's prompt-cache prefix (as Portkey allows).
        return part.cache_control
          ? { type: 'text', text: String(part.text ?? ''), cache_control: part.cache_control }
          : { type: 'text', text: String(part.text ?? '') };
      case 'image_url': {
        const iu = part.image_url as { url?: string } | string | undefined;
        const url = typeof iu === 'string' ? iu : iu?.url;
        if (!url) throw new UnsupportedRequestError('image_url part without a url');
        return imageBlock(url);
      }
      default:
        throw new UnsupportedRequestError(`content part type "${String(part?.type)}" is not supported by anthropic`);
    }
  });
}

function parseArgs(args: string | undefined): unknown {
  if (!args) return {};
  try {
    return JSON.parse(args);
  } catch {
    throw new UnsupportedRequestError('tool_calls[].function.arguments must be a JSON string');
  }
}

/** Anthropic wants alternating user/assistant turns; consecutive same-role messages are merged. */
function pushTurn(out: Array<{ role: string; content: Block[] }>, role: string, blocks: Block[]): void {
  const last = out[out.length - 1];
  if (last && last.role === role) last.content.push(...blocks);
  else out.push({ role, content: blocks });
}

function toolChoice(tc: unknown, parallel: unknown): Json | undefined {
  let out: Json | undefined;
  if (tc === 'auto') out = { type: 'auto' };
  else if (tc === 'required') out = { type: 'any' };
  else if (tc === 'none') out = { type: 'none' };
  else if (tc && typeof tc === 'object') {
    const name = (tc as { function?: { name?: string } }).function?.name;
    if (!name) throw new UnsupportedRequestError('tool_choice object needs function.name');
    out = { type: 'tool', name };
  }
  if (parallel === false) out = { ...(out ?? { type: 'auto' }), disable_parallel_tool_use: true };
  return out;
}

export function toAnthropicRequest(body: Json): Json {
  if (typeof body.n === 'number' && body.n > 1) throw new UnsupportedRequestError('anthropic does not support n > 1');
  const messages = body.messages as OpenAIMessage[];
  const system: Block[] = [];
  const turns: Array<{ role: string; content: Block[] }> = [];
  for (const m of messages) {
    switch (m.role) {
      case 'system':
      case 'developer':
        system.push(...contentBlocks(m.content));
        break;
      case 'user':
        pushTurn(turns, 'user', contentBlocks(m.content));
        break;
      case 'assistant': {
        const blocks = contentBlocks(m.content);
        for (const tc of m.tool_calls ?? []) {
          blocks.push({ type: 'tool_use', id: tc.id, name: tc.function.name, input: parseArgs(tc.function.arguments) });
        }
        pushTurn(turns, 'assistant', blocks);
        break;
      }
      case 'tool':
        pushTurn(turns, 'user', [{ type: 'tool_result', tool_use_id: m.tool_call_id, content: textOf(m.content) }]);
        break;
      default:
        throw new UnsupportedRequestError(`message role "${m.role}" is not supported by anthropic`);
    }
  }
  const out: Json = {
    model: body.model,
    messages: turns,
    max_tokens: body.max_completion_tokens ?? body.max_tokens ?? DEFAULT_MAX_TOKENS,
  };
  if (system.length)
    out.system = system.every((b) => b.type === 'text' && !b.cache_control)
      ? system.map((b) => b.text).join('\n')
      : system;
  if (body.temperature !== undefined && body.temperature !== null) out.temperature = body.temperature;
  if (body.top_p !== undefined && body.top_p !== null) out.top_p = body.top_p;
  if (body.stop !== undefined && body.stop !== null)
    out.stop_sequences = Array.isArray(body.stop) ? body.stop : [body.stop];
  if (body.stream === true) out.stream = true;
  if (typeof body.user === 'string') out.metadata = { user_id: body.user };
  // The shared reader checks the shape (an array of function tools) and names what is wrong.
  const tools = functionTools(body, 'anthropic');
  if (tools.length)
    out.tools = tools.map((t) => ({
      name: t.name,
      ...(t.description ? { description: t.description } : {}),
      input_schema: t.parameters,
    }));
  const tc = toolChoice(body.tool_choice, body.parallel_tool_calls);
  if (tc) out.tool_choice = tc;
  return out;
}
