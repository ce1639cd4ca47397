// Writes OpenAI chat.completion.chunk frames to the client, honouring backpressure.
import type { ServerResponse } from 'node:http';
import type { StreamSink } from '../routing/executor.js';

export class SseSink implements StreamSink {
  constructor(
    private readonly res: ServerResponse,
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
    this.res.flushHeaders();
  }

  async write(chunk: Record<string, unknown>): Promise<void> {
    if (this.closed) return;
    if (!this.res.write(`data: ${JSON.stringify(chunk)}\n\n`)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.res.off('drain', done);
          this.res.off('close', done);
          resolve();
        };
        this.res.on('drain', done);
        this.res.on('close', done);
      });
    }
  }

  end(): void {
    if (!this.closed) this.res.end('data: [DONE]\n\n');
  }

  fail(error: Record<string, unknown>): void {
    if (!this.closed) this.res.end(`data: ${JSON.stringify(error)}\n\n`);
  }
}
