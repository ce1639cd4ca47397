// Bedrock Runtime Converse / ConverseStream / InvokeModel (embeddings): validation with Bedrock's
// ValidationException wording, deterministic answers, prompt-cache accounting at cachePoint
// blocks, and the ConverseStream event sequence.
import { z } from 'zod';
import { applyStop, argsFromSchema, countTokens, embed, fragments, splitDeltas, truncateToTokens } from './text.js';

export interface BedrockReply {
  status: number;
  errorType?: string;
  json?: unknown;
  /** ConverseStream: [event type, payload] in order. */
  events?: Array<[string, Record<string, unknown>]>;
}

export const validation = (message: string): BedrockReply => ({
  status: 400,
  errorType: 'ValidationException',
  json: { message },
});

const oneKey = (keys: string[]) => (b: Record<string, unknown>) => keys.filter((k) => b[k] !== undefined).length === 1;
const BLOCK_KEYS = ['text', 'image', 'toolUse', 'toolResult', 'cachePoint', 'document', 'reasoningContent'];
const Block = z
  .strictObject({
    text: z.string().min(1).optional(),
    image: z
      .strictObject({
        format: z.enum(['png', 'jpeg', 'gif', 'webp']),
        source: z.strictObject({ bytes: z.string().min(1) }),
      })
      .optional(),
    toolUse: z
      .strictObject({
        toolUseId: z.string().min(1).max(64),
        name: z.string().min(1).max(64),
        input: z.record(z.string(), z.unknown()),
      })
      .optional(),
    toolResult: z
      .strictObject({
        toolUseId: z.string().min(1),
        content: z.array(z.strictObject({ text: z.string().optional(), json: z.unknown().optional() })).min(1),
        status: z.enum(['success', 'error']).optional(),
      })
      .optional(),
    cachePoint: z.strictObject({ type: z.literal('default') }).optional(),
    document: z.unknown().optional(),
    reasoningContent: z.unknown().optional(),
  })
  .refine(oneKey(BLOCK_KEYS), 'ContentBlock must set exactly one member');
const Message = z.strictObject({ role: z.enum(['user', 'assistant']), content: z.array(Block).min(1) });
const ToolSpec = z.strictObject({
  toolSpec: z.strictObject({
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/),
    description: z.string().min(1).optional(),
    inputSchema: z.strictObject({ json: z.record(z.string(), z.unknown()) }),
  }),
});
const ToolChoice = z.union([
  z.strictObject({ auto: z.strictObject({}) }),
  z.strictObject({ any: z.strictObject({}) }),
  z.strictObject({ tool: z.strictObject({ name: z.string() }) }),
]);
export const ConverseBody = z.strictObject({
  messages: z.array(Message).min(1),
  system: z
    .array(
      z.strictObject({
        text: z.string().min(1).optional(),
        cachePoint: z.strictObject({ type: z.literal('default') }).optional(),
      }),
    )
    .optional(),
  inferenceConfig: z
    .strictObject({
      maxTokens: z.number().int().min(1).optional(),
      temperature: z.number().min(0).max(1).optional(),
      topP: z.number().min(0).max(1).optional(),
      stopSequences: z.array(z.string()).max(4).optional(),
    })
    .optional(),
  toolConfig: z.strictObject({ tools: z.array(ToolSpec).min(1), toolChoice: ToolChoice.optional() }).optional(),
  additionalModelRequestFields: z.record(z.string(), z.unknown()).optional(),
});
export type ConverseBody = z.infer<typeof ConverseBody>;

function zodMessage(err: z.ZodError): string {
  const i = err.issues[0];
  const path = i.path.map(String).join('.');
  if (i.code === 'unrecognized_keys')
    return `Malformed input request: extraneous key [${i.keys[0]}] is not permitted, please reformat your input and try again.`;
  return `1 validation error detected: Value at '${path}' failed to satisfy constraint: ${i.message}`;
}

function checkConversation(b: ConverseBody): string | undefined {
  if (b.messages[0].role !== 'user')
    return 'A conversation must start with a user message. Try again with a conversation that starts with a user message.';
  for (let i = 1; i < b.messages.length; i++) {
    if (b.messages[i].role === b.messages[i - 1].role)
      return 'A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.';
  }
  const usesTools = b.messages.some((m) => m.content.some((c) => c.toolUse || c.toolResult));
  if (usesTools && !b.toolConfig)
    return 'The toolConfig field must be defined when using toolUse and toolResult content blocks.';
  for (let i = 0; i < b.messages.length; i++) {
    const uses = b.messages[i].content.filter((c) => c.toolUse).map((c) => c.toolUse!.toolUseId);
    if (uses.length === 0) continue;
    const results = (b.messages[i + 1]?.content ?? []).filter((c) => c.toolResult).map((c) => c.toolResult!.toolUseId);
    if (b.messages[i + 1] && (results.length !== uses.length || uses.some((id) => !results.includes(id)))) {
      return `Expected toolResult blocks at messages.${i + 1}.content for the following Ids: ${uses.join(', ')}`;
    }
  }
  return undefined;
}

function blockText(c: z.infer<typeof Block>): string {
  if (c.text !== undefined) return c.text;
  if (c.toolUse) return `${c.toolUse.name} ${JSON.stringify(c.toolUse.input)}`;
  if (c.toolResult) return JSON.stringify(c.toolResult.content);
  if (c.image) return 'image';
  return '';
}

/**
 * Prompt tokens: everything up to the last cachePoint is the cacheable prefix — written the first
 * time this fake sees it, read afterwards — and inputTokens counts only the rest (Converse's split).
 */
function promptUsage(b: ConverseBody, seen: Set<string>): Record<string, number> {
  const segs: Array<{ text: string; point: boolean }> = [];
  for (const t of b.toolConfig?.tools ?? []) segs.push({ text: JSON.stringify(t), point: false });
  for (const s of b.system ?? []) segs.push({ text: s.text ?? '', point: !!s.cachePoint });
  for (const m of b.messages) for (const c of m.content) segs.push({ text: blockText(c), point: !!c.cachePoint });
  let bp = -1;
  segs.forEach((s, i) => {
    if (s.point) bp = i;
  });

  let prefix = 0;
  let rest = 0;
  let key = '';
  segs.forEach((s, i) => {
    const n = countTokens(s.text);
    if (i <= bp) {
      prefix += n;
      key += `${s.text}\u0000`;
    } else rest += n;
  });
  const out: Record<string, number> = { inputTokens: Math.max(1, rest) };
  if (bp >= 0) {
    if (seen.has(key)) out.cacheReadInputTokens = prefix;
    else {
      seen.add(key);
      out.cacheWriteInputTokens = prefix;
    }
  }
  return out;
}

interface Answer {
  text: string;
  tools: Array<{ id: string; name: string; input: Record<string, unknown> }>;
  stopReason: string;
  usage: Record<string, number>;
}

let toolSeq = 0;

function answer(b: ConverseBody, seen: Set<string>): Answer {
  const last = b.messages[b.messages.length - 1];
  const lastText = last.content.map((c) => c.text ?? '').join('');
  const specs = (b.toolConfig?.tools ?? []).map((t) => t.toolSpec);
  const choice = b.toolConfig?.toolChoice;
  let chosen: typeof specs = [];
  if ('tool' in (choice ?? {}))
    chosen = specs.filter((s) => s.name === (choice as { tool: { name: string } }).tool.name);
  else if (
    specs.length &&
    ('any' in (choice ?? {}) || (last.content.some((c) => c.text) && /use (a|all) tools?/.test(lastText)))
  ) {
    chosen = /use all tools/.test(lastText) ? specs : [specs[0]];
  }
  const usage = promptUsage(b, seen);
  if (chosen.length) {
    const tools = chosen.map((s) => ({
      id: `tooluse_${(++toolSeq).toString().padStart(22, '0')}`,
      name: s.name,
      input: argsFromSchema(s.inputSchema.json),
    }));
    const out = tools.reduce((n, t) => n + countTokens(JSON.stringify(t.input)), 0);
    return { text: '', tools, stopReason: 'tool_use', usage: { ...usage, outputTokens: out } };
  }
  const cfg = b.inferenceConfig ?? {};
  const stopped = applyStop(`Hello from fake-bedrock: ${lastText}`, cfg.stopSequences);
  let text = stopped.text;
  let stopReason = stopped.stop ? 'stop_sequence' : 'end_turn';
  if (cfg.maxTokens !== undefined && countTokens(text) > cfg.maxTokens) {
    text = truncateToTokens(text, cfg.maxTokens);
    stopReason = 'max_tokens';
  }
  return { text, tools: [], stopReason, usage: { ...usage, outputTokens: countTokens(text) } };
}

function withTotal(u: Record<string, number>): Record<string, number> {
  return {
    ...u,
    totalTokens:
      (u.inputTokens ?? 0) + (u.outputTokens ?? 0) + (u.cacheReadInputTokens ?? 0) + (u.cacheWriteInputTokens ?? 0),
  };
}

/** Bedrock pads stream events with a "p" field so sizes do not reveal content. */
const pad = (n: number) => 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0'.slice(0, 1 + (n % 50));

export function converse(body: unknown, stream: boolean, seen: Set<string>): BedrockReply {
  const v = ConverseBody.safeParse(body);
  if (!v.success) return validation(zodMessage(v.error));
  const problem = checkConversation(v.data);
  if (problem) return validation(problem);
  const a = answer(v.data, seen);
  const usage = withTotal(a.usage);
  if (!stream) {
    const content: unknown[] = [];
    if (a.text) content.push({ text: a.text });
    for (const t of a.tools) content.push({ toolUse: { toolUseId: t.id, name: t.name, input: t.input } });
    return {
      status: 200,
      json: {
        output: { message: { role: 'assistant', content } },
        stopReason: a.stopReason,
        usage,
        metrics: { latencyMs: 1 },
      },
    };
  }
  const ev: Array<[string, Record<string, unknown>]> = [['messageStart', { role: 'assistant', p: pad(1) }]];
  let block = 0;
  if (a.text) {
    for (const d of splitDeltas(a.text))
      ev.push(['contentBlockDelta', { contentBlockIndex: block, delta: { text: d }, p: pad(d.length) }]);
    ev.push(['contentBlockStop', { contentBlockIndex: block++, p: pad(2) }]);
  }
  for (const t of a.tools) {
    ev.push([
      'contentBlockStart',
      { contentBlockIndex: block, start: { toolUse: { toolUseId: t.id, name: t.name } }, p: pad(3) },
    ]);
    for (const f of fragments(JSON.stringify(t.input)))
      ev.push(['contentBlockDelta', { contentBlockIndex: block, delta: { toolUse: { input: f } }, p: pad(f.length) }]);
    ev.push(['contentBlockStop', { contentBlockIndex: block++, p: pad(4) }]);
  }
  ev.push(['messageStop', { stopReason: a.stopReason, p: pad(5) }]);
  ev.push(['metadata', { usage, metrics: { latencyMs: 1 }, p: pad(6) }]);
  return { status: 200, events: ev };
}

const TitanBody = z.strictObject({
  inputText: z.string().min(1),
  dimensions: z.union([z.literal(256), z.literal(512), z.literal(1024)]).optional(),
  normalize: z.boolean().optional(),
  embeddingTypes: z.array(z.string()).optional(),
});
const CohereBody = z.strictObject({
  texts: z.array(z.string().min(1)).min(1).max(96),
  input_type: z.enum(['search_document', 'search_query', 'classification', 'clustering']),
  truncate: z.enum(['NONE', 'START', 'END']).optional(),
  embedding_types: z.array(z.string()).optional(),
});

export function invokeEmbed(model: string, body: unknown): BedrockReply {
  if (model.includes('amazon.titan-embed')) {
    const v = TitanBody.safeParse(body);
    if (!v.success) return validation(zodMessage(v.error));
    const dims = v.data.dimensions ?? 1024;
    return {
      status: 200,
      json: {
        embedding: Array.from(embed(v.data.inputText, dims)),
        inputTextTokenCount: countTokens(v.data.inputText),
        embeddingsByType: {},
      },
    };
  }
  if (model.includes('cohere.embed')) {
    const v = CohereBody.safeParse(body);
    if (!v.success) return validation(zodMessage(v.error));
    return {
      status: 200,
      json: {
        id: 'emb-fake',
        response_type: 'embeddings_floats',
        texts: v.data.texts,
        embeddings: v.data.texts.map((t) => Array.from(embed(t, 1024))),
      },
    };
  }
  return validation(`The provided model identifier is invalid.`);
}
