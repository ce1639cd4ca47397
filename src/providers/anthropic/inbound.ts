// The Messages API served to clients (POST /v1/messages) in front of providers that are not
// Anthropic: an Anthropic request → the OpenAI-shaped internal request every adapter takes, and
// the adapters' OpenAI-shaped answers and chunks → Anthropic's message and event sequence.
import { UnsupportedRequestError, type Usage } from '../types.js';

type Json = Record<string, unknown>;

// ---- request: Anthropic → OpenAI-shaped ----

function textOfBlocks(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((b: Json) => b?.type === 'text')
    .map((b: Json) => String(b.text ?? ''))
    .join('\n');
}

function imagePart(source: Json): Json {
  if (source.type === 'base64')
    return { type: 'image_url', image_url: { url: `data:${String(source.media_type)};base64,${String(source.data)}` } };
  if (source.type === 'url') return { type: 'image_url', image_url: { url: String(source.url) } };
  throw new UnsupportedRequestError(`image source type "${String(source.type)}" can only go to an Anthropic target`);
}

function documentPart(b: Json): Json {
  const s = (b.source ?? {}) as Json;
  if (s.type === 'text') return { type: 'text', text: String(s.data ?? '') };
  if (s.type === 'base64' && s.media_type === 'application/pdf') {
    return {
      type: 'file',
      file: {
        filename: typeof b.title === 'string' ? b.title : 'document.pdf',
        file_data: `data:application/pdf;base64,${String(s.data)}`,
      },
    };
  }
  throw new UnsupportedRequestError(`document source type "${String(s.type)}" can only go to an Anthropic target`);
}

/** User content parts in OpenAI's shape (tool results are separate messages, see below). */
function userPartOf(b: Json): Json | undefined {
  switch (b.type) {
    case 'text':
      return { type: 'text', text: String(b.text ?? '') };
    case 'image':
      return imagePart((b.source ?? {}) as Json);
    case 'document':
      return documentPart(b);
    case 'thinking':
    case 'redacted_thinking':
      return undefined;
    default:
      throw new UnsupportedRequestError(`content block type "${String(b.type)}" can only go to an Anthropic target`);
  }
}

function toolResultText(b: Json): string {
  const c = b.content;
  const text = typeof c === 'string' ? c : Array.isArray(c) ? textOfBlocks(c) : '';
  return b.is_error === true && text === '' ? 'error' : text;
}

/**
 * An Anthropic Messages request → the OpenAI chat request the other adapters translate from.
 * What only Anthropic serves (server tools, file sources…) is left out and named in `problems`:
 * the request may still go to an Anthropic target as it is, never to another provider.
 */
export function messagesToChat(body: Json, problems: string[] = []): Json {
  const userPart = (b: Json): Json | undefined => {
    try {
      return userPartOf(b);
    } catch (e) {
      if (!(e instanceof UnsupportedRequestError)) throw e;
      problems.push(e.message);
      return undefined;
    }
  };
  const messages: Json[] = [];
  const system = typeof body.system === 'string' ? body.system : textOfBlocks(body.system);
  if (system !== '') messages.push({ role: 'system', content: system });
  for (const m of body.messages as Array<{ role: string; content: unknown }>) {
    const blocks: Json[] = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : (m.content as Json[]);
    if (m.role === 'assistant') {
      const text = blocks
        .filter((b) => b.type === 'text')
        .map((b) => String(b.text ?? ''))
        .join('');
      const calls = blocks
        .filter((b) => b.type === 'tool_use')
        .map((b) => ({
          id: b.id,
          type: 'function',
          function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) },
        }));
      for (const b of blocks)
        if (!['text', 'tool_use', 'thinking', 'redacted_thinking'].includes(String(b.type))) userPart(b);
      const msg: Json = { role: 'assistant', content: text === '' && calls.length ? null : text };
      if (calls.length) msg.tool_calls = calls;
      messages.push(msg);
      continue;
    }
    // Tool results answer the previous assistant turn's calls: they come first, as tool messages.
    for (const b of blocks)
      if (b.type === 'tool_result')
        messages.push({ role: 'tool', tool_call_id: b.tool_use_id, content: toolResultText(b) });
    const parts = blocks
      .filter((b) => b.type !== 'tool_result')
      .map(userPart)
      .filter((p): p is Json => p !== undefined);
    if (parts.length === 0) continue;
    messages.push({
      role: 'user',
      content: parts.every((p) => p.type === 'text') ? parts.map((p) => p.text).join('\n') : parts,
    });
  }
  const out: Json = { model: body.model, messages, max_tokens: body.max_tokens };
  if (body.stream === true) out.stream = true;
  if (typeof body.temperature === 'number') out.temperature = body.temperature;
  if (typeof body.top_p === 'number') out.top_p = body.top_p;
  if (Array.isArray(body.stop_sequences) && body.stop_sequences.length) out.stop = body.stop_sequences;
  const user = (body.metadata as { user_id?: unknown } | undefined)?.user_id;
  if (typeof user === 'string') out.user = user;
  const tools = body.tools as Json[] | undefined;
  if (tools?.length) {
    out.tools = tools.flatMap((t) => {
      if (t.type !== undefined && t.type !== 'custom') {
        problems.push(`tool type "${String(t.type)}" can only go to an Anthropic target`);
        return [];
      }
      const fn: Json = { name: t.name, parameters: t.input_schema ?? { type: 'object', properties: {} } };
      if (typeof t.description === 'string') fn.description = t.description;
      return [{ type: 'function', function: fn }];
    });
  }
  const tc = body.tool_choice as Json | undefined;
  if (tc) {
    if (tc.type === 'auto') out.tool_choice = 'auto';
    else if (tc.type === 'any') out.tool_choice = 'required';
    else if (tc.type === 'none') out.tool_choice = 'none';
    else if (tc.type === 'tool') out.tool_choice = { type: 'function', function: { name: tc.name } };
    if (tc.disable_parallel_tool_use === true) out.parallel_tool_calls = false;
  }
  return out;
}

// ---- answers: OpenAI-shaped → Anthropic ----

const stopReasons: Record<string, string> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  content_filter: 'refusal',
};

export function stopReason(finish: unknown): string {
  return typeof finish === 'string' ? (stopReasons[finish] ?? 'end_turn') : 'end_turn';
}

/** Our usage (input includes cached tokens) → Anthropic's (input excludes cache reads and writes). */
export function anthropicUsage(u: Usage): Json {
  const read = u.cache_read_tokens ?? 0;
  const write = u.cache_write_tokens ?? 0;
  return {
    input_tokens: Math.max(0, (u.input_tokens ?? 0) - read - write),
    cache_creation_input_tokens: write,
    cache_read_input_tokens: read,
    output_tokens: u.output_tokens ?? 0,
  };
}

function parseInput(args: unknown): unknown {
  if (typeof args !== 'string' || args === '') return {};
  try {
    return JSON.parse(args);
  } catch {
    return {};
  }
}

export function messageId(id: unknown): string {
  const s =
    typeof id === 'string' && id !== '' ? id : `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;
  return s.startsWith('msg_') ? s : `msg_${s}`;
}

/** An OpenAI chat.completion (from any adapter) and its usage → an Anthropic message. */
export function chatToMessage(body: Json, usage: Usage, requestModel: string): Json {
  const choice = ((body.choices as Json[] | undefined) ?? [])[0] ?? {};
  const msg = (choice.message ?? {}) as {
    content?: unknown;
    tool_calls?: Array<{ id?: string; function?: { name?: string; arguments?: string } }>;
  };
  const content: Json[] = [];
  const text = typeof msg.content === 'string' ? msg.content : textOfBlocks(msg.content);
  if (text !== '') content.push({ type: 'text', text });
  for (const c of msg.tool_calls ?? [])
    content.push({
      type: 'tool_use',
      id: c.id ?? messageId(undefined).replace('msg_', 'toolu_'),
      name: c.function?.name ?? '',
      input: parseInput(c.function?.arguments),
    });
  return {
    id: messageId(body.id),
    type: 'message',
    role: 'assistant',
    model: typeof body.model === 'string' ? body.model : requestModel,
    content,
    stop_reason: stopReason(choice.finish_reason),
    stop_sequence: null,
    usage: anthropicUsage(usage),
  };
}

// ---- streams: OpenAI chunks → Anthropic's event sequence ----

export function sseFrame(type: string, data: Json): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

/**
 * Builds Anthropic's events from chat.completion.chunk objects: message_start and a ping at the
 * first chunk, one content block per text run or tool call, and message_delta (stop reason,
 * usage) plus message_stop once the provider's stream ended cleanly (`finish`).
 */
export class MessageEventWriter {
  private started = false;
  private finished = false;
  private block = -1;
  private blockType: 'text' | 'tool_use' | undefined;
  private readonly toolBlocks = new Map<number, number>();
  private finish: unknown;

  constructor(private readonly requestModel: string) {}

  private open(type: 'text' | 'tool_use', contentBlock: Json): string {
    const out = this.close();
    this.block++;
    this.blockType = type;
    return out + sseFrame('content_block_start', { index: this.block, content_block: contentBlock });
  }

  private close(): string {
    if (this.blockType === undefined) return '';
    this.blockType = undefined;
    return sseFrame('content_block_stop', { index: this.block });
  }

  /** Frames for one chunk ('' when it adds nothing the client sees). */
  chunk(c: Json): string {
    let out = '';
    if (!this.started) {
      this.started = true;
      const message = {
        id: messageId(c.id),
        type: 'message',
        role: 'assistant',
        model: typeof c.model === 'string' ? c.model : this.requestModel,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 0, output_tokens: 0 },
      };
      out += sseFrame('message_start', { message }) + sseFrame('ping', {});
    }
    for (const choice of (c.choices as Json[] | undefined) ?? []) {
      const delta = (choice.delta ?? {}) as {
        content?: unknown;
        tool_calls?: Array<{ index?: number; id?: string; function?: { name?: string; arguments?: string } }>;
      };
      if (typeof delta.content === 'string' && delta.content !== '') {
        if (this.blockType !== 'text') out += this.open('text', { type: 'text', text: '' });
        out += sseFrame('content_block_delta', {
          index: this.block,
          delta: { type: 'text_delta', text: delta.content },
        });
      }
      for (const tc of delta.tool_calls ?? []) {
        const i = tc.index ?? 0;
        let idx = this.toolBlocks.get(i);
        if (idx === undefined) {
          out += this.open('tool_use', {
            type: 'tool_use',
            id: tc.id ?? `toolu_${i}`,
            name: tc.function?.name ?? '',
            input: {},
          });
          idx = this.block;
          this.toolBlocks.set(i, idx);
        }
        const args = tc.function?.arguments;
        if (typeof args === 'string' && args !== '')
          out += sseFrame('content_block_delta', {
            index: idx,
            delta: { type: 'input_json_delta', partial_json: args },
          });
      }
      if (choice.finish_reason) this.finish = choice.finish_reason;
    }
    return out;
  }

  /** The closing frames, once: the open block's stop, message_delta with usage, message_stop. */
  end(usage: Usage): string {
    if (this.finished) return '';
    const head = this.started ? '' : this.chunk({});
    this.finished = true;
    return (
      head +
      this.close() +
      sseFrame('message_delta', {
        delta: { stop_reason: stopReason(this.finish), stop_sequence: null },
        usage: anthropicUsage(usage),
      }) +
      sseFrame('message_stop', {})
    );
  }
}
