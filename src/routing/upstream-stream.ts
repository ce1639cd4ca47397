// A streamed upstream call on undici's dispatch API: the answer's chunks queue here and the
// attempt pulls them. undici's request() would wrap them in a Readable whose async iterator, left
// early at the stream's terminating event, destroys it with an error and its stack trace (tens of
// µs a stream in bench/overhead's profile); here ending early is a flag and, only if bytes are
// still due, undici's abort.
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { UpstreamRequest } from '../providers/types.js';
import type { AttemptGate } from './attempt-gate.js';
import { parseRawHeaders, splitUrl } from './upstream-call.js';

/** Past this many unread chunks, undici pauses the socket until the reader catches up. */
const HIGH_WATER = 64;

export class UpstreamStream implements Dispatcher.DispatchHandler {
  statusCode = 0;
  headers: IncomingHttpHeaders = {};
  /** An error answer's body (cut at the limit); a success's chunks are read with next(). */
  errorText = '';
  private readonly queue: Buffer[] = [];
  private ended = false;
  private failure?: Error;
  private wake?: () => void;
  private resume?: () => void;
  private paused = false;
  private abortCall?: (err?: Error) => void;
  private settle?: { resolve: (s: UpstreamStream) => void; reject: (e: Error) => void };

  constructor(
    private readonly gate: AttemptGate,
    private readonly errorLimit: number,
  ) {}

  /** Resolves at the response head for a success, at the end of the body for an error answer. */
  start(dispatcher: Dispatcher, up: UpstreamRequest): Promise<UpstreamStream> {
    const { origin, path } = splitUrl(up.url);
    return new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
      dispatcher.dispatch(
        { origin, path, method: up.method as Dispatcher.HttpMethod, headers: up.headers, body: up.body },
        this,
      );
    });
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortCall = abort;
    this.gate.attach(abort);
  }

  onHeaders(statusCode: number, raw: Buffer[] | string[] | null, resume: () => void): boolean {
    this.statusCode = statusCode;
    this.resume = resume;
    if (statusCode >= 400) this.headers = parseRawHeaders(raw);
    else this.settled()?.resolve(this);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.statusCode >= 400) {
      if (this.errorText.length < this.errorLimit) this.errorText += chunk.toString();
      return true;
    }
    this.queue.push(chunk);
    this.notify();
    if (this.queue.length < HIGH_WATER) return true;
    this.paused = true;
    return false;
  }

  onComplete(): void {
    this.ended = true;
    if (this.statusCode >= 400) {
      this.errorText = this.errorText.slice(0, this.errorLimit);
      this.settled()?.resolve(this);
    }
    this.notify();
  }

  onError(err: Error): void {
    this.ended = true;
    this.failure = err;
    this.settled()?.reject(err);
    this.notify();
  }

  /** The next chunk, or null at the end; throws what broke the stream. */
  async next(): Promise<Buffer | null> {
    while (this.queue.length === 0) {
      if (this.failure) throw this.failure;
      if (this.ended) return null;
      await new Promise<void>((r) => {
        this.wake = r;
      });
    }
    const chunk = this.queue.shift()!;
    if (this.paused && this.queue.length < HIGH_WATER / 2) {
      this.paused = false;
      this.resume?.();
    }
    return chunk;
  }

  /** Done reading: bytes still due from upstream are not worth the connection. */
  release(): void {
    this.queue.length = 0;
    if (!this.ended) {
      this.ended = true;
      this.abortCall?.();
    }
  }

  private settled() {
    const s = this.settle;
    this.settle = undefined;
    return s;
  }

  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
}
