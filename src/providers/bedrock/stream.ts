// ConverseStream events (decoded from the binary event stream) → OpenAI chunks. Order:
// messageStart, (contentBlockStart?, contentBlockDelta*, contentBlockStop)*, messageStop, metadata.
// Exceptions arrive as their own messages and become StreamEventError with a standard status.
import { StreamEventError, type SseEvent, type StreamTranslator, type Usage } from '../types.js';
import { ChunkWriter, syntheticId } from '../common/openai-shapes.js';
import { bedrockError, finishReason, normalizeType, usageFromBedrock, type BedrockUsage } from './response.js';

type Json = Record<string, unknown>;

export class BedrockStreamTranslator implements StreamTranslator {
  usage: Usage = {};
  finishReasons: string[] = [];
  readonly responseModel: string;
  readonly responseId = syntheticId('chatcmpl-bedrock');
  done = false;
  private readonly out: ChunkWriter;
  /** Converse content block index → OpenAI tool_calls index (or -1: the JSON-mode tool, sent as text). */
  private readonly tools = new Map<number, number>();
  private toolCount = 0;

  constructor(
    model: string,
    private readonly jsonTool: string | undefined,
    private readonly includeUsage: boolean,
  ) {
    this.responseModel = model;
    this.out = new ChunkWriter(this.responseId, model);
  }

  onEvent(ev: SseEvent): Json[] {
    const type = ev.event ?? '';
    if (type.startsWith('exception:') || type.startsWith('error:')) {
      const name = normalizeType(type.slice(type.indexOf(':') + 1));
      let message: string | undefined;
      try {
        message = (JSON.parse(ev.data) as { message?: string }).message;
      } catch {
        message = ev.data;
      }
      const e = bedrockError(500, name, message);
      throw new StreamEventError(e.status ?? 500, e);
    }
    const data = JSON.parse(ev.data) as Json;
    switch (type) {
      case 'messageStart':
        return [this.out.chunk({ role: 'assistant', content: '' })];
      case 'contentBlockStart': {
        const tu = (data.start as { toolUse?: { toolUseId?: string; name?: string } } | undefined)?.toolUse;
        if (!tu) return [];
        const block = Number(data.contentBlockIndex ?? 0);
        if (this.jsonTool && tu.name === this.jsonTool) {
          this.tools.set(block, -1);
          return [];
        }
        const idx = this.toolCount++;
        this.tools.set(block, idx);
        return [
          this.out.chunk({
            tool_calls: [
              {
                index: idx,
                id: tu.toolUseId ?? syntheticId('call'),
                type: 'function',
                function: { name: tu.name, arguments: '' },
              },
            ],
          }),
        ];
      }
      case 'contentBlockDelta': {
        const d = (data.delta ?? {}) as { text?: string; toolUse?: { input?: string } };
        if (typeof d.text === 'string') return d.text ? [this.out.chunk({ content: d.text })] : [];
        if (d.toolUse && typeof d.toolUse.input === 'string') {
          const idx = this.tools.get(Number(data.contentBlockIndex ?? 0)) ?? 0;
          if (idx === -1) return [this.out.chunk({ content: d.toolUse.input })];
          return [this.out.chunk({ tool_calls: [{ index: idx, function: { arguments: d.toolUse.input } }] })];
        }
        return []; // reasoning and citation deltas have no chat-completions counterpart
      }
      case 'messageStop': {
        const fr = finishReason(data.stopReason, this.jsonTool !== undefined);
        this.finishReasons.push(fr);
        return [this.out.chunk({}, fr)];
      }
      case 'metadata': {
        this.usage = usageFromBedrock(data.usage as BedrockUsage);
        this.done = true;
        return this.includeUsage ? [this.out.usageChunk(this.usage)] : [];
      }
      default:
        return []; // contentBlockStop and future event types
    }
  }
}
