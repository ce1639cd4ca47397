// Writes OpenAI chat.completion.chunk frames to the client, honouring backpressure.
import type { ServerResponse } from 'node:http';
import type { StreamSink } from '../routing/executor.js';

/** Resolves once the response's socket buffer drains (or the response closes). */
function drained(res: ServerResponse): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * Frames written in one turn of the event loop leave in one write: an upstream read often holds a
 * dozen events, and a write per frame was a chunked-encoding write (and a string conversion) each.
 * The head leaves with the first frames, or alone at the end of the turn that started the stream.
 */
export class SseSink implements StreamSink {
  private pending = '';
  private scheduled = false;
  private draining?: Promise<void>;

  constructor(
    protected readonly res: ServerResponse,
    private readonly extraHeaders: () => Record<string, string>,
  ) {}

  get closed(): boolean {
    return this.res.destroyed || this.res.writableEnded;
  }

  start(headers: Record<string, string>): void {
    this.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      ...this.extraHeaders(),
      ...headers,
    });
    this.schedule();
  }

  write(chunk: Record<string, unknown>): Promise<void> {
    return this.enqueue(`data: ${JSON.stringify(chunk)}\n\n`);
  }

  end(): void {
    if (!this.closed) this.res.end(`${this.take()}data: [DONE]\n\n`);
  }

  fail(error: Record<string, unknown>): void {
    if (!this.closed) this.res.end(`${this.take()}data: ${JSON.stringify(error)}\n\n`);
  }

  /** Queues frames for this turn's write; waits only while the client is not reading. */
  protected enqueue(text: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.pending += text;
    this.schedule();
    return this.draining ?? Promise.resolve();
  }

  /** The frames not yet written (for the final write). */
  protected take(): string {
    const t = this.pending;
    this.pending = '';
    return t;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    process.nextTick(this.flush);
  }

  private readonly flush = (): void => {
    this.scheduled = false;
    if (this.closed) return;
    const text = this.take();
    if (text === '') {
      if (!this.res.headersSent) this.res.flushHeaders();
      return;
    }
    if (!this.res.write(text) && !this.draining)
      this.draining = drained(this.res).then(() => {
        this.draining = undefined;
      });
  };
}
