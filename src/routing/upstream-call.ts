// A buffered upstream call on undici's dispatch API: the answer's bytes collected in a list and
// handed over whole. undici's request() wraps every answer in a Readable stream and an async
// resource, and takes an AbortSignal; a JSON answer needs none of that (bench/overhead: this path
// is what every non-streamed request pays).
import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import type { UpstreamRequest } from '../providers/types.js';
import type { AttemptGate } from './attempt-gate.js';

export interface BufferedResponse {
  statusCode: number;
  /** Parsed for an error answer only (retry-after, the provider's error details); a success needs none. */
  headers: IncomingHttpHeaders;
  /** The body as text; an error body is cut at `errorLimit` bytes. */
  text: string;
}

const target = new Map<string, { origin: string; path: string }>();

/** origin + path of a URL, parsed once per distinct URL (a target's URL rarely changes). */
export function splitUrl(url: string): { origin: string; path: string } {
  let t = target.get(url);
  if (!t) {
    const u = new URL(url);
    t = { origin: u.origin, path: u.pathname + u.search };
    if (target.size >= 1024) target.clear();
    target.set(url, t);
  }
  return t;
}

/** Raw header pairs to node's header object (names lower-cased, repeats joined as node does). */
export function parseRawHeaders(raw: Buffer[] | string[] | null): IncomingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  if (!raw) return out;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const k = raw[i].toString().toLowerCase();
    const v = raw[i + 1].toString();
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else if (k === 'set-cookie') out[k] = Array.isArray(prev) ? [...prev, v] : [prev, v];
    else out[k] = `${prev}, ${v}`;
  }
  return out;
}

class BufferingHandler implements Dispatcher.DispatchHandler {
  private status = 0;
  private raw: Buffer[] | string[] | null = null;
  private readonly chunks: Buffer[] = [];
  private bytes = 0;

  constructor(
    private readonly gate: AttemptGate,
    private readonly errorLimit: number,
    private readonly resolve: (r: BufferedResponse) => void,
    private readonly reject: (e: Error) => void,
  ) {}

  onConnect(abort: (err?: Error) => void): void {
    this.gate.attach(abort);
  }

  onHeaders(statusCode: number, headers: Buffer[] | string[] | null): boolean {
    this.status = statusCode;
    this.raw = headers;
    return true;
  }

  onData(chunk: Buffer): boolean {
    // An error body is read to its end (the connection stays reusable) but kept only up to the limit.
    if (this.status < 400 || this.bytes < this.errorLimit) this.chunks.push(chunk);
    this.bytes += chunk.length;
    return true;
  }

  onComplete(): void {
    const c = this.chunks;
    let text = c.length === 1 ? c[0].toString() : Buffer.concat(c).toString();
    if (this.status >= 400 && text.length > this.errorLimit) text = text.slice(0, this.errorLimit);
    this.resolve({ statusCode: this.status, headers: this.status >= 400 ? parseRawHeaders(this.raw) : {}, text });
  }

  onError(err: Error): void {
    this.reject(err);
  }
}

export function callBuffered(
  dispatcher: Dispatcher,
  up: UpstreamRequest,
  gate: AttemptGate,
  errorLimit: number,
): Promise<BufferedResponse> {
  const { origin, path } = splitUrl(up.url);
  return new Promise((resolve, reject) => {
    dispatcher.dispatch(
      { origin, path, method: up.method as Dispatcher.HttpMethod, headers: up.headers, body: up.body },
      new BufferingHandler(gate, errorLimit, resolve, reject),
    );
  });
}
