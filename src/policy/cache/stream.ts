// A cached answer is stored once, as the complete response, whatever the client asked for:
//  - assemble(): the chunks of a streamed answer (OpenAI chat.completion.chunk or text_completion
//    frames, as the executor writes them) back into the complete response;
//  - replay(): a complete response as chunks, for a streaming request (usage chunk only when
//    the client asked for it);
//  - CollectSink: wraps the request's sink (STYLE.md §3), forwards every chunk, keeps a copy.
import type { StreamSink } from '../../routing/executor.js';
import { ForwardingSink } from '../guardrails/stream.js';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

interface ToolAcc {
  id?: string;
  type?: string;
  name: string;
  arguments: string;
}
interface ChoiceAcc {
  role?: string;
  content?: string;
  text?: string;
  refusal?: string;
  reasoning?: string;
  tools: Map<number, ToolAcc>;
  finish: unknown;
}

/** The complete response the chunks of a stream make, or undefined when they make none. */
export function assemble(chunks: readonly Json[]): Json | undefined {
  let head: Json | undefined;
  let usage: unknown;
  let completions = false;
  const choices = new Map<number, ChoiceAcc>();
  for (const c of chunks) {
    if (!head && typeof c.id === 'string') head = c;
    if (c.object === 'text_completion') completions = true;
    if (isObj(c.usage)) usage = c.usage;
    if (!Array.isArray(c.choices)) continue;
    for (const ch of c.choices) {
      if (!isObj(ch)) continue;
      const i = typeof ch.index === 'number' ? ch.index : 0;
      let a = choices.get(i);
      if (!a) choices.set(i, (a = { tools: new Map(), finish: null }));
      if (ch.finish_reason != null) a.finish = ch.finish_reason;
      if (typeof ch.text === 'string') a.text = (a.text ?? '') + ch.text;
      const d = ch.delta;
      if (!isObj(d)) continue;
      if (typeof d.role === 'string') a.role = d.role;
      if (typeof d.content === 'string') a.content = (a.content ?? '') + d.content;
      if (typeof d.refusal === 'string') a.refusal = (a.refusal ?? '') + d.refusal;
      if (typeof d.reasoning_content === 'string') a.reasoning = (a.reasoning ?? '') + d.reasoning_content;
      if (Array.isArray(d.tool_calls)) {
        for (const tc of d.tool_calls) {
          if (!isObj(tc)) continue;
          const ti = typeof tc.index === 'number' ? tc.index : 0;
          let t = a.tools.get(ti);
          if (!t) a.tools.set(ti, (t = { name: '', arguments: '' }));
          if (typeof tc.id === 'string') t.id = tc.id;
          if (typeof tc.type === 'string') t.type = tc.type;
          if (isObj(tc.function)) {
            if (typeof tc.function.name === 'string') t.name += tc.function.name;
            if (typeof tc.function.arguments === 'string') t.arguments += tc.function.arguments;
          }
        }
      }
    }
  }
  if (!head || choices.size === 0) return undefined;
  const out: Json = {
    id: head.id,
    object: completions ? 'text_completion' : 'chat.completion',
    created: head.created,
    model: head.model,
  };
  if (head.system_fingerprint !== undefined) out.system_fingerprint = head.system_fingerprint;
  if (head.service_tier !== undefined) out.service_tier = head.service_tier;
  out.choices = [...choices.entries()]
    .sort(([a], [b]) => a - b)
    .map(([index, a]) => {
      if (completions) return { index, text: a.text ?? '', logprobs: null, finish_reason: a.finish };
      const message: Json = { role: a.role ?? 'assistant', content: a.content ?? null };
      if (a.refusal !== undefined) message.refusal = a.refusal;
      if (a.reasoning !== undefined) message.reasoning_content = a.reasoning;
      if (a.tools.size > 0) {
        message.tool_calls = [...a.tools.entries()]
          .sort(([x], [y]) => x - y)
          .map(([, t]) => ({
            id: t.id,
            type: t.type ?? 'function',
            function: { name: t.name, arguments: t.arguments },
          }));
      }
      return { index, message, logprobs: null, finish_reason: a.finish };
    });
  if (usage !== undefined) out.usage = usage;
  return out;
}

/** A complete chat or text completion as stream chunks; the usage chunk only when `includeUsage`. */
export function replay(body: Json, includeUsage: boolean): Json[] {
  const completions = body.object === 'text_completion';
  const head: Json = {
    id: body.id,
    object: completions ? 'text_completion' : 'chat.completion.chunk',
    created: body.created,
    model: body.model,
  };
  if (body.system_fingerprint !== undefined) head.system_fingerprint = body.system_fingerprint;
  if (body.service_tier !== undefined) head.service_tier = body.service_tier;
  // With include_usage, OpenAI sends `usage: null` on every chunk but the last.
  const chunk = (choices: Json[]): Json => (includeUsage ? { ...head, choices, usage: null } : { ...head, choices });
  const out: Json[] = [];
  const choices = (Array.isArray(body.choices) ? body.choices : []).filter(isObj);
  for (const ch of choices) {
    const index = ch.index ?? 0;
    if (completions) {
      out.push(
        chunk([{ index, text: typeof ch.text === 'string' ? ch.text : '', logprobs: null, finish_reason: null }]),
      );
      continue;
    }
    const m = isObj(ch.message) ? ch.message : {};
    const delta: Json = {
      role: m.role ?? 'assistant',
      content: m.content ?? (Array.isArray(m.tool_calls) ? null : ''),
    };
    if (m.refusal != null) delta.refusal = m.refusal;
    if (typeof m.reasoning_content === 'string') delta.reasoning_content = m.reasoning_content;
    if (Array.isArray(m.tool_calls)) {
      delta.tool_calls = m.tool_calls
        .filter(isObj)
        .map((tc, i) => ({ index: i, id: tc.id, type: tc.type ?? 'function', function: tc.function }));
    }
    out.push(chunk([{ index, delta, logprobs: null, finish_reason: null }]));
  }
  // The finish reasons last, as a provider sends them.
  out.push(
    chunk(
      choices.map((ch) =>
        completions
          ? { index: ch.index ?? 0, text: '', logprobs: null, finish_reason: ch.finish_reason ?? 'stop' }
          : { index: ch.index ?? 0, delta: {}, logprobs: null, finish_reason: ch.finish_reason ?? 'stop' },
      ),
    ),
  );
  if (includeUsage && body.usage !== undefined) out.push({ ...head, choices: [], usage: body.usage });
  return out;
}

/**
 * Forwards every chunk and keeps a copy for the store. `stripUsage`: the cache asked the provider
 * for usage the client did not ask for; the usage is kept here and not forwarded (as the
 * stream translators drop it when the client did not ask).
 */
export class CollectSink extends ForwardingSink {
  chunks: Json[] = [];
  completed = false;
  failed = false;
  /** More chunks than the bound: the copy is dropped and the answer not stored (it still flows). */
  overflow = false;

  constructor(
    inner: StreamSink,
    private readonly status: string,
    private readonly stripUsage: boolean,
    private readonly maxChunks = 100_000,
  ) {
    super(inner);
  }

  /** Each attempt that streams starts again (a refused attempt's chunks are forgotten). */
  override start(headers: Record<string, string>): void {
    this.chunks = [];
    this.completed = false;
    this.overflow = false;
    this.inner.start({ ...headers, 'x-switchyard-cache-status': this.status });
  }

  override write(chunk: Json): Promise<void> {
    if (!this.overflow) {
      if (this.chunks.length < this.maxChunks) this.chunks.push(chunk);
      else {
        this.overflow = true;
        this.chunks = [];
      }
    }
    if (this.stripUsage && isObj(chunk.usage)) {
      if (!Array.isArray(chunk.choices) || chunk.choices.length === 0) return Promise.resolve();
      const { usage: _u, ...rest } = chunk;
      return this.inner.write(rest);
    }
    return this.inner.write(chunk);
  }

  override end(): void | Promise<void> {
    this.completed = true;
    return this.inner.end();
  }

  override fail(error: Json): void {
    this.failed = true;
    this.chunks = [];
    this.inner.fail(error);
  }
}
