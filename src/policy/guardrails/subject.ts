// What the checks see, as slots that can be read and rewritten in place (redact): the input's
// message texts, text parts, tool results and tool-call arguments (and a completion's prompt, an
// embedding's input); the answer's text and tool-call arguments.
type Json = Record<string, unknown>;

export interface Slot {
  get(): string;
  set(v: string): void;
}

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function prop(o: Json, k: string): Slot {
  return { get: () => o[k] as string, set: (v) => void (o[k] = v) };
}

function index(a: unknown[], i: number): Slot {
  return { get: () => a[i] as string, set: (v) => void (a[i] = v) };
}

/** Content as a string or a list of parts ({type: text, text}); image and audio parts are not text. */
function contentSlots(holder: Json, out: Slot[]): void {
  const c = holder.content;
  if (typeof c === 'string') out.push(prop(holder, 'content'));
  else if (Array.isArray(c)) {
    for (const part of c) {
      if (isObj(part) && typeof part.text === 'string') out.push(prop(part, 'text'));
      else if (typeof part === 'string') out.push(index(c, c.indexOf(part)));
    }
  }
}

function toolCallSlots(msg: Json, out: Slot[]): void {
  if (Array.isArray(msg.tool_calls)) {
    for (const tc of msg.tool_calls) {
      if (isObj(tc) && isObj(tc.function) && typeof tc.function.arguments === 'string')
        out.push(prop(tc.function, 'arguments'));
    }
  }
  if (isObj(msg.function_call) && typeof msg.function_call.arguments === 'string')
    out.push(prop(msg.function_call, 'arguments'));
}

export function inputSlots(body: Json): Slot[] {
  const out: Slot[] = [];
  if (Array.isArray(body.messages)) {
    for (const m of body.messages) {
      if (!isObj(m)) continue;
      contentSlots(m, out);
      toolCallSlots(m, out);
    }
  }
  for (const k of ['prompt', 'input'] as const) {
    const v = body[k];
    if (typeof v === 'string') out.push(prop(body, k));
    else if (Array.isArray(v))
      v.forEach((x, i) => {
        if (typeof x === 'string') out.push(index(v, i));
      });
  }
  return out;
}

/** A tool_use block's input object, seen as its JSON text (redaction keeps the JSON valid). */
function inputObjectSlot(block: Json): Slot {
  return {
    get: () => JSON.stringify(block.input ?? {}),
    set: (v) => {
      try {
        block.input = JSON.parse(v);
      } catch {
        block.input = {};
      }
    },
  };
}

export function outputSlots(body: Json): Slot[] {
  const out: Slot[] = [];
  // An Anthropic message (POST /v1/messages answers in Anthropic's shape): text and tool_use blocks.
  if (body.type === 'message' && Array.isArray(body.content)) {
    for (const b of body.content) {
      if (!isObj(b)) continue;
      if (b.type === 'text' && typeof b.text === 'string') out.push(prop(b, 'text'));
      else if (b.type === 'tool_use') out.push(inputObjectSlot(b));
    }
    return out;
  }
  if (!Array.isArray(body.choices)) return out;
  for (const ch of body.choices) {
    if (!isObj(ch)) continue;
    if (typeof ch.text === 'string') out.push(prop(ch, 'text'));
    if (isObj(ch.message)) {
      contentSlots(ch.message, out);
      toolCallSlots(ch.message, out);
    }
  }
  return out;
}
