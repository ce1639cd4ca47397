// Writes OpenAI chat.completion.chunk frames to the client, honouring backpressure.
import type { ServerResponse } from 'node:http';
import type { StreamSink } from '../routing/executor.js';

/** Writes SSE text; when the socket's buffer is full, resolves once it drains or closes. */
export async function writeFrames(res: ServerResponse, text: string): Promise<void> {
  if (res.write(text)) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

export class SseSink implements StreamSink {
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
    this.res.flushHeaders();
  }

  async write(chunk: Record<string, unknown>): Promise<void> {
    if (this.closed) return;
    await writeFrames(this.res, `data: ${JSON.stringify(chunk)}\n\n`);
  }

  end(): void {
    if (!this.closed) this.res.end('data: [DONE]\n\n');
  }

  fail(error: Record<string, unknown>): void {
    if (!this.closed) this.res.end(`data: ${JSON.stringify(error)}\n\n`);
  }
}
