// Streams under output guardrails, as sinks wrapping the route's sink (STYLE.md §3):
//  - HeldSink (block, retry or redact checks): holds every chunk of the attempt, up to a bound,
//    until the executor asks for the verdict at the stream's end; a refused stream is discarded
//    (the client saw nothing, so the routing can go on), a passed one is flushed, rewritten where
//    redact changed text. Over the bound: an error frame, never a silent pass.
//  - WatchSink (warn-only checks): chunks flow undelayed; the verdict goes in a final frame
//    before [DONE].
import { StreamFailure } from '../../routing/attempt.js';
import type { StreamSink } from '../../routing/executor.js';
import type { Slot } from './subject.js';

type Json = Record<string, unknown>;

/** POST /v1/messages chunks carry Anthropic's SSE frames under this key (providers/anthropic/messages-route.ts SSE_FRAMES). */
const NATIVE_FRAMES = 'anthropic_sse';

export class ForwardingSink implements StreamSink {
  constructor(protected readonly inner: StreamSink) {}
  get closed(): boolean {
    return this.inner.closed;
  }
  start(headers: Record<string, string>): void {
    this.inner.start(headers);
  }
  write(chunk: Json): Promise<void> {
    return this.inner.write(chunk);
  }
  end(): void | Promise<void> {
    return this.inner.end();
  }
  fail(error: Json): void {
    this.inner.fail(error);
  }
}

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One text of the answer (a choice's content, a tool call's arguments), assembled from its pieces. */
class Piece {
  value = '';
  readonly refs: Array<{ o: Json; k: string }> = [];
  add(o: Json, k: string, keep: boolean): void {
    this.value += o[k] as string;
    if (keep) this.refs.push({ o, k });
  }
  /** Writes a changed value back: all of it in the first piece, the others emptied. */
  rewrite(original: string): void {
    if (this.value === original) return;
    this.refs.forEach((r, i) => {
      r.o[r.k] = i === 0 ? this.value : '';
    });
  }
}

/** The answer's texts, in the order they first appear: content and text per choice, tool-call arguments per choice and call. */
export class Assembled {
  private readonly pieces = new Map<string, Piece>();
  bytes = 0;

  constructor(private readonly keepRefs: boolean) {}

  add(chunk: Json): void {
    const choices = chunk.choices;
    if (!Array.isArray(choices)) return;
    for (const ch of choices) {
      if (!isObj(ch)) continue;
      const i = String(ch.index ?? 0);
      if (typeof ch.text === 'string') this.piece(`${i}:text`, ch, 'text');
      const d = ch.delta;
      if (!isObj(d)) continue;
      if (typeof d.content === 'string') this.piece(`${i}:content`, d, 'content');
      if (Array.isArray(d.tool_calls)) {
        for (const tc of d.tool_calls) {
          if (isObj(tc) && isObj(tc.function) && typeof tc.function.arguments === 'string')
            this.piece(`${i}:tool:${String(tc.index ?? 0)}`, tc.function, 'arguments');
        }
      }
    }
  }

  private piece(key: string, o: Json, k: string): void {
    let p = this.pieces.get(key);
    if (!p) this.pieces.set(key, (p = new Piece()));
    this.bytes += (o[k] as string).length;
    p.add(o, k, this.keepRefs);
  }

  /** Slots over the assembled texts; `commit()` writes redactions back into the held chunks. */
  slots(): { slots: Slot[]; commit(): void } {
    const list = [...this.pieces.values()];
    const originals = list.map((p) => p.value);
    return {
      slots: list.map((p) => ({ get: () => p.value, set: (v: string) => void (p.value = v) })),
      commit: () => {
        list.forEach((p, i) => {
          p.rewrite(originals[i]);
        });
      },
    };
  }
}

export class HeldSink extends ForwardingSink {
  private held: Json[] = [];
  private bytes = 0;
  private headers: Record<string, string> = {};
  private started = false;
  assembled = new Assembled(true);
  /** A final frame before [DONE] (warn verdicts). */
  trailer?: Json;
  /** The chunks carry the route's own frames (POST /v1/messages), written as they are: text in `choices` cannot be rewritten. */
  nativeFrames = false;

  constructor(
    inner: StreamSink,
    private readonly maxBytes: number,
  ) {
    super(inner);
  }

  /** Deferred: nothing reaches the client before the verdict. */
  override start(headers: Record<string, string>): void {
    this.headers = headers;
  }

  override async write(chunk: Json): Promise<void> {
    if (typeof chunk[NATIVE_FRAMES] === 'string') this.nativeFrames = true;
    // Text dominates a chunk; the frame's fixed part is counted roughly.
    const before = this.assembled.bytes;
    this.assembled.add(chunk);
    this.bytes += this.assembled.bytes - before + 64;
    if (this.bytes > this.maxBytes) {
      this.discard();
      throw new StreamFailure({
        ok: false,
        outcome: 'guardrail',
        status: 446,
        error: {
          message: `the answer exceeded the output guardrails' stream buffer (${this.maxBytes} bytes) before it could be checked`,
          type: 'guardrail_error',
          code: 'guardrail_buffer_exceeded',
        },
      });
    }
    this.held.push(chunk);
  }

  /** The attempt was refused: forget it (a next attempt starts afresh). */
  discard(): void {
    this.held = [];
    this.bytes = 0;
    this.assembled = new Assembled(true);
  }

  private open(): void {
    if (!this.started) {
      this.started = true;
      this.inner.start(this.headers);
    }
  }

  override async end(): Promise<void> {
    this.open();
    const held = this.held;
    this.held = [];
    for (const c of held) {
      if (this.inner.closed) return;
      await this.inner.write(c);
    }
    if (this.trailer && !this.inner.closed) await this.inner.write(this.trailer);
    return this.inner.end();
  }

  override fail(error: Json): void {
    this.discard();
    this.open();
    this.inner.fail(error);
  }
}

export class WatchSink extends ForwardingSink {
  assembled = new Assembled(false);
  overflow = false;

  constructor(
    inner: StreamSink,
    private readonly maxBytes: number,
    /** The verdict at the end; answers the final frame to write, if any. */
    private readonly verdict: (w: WatchSink) => Json | undefined | Promise<Json | undefined>,
  ) {
    super(inner);
  }

  override write(chunk: Json): Promise<void> {
    if (!this.overflow) {
      this.assembled.add(chunk);
      if (this.assembled.bytes > this.maxBytes) {
        this.overflow = true;
        this.assembled = new Assembled(false);
      }
    }
    return this.inner.write(chunk);
  }

  override async end(): Promise<void> {
    const frame = await this.verdict(this);
    if (frame && !this.inner.closed) await this.inner.write(frame);
    return this.inner.end();
  }
}
