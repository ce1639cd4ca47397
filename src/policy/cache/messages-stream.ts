// POST /v1/messages answers in Anthropic's wire format: a cached one is stored once as the
// complete Anthropic message, whatever the client asked for (as stream.ts does for OpenAI):
//  - assembleMessage(): the route's stream chunks (each carries its Anthropic SSE frames under
//    SSE_FRAMES) back into the message, as Anthropic's SDKs accumulate it; undefined when the
//    stream did not end with message_stop or carried what this does not know how to rebuild;
//  - replayMessage(): a message as Anthropic's event sequence (message_start, per block a start,
//    one delta and a stop, message_delta with stop reason and usage, message_stop).
import { SSE_FRAMES } from '../../providers/anthropic/messages-route.js';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The events of SSE frames text ("event: x\ndata: {...}\n\n" ...), by their data. */
function events(frames: string): Json[] {
  const out: Json[] = [];
  for (const frame of frames.split('\n\n')) {
    const data = frame
      .split('\n')
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).trimStart())
      .join('\n');
    if (!data) continue;
    const ev = JSON.parse(data) as unknown;
    if (isObj(ev)) out.push(ev);
  }
  return out;
}

/** The complete message the chunks' frames make, or undefined when they make none. */
export function assembleMessage(chunks: readonly Json[]): Json | undefined {
  let message: Json | undefined;
  const content: Json[] = [];
  const partial = new Map<number, string>();
  let stopped = false;
  try {
    for (const c of chunks) {
      const frames = c[SSE_FRAMES];
      if (typeof frames !== 'string') continue;
      for (const ev of events(frames)) {
        switch (ev.type) {
          case 'message_start':
            if (!isObj(ev.message)) return undefined;
            message = { ...ev.message };
            break;
          case 'content_block_start': {
            if (typeof ev.index !== 'number' || !isObj(ev.content_block)) return undefined;
            content[ev.index] = { ...ev.content_block };
            break;
          }
          case 'content_block_delta': {
            const b = typeof ev.index === 'number' ? content[ev.index] : undefined;
            const d = ev.delta;
            if (!b || !isObj(d)) return undefined;
            if (d.type === 'text_delta') b.text = `${b.text ?? ''}${d.text}`;
            else if (d.type === 'input_json_delta')
              partial.set(ev.index as number, (partial.get(ev.index as number) ?? '') + String(d.partial_json));
            else if (d.type === 'thinking_delta') b.thinking = `${b.thinking ?? ''}${d.thinking}`;
            else if (d.type === 'signature_delta') b.signature = d.signature;
            else if (d.type === 'citations_delta')
              b.citations = [...(Array.isArray(b.citations) ? b.citations : []), d.citation];
            else return undefined; // a delta this cannot rebuild: not stored
            break;
          }
          case 'content_block_stop': {
            const i = ev.index as number;
            const json = partial.get(i);
            if (json !== undefined && content[i]) {
              content[i].input = json.trim() === '' ? {} : (JSON.parse(json) as unknown);
              partial.delete(i);
            }
            break;
          }
          case 'message_delta':
            if (!message) return undefined;
            if (isObj(ev.delta)) Object.assign(message, ev.delta);
            if (isObj(ev.usage)) {
              const u: Json = { ...(isObj(message.usage) ? message.usage : {}) };
              // Anthropic's SDKs take the final counts from here, nulls aside.
              for (const [k, v] of Object.entries(ev.usage)) if (v !== null && v !== undefined) u[k] = v;
              message.usage = u;
            }
            break;
          case 'message_stop':
            stopped = true;
            break;
          case 'error':
            return undefined;
          default: // ping
        }
      }
    }
  } catch {
    return undefined; // a frame that is not JSON: nothing to store
  }
  if (!message || !stopped || content.some((b) => b === undefined) || partial.size > 0) return undefined;
  return { ...message, content };
}

function frame(type: string, data: Json): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}
const chunk = (frames: string): Json => ({ choices: [], [SSE_FRAMES]: frames });

/** The chunks that stream `message` as Anthropic does; they reassemble to it. */
export function replayMessage(message: Json): Json[] {
  const { content, stop_reason, stop_sequence, usage, ...head } = message;
  const blocks = Array.isArray(content) ? (content as unknown[]).filter(isObj) : [];
  const out: Json[] = [
    chunk(
      frame('message_start', {
        message: { ...head, content: [], stop_reason: null, stop_sequence: null, usage: isObj(usage) ? usage : {} },
      }),
    ),
  ];
  blocks.forEach((b, index) => {
    let start: Json = b;
    let delta: Json[] = [];
    if (b.type === 'text') {
      const { text, citations, ...rest } = b;
      start = { ...rest, text: '' };
      if (Array.isArray(citations)) {
        start.citations = [];
        delta = citations.map((citation) => ({ type: 'citations_delta', citation }));
      }
      if (typeof text === 'string' && text !== '') delta.push({ type: 'text_delta', text });
    } else if (b.type === 'tool_use' || b.type === 'server_tool_use') {
      const { input, ...rest } = b;
      start = { ...rest, input: {} };
      delta = [{ type: 'input_json_delta', partial_json: JSON.stringify(input ?? {}) }];
    } else if (b.type === 'thinking') {
      const { thinking, signature, ...rest } = b;
      start = typeof signature === 'string' ? { ...rest, thinking: '', signature: '' } : { ...rest, thinking: '' };
      delta = [{ type: 'thinking_delta', thinking: thinking ?? '' }];
      if (typeof signature === 'string') delta.push({ type: 'signature_delta', signature });
    } // other blocks (redacted_thinking, tool results) come whole in their start, as Anthropic sends them
    let frames = frame('content_block_start', { index, content_block: start });
    for (const d of delta) frames += frame('content_block_delta', { index, delta: d });
    out.push(chunk(frames + frame('content_block_stop', { index })));
  });
  out.push(
    chunk(
      frame('message_delta', {
        delta: { stop_reason: stop_reason ?? null, stop_sequence: stop_sequence ?? null },
        usage: { output_tokens: isObj(usage) && typeof usage.output_tokens === 'number' ? usage.output_tokens : 0 },
      }) + frame('message_stop', {}),
    ),
  );
  return out;
}
