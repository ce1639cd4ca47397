// OpenAI chat request → Bedrock Converse request. JSON mode has no Converse switch, so it is
// carried by one forced tool whose input schema is the requested one (the answer is its input).
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
  type OpenAIMessage,
  type Part,
} from '../common/chat-input.js';

type Json = Record<string, unknown>;
interface Turn {
  role: 'user' | 'assistant';
  content: Json[];
}

const IMAGE_FORMATS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};
const CACHE_POINT = { cachePoint: { type: 'default' } };

function blocks(parts: Part[]): Json[] {
  const out: Json[] = [];
  for (const p of parts) {
    if (p.kind === 'text') {
      if (p.text.trim() === '') continue; // Converse rejects blank text blocks
      out.push({ text: p.text });
    } else {
      if (p.data === undefined)
        throw new UnsupportedRequestError(
          'bedrock takes images as base64 data URLs (data:image/png;base64,…), not links',
        );
      const format = IMAGE_FORMATS[p.mime ?? ''];
      if (!format)
        throw new UnsupportedRequestError(`bedrock does not support image type "${p.mime}" (png, jpeg, gif, webp)`);
      out.push({ image: { format, source: { bytes: p.data } } });
    }
    // cache_control on a part marks a prompt-cache checkpoint after it, as Anthropic's API does.
    if (p.cache) out.push(CACHE_POINT);
  }
  return out;
}

function push(turns: Turn[], role: Turn['role'], content: Json[]): void {
  if (content.length === 0) return;
  const last = turns[turns.length - 1];
  if (last && last.role === role) last.content.push(...content);
  else turns.push({ role, content });
}

function toolResultContent(content: unknown): Json[] {
  const text = textOf(content);
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return [{ json: v }];
  } catch {
    /* text */
  }
  return [{ text: text === '' ? ' ' : text }];
}

export interface ConverseTranslation {
  request: Json;
  /** Set when JSON mode rides on a forced tool: its name. */
  jsonTool?: string;
}

export const JSON_TOOL = 'json_response';

export function toConverseRequest(body: Json): ConverseTranslation {
  if (typeof body.n === 'number' && body.n > 1) throw new UnsupportedRequestError('bedrock does not support n > 1');
  if (body.logit_bias !== undefined && body.logit_bias !== null)
    throw new UnsupportedRequestError('bedrock does not support logit_bias');
  const messages = body.messages as OpenAIMessage[];
  const system: Json[] = [];
  const turns: Turn[] = [];
  let toolBlocks = false;
  for (const m of messages) {
    switch (m.role) {
      case 'system':
      case 'developer': {
        const parts = contentParts(m.content, 'bedrock');
        if (parts.some((p) => p.kind !== 'text'))
          throw new UnsupportedRequestError('bedrock: system messages take text only');
        system.push(...blocks(parts));
        break;
      }
      case 'user':
        push(turns, 'user', blocks(contentParts(m.content, 'bedrock')));
        break;
      case 'assistant': {
        const content = blocks(contentParts(m.content, 'bedrock'));
        for (const tc of m.tool_calls ?? []) {
          toolBlocks = true;
          content.push({
            toolUse: { toolUseId: tc.id, name: tc.function.name, input: parseArgs(tc.function.arguments) },
          });
        }
        push(turns, 'assistant', content);
        break;
      }
      case 'tool':
        toolBlocks = true;
        if (!m.tool_call_id) throw new UnsupportedRequestError('tool messages need tool_call_id');
        push(turns, 'user', [{ toolResult: { toolUseId: m.tool_call_id, content: toolResultContent(m.content) } }]);
        break;
      default:
        throw new UnsupportedRequestError(`message role "${m.role}" is not supported by bedrock`);
    }
  }
  if (turns.length === 0) throw new UnsupportedRequestError('bedrock needs at least one user message');

  const out: Json = { messages: turns };
  if (system.length) out.system = system;
  const inference: Json = {};
  const max = maxTokens(body);
  if (max !== undefined) inference.maxTokens = max;
  const t = num(body.temperature);
  if (t !== undefined) inference.temperature = t;
  const p = num(body.top_p);
  if (p !== undefined) inference.topP = p;
  const stop = stopList(body.stop);
  if (stop) inference.stopSequences = stop;
  if (Object.keys(inference).length) out.inferenceConfig = inference;

  const tools = functionTools(body, 'bedrock').map((f) => ({
    toolSpec: {
      name: f.name,
      ...(f.description ? { description: f.description } : {}),
      inputSchema: { json: f.parameters },
    },
  }));
  const choice = toolChoice(body.tool_choice);
  const rf = responseFormat(body.response_format);
  let jsonTool: string | undefined;
  if (rf.kind !== 'text') {
    if (tools.length)
      throw new UnsupportedRequestError(
        'bedrock: response_format json_object/json_schema cannot be combined with tools',
      );
    jsonTool = JSON_TOOL;
    const schema = rf.kind === 'json_schema' ? rf.schema : { type: 'object' };
    const description = rf.kind === 'json_schema' ? `Answer with the ${rf.name} object.` : 'Answer with a JSON object.';
    out.toolConfig = {
      tools: [{ toolSpec: { name: JSON_TOOL, description, inputSchema: { json: schema } } }],
      toolChoice: { tool: { name: JSON_TOOL } },
    };
    return { request: out, jsonTool };
  }
  if (choice?.mode === 'none') {
    // Converse has no "none"; leaving the tools out works unless the history holds tool blocks.
    if (toolBlocks)
      throw new UnsupportedRequestError(
        'bedrock: tool_choice "none" is not supported when the conversation contains tool calls',
      );
    return { request: out };
  }
  if (tools.length) {
    const tc =
      !choice || choice.mode === 'auto'
        ? { auto: {} }
        : choice.mode === 'required'
          ? { any: {} }
          : { tool: { name: choice.name } };
    out.toolConfig = { tools, toolChoice: tc };
  } else if (toolBlocks) {
    throw new UnsupportedRequestError('bedrock needs the tools definitions when the conversation contains tool calls');
  }
  return { request: out };
}
