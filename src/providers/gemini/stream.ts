// Gemini streamGenerateContent?alt=sse: every event is a whole GenerateContentResponse holding
// the next slice of each candidate. There is no terminating event: the stream is complete once
// every candidate has reported its finishReason (or the prompt was blocked).
import { StreamEventError, type SseEvent, type StreamTranslator, type Usage } from '../types.js';
import { ChunkWriter } from '../common/openai-shapes.js';
import { errorTypeForStatus } from '../common/openai-shapes.js';
import { finishReason, readParts, statusForRpc, usageFromGemini, type GeminiUsage } from './response.js';

type Json = Record<string, unknown>;

interface CandidateState {
  started: boolean;
  tools: number;
  finished: boolean;
}

export class GeminiStreamTranslator implements StreamTranslator {
  usage: Usage = {};
  finishReasons: string[] = [];
  responseModel?: string;
  responseId?: string;
  done = false;
  private readonly out: ChunkWriter;
  private readonly candidates = new Map<number, CandidateState>();

  constructor(
    requestModel: string,
    private readonly expected: number,
    private readonly includeUsage: boolean,
  ) {
    this.out = new ChunkWriter('chatcmpl-gemini', requestModel);
  }

  private state(i: number): CandidateState {
    let s = this.candidates.get(i);
    if (!s) this.candidates.set(i, (s = { started: false, tools: 0, finished: false }));
    return s;
  }

  onEvent(ev: SseEvent): Json[] {
    if (ev.data === '' || ev.data === '[DONE]') return [];
    const data = JSON.parse(ev.data) as Json;
    const err = data.error as { code?: number; message?: string; status?: string } | undefined;
    if (err) {
      const status = statusForRpc(err.status, typeof err.code === 'number' ? err.code : 500);
      throw new StreamEventError(status, {
        message: err.message ?? 'stream error',
        type: errorTypeForStatus(status),
        code: err.status ?? null,
      });
    }
    if (typeof data.responseId === 'string') this.out.id = this.responseId = data.responseId;
    if (typeof data.modelVersion === 'string') this.out.model = this.responseModel = data.modelVersion;
    if (data.usageMetadata) this.usage = usageFromGemini(data.usageMetadata as GeminiUsage);
    const chunks: Json[] = [];
    const blocked = (data.promptFeedback as { blockReason?: string } | undefined)?.blockReason;
    const candidates = (data.candidates as Json[] | undefined) ?? [];
    if (blocked && candidates.length === 0) {
      chunks.push(this.out.chunk({ role: 'assistant', content: '' }, 'content_filter'));
      this.finishReasons.push('content_filter');
      return this.finish(chunks);
    }
    for (const c of candidates) {
      const index = Number(c.index ?? 0);
      const s = this.state(index);
      const { text, toolCalls } = readParts((c.content as Json | undefined)?.parts);
      if (!s.started) {
        s.started = true;
        chunks.push(this.out.chunk({ role: 'assistant', content: '' }, null, index));
      }
      if (text) chunks.push(this.out.chunk({ content: text }, null, index));
      if (toolCalls.length) {
        // Gemini sends each call whole; OpenAI clients accept a complete call in one delta.
        const deltas = toolCalls.map((t) => ({
          index: s.tools++,
          id: t.id,
          type: 'function',
          function: { name: t.name, arguments: t.arguments },
        }));
        chunks.push(this.out.chunk({ tool_calls: deltas }, null, index));
      }
      if (c.finishReason && !s.finished) {
        s.finished = true;
        const fr = finishReason(c.finishReason, s.tools > 0);
        this.finishReasons.push(fr);
        chunks.push(this.out.chunk({}, fr, index));
      }
    }
    const finished = [...this.candidates.values()].filter((s) => s.finished).length;
    return finished >= this.expected ? this.finish(chunks) : chunks;
  }

  private finish(chunks: Json[]): Json[] {
    this.done = true;
    if (this.includeUsage) chunks.push(this.out.usageChunk(this.usage));
    return chunks;
  }
}
