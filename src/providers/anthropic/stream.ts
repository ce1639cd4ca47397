// Anthropic's SSE event sequence (message_start, content_block_*, message_delta, message_stop,
// error) → OpenAI chat.completion.chunk objects.
import { StreamEventError, type SseEvent, type StreamTranslator, type Usage } from '../types.js';
import { finishReason, openAIUsage, statusForErrorType, usageFromAnthropic, type AnthropicUsage } from './response.js';

type Json = Record<string, unknown>;

export class AnthropicStreamTranslator implements StreamTranslator {
  usage: Usage = {};
  finishReasons: string[] = [];
  responseModel?: string;
  responseId?: string;
  private readonly created = Math.floor(Date.now() / 1000);
  private rawUsage: AnthropicUsage = {};
  /** Anthropic content block index → OpenAI tool_calls index. */
  private toolIndex = new Map<number, number>();

  constructor(
    private readonly requestModel: string,
    private readonly includeUsage: boolean,
  ) {}

  private chunk(delta: Json, finish: string | null = null): Json {
    return {
      id: this.responseId ?? 'chatcmpl-anthropic',
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.responseModel ?? this.requestModel,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    };
  }

  done = false;

  onEvent(ev: SseEvent): Json[] {
    const type = ev.event;
    if (type === 'ping' || ev.data === '') return [];
    const data = JSON.parse(ev.data) as Json;
    switch (type ?? data.type) {
      case 'message_start': {
        const msg = data.message as Json;
        this.responseId = msg.id as string;
        this.responseModel = msg.model as string;
        this.rawUsage = { ...(msg.usage as AnthropicUsage) };
        this.usage = usageFromAnthropic(this.rawUsage);
        return [this.chunk({ role: 'assistant', content: '' })];
      }
      case 'content_block_start': {
        const block = data.content_block as Json;
        if (block.type === 'tool_use') {
          const idx = this.toolIndex.size;
          this.toolIndex.set(data.index as number, idx);
          return [
            this.chunk({
              tool_calls: [
                { index: idx, id: block.id, type: 'function', function: { name: block.name, arguments: '' } },
              ],
            }),
          ];
        }
        if (block.type === 'text' && block.text) return [this.chunk({ content: block.text })];
        return [];
      }
      case 'content_block_delta': {
        const delta = data.delta as Json;
        if (delta.type === 'text_delta') return [this.chunk({ content: delta.text })];
        if (delta.type === 'input_json_delta') {
          const idx = this.toolIndex.get(data.index as number) ?? 0;
          return [this.chunk({ tool_calls: [{ index: idx, function: { arguments: delta.partial_json } }] })];
        }
        return []; // thinking and signature deltas have no OpenAI chunk equivalent
      }
      case 'content_block_stop':
        return [];
      case 'message_delta': {
        const delta = data.delta as Json;
        const u = data.usage as AnthropicUsage | undefined;
        if (u)
          this.rawUsage = {
            ...this.rawUsage,
            ...Object.fromEntries(Object.entries(u).filter(([, v]) => v !== null && v !== undefined)),
          };
        this.usage = usageFromAnthropic(this.rawUsage);
        const fr = finishReason(delta?.stop_reason);
        this.finishReasons.push(fr);
        return [this.chunk({}, fr)];
      }
      case 'message_stop': {
        this.done = true;
        // OpenAI sends the usage-only chunk last, when the client asked for it.
        return this.includeUsage ? [{ ...this.chunk({}), choices: [], usage: openAIUsage(this.usage) }] : [];
      }
      case 'error': {
        const err = (data.error ?? {}) as { type?: string; message?: string };
        throw new StreamEventError(statusForErrorType(err.type), {
          message: err.message ?? 'stream error',
          type: err.type ?? 'api_error',
          code: err.type ?? null,
        });
      }
      default:
        return []; // unknown events are ignored, as Anthropic's versioning policy asks
    }
  }
}
