// Fault delivery at the socket level: delays, hangs, resets, mid-stream cuts, broken bodies.
import type http from 'node:http';
import type { Fault, ProviderImpl, RecordedRequest } from './server.js';

/** A provider answer before faults are applied: JSON, raw text, or a list of SSE frames. */
export interface Reply {
  status: number;
  headers?: Record<string, string>;
  json?: unknown;
  raw?: string; // body sent as is (content-type still application/json)
  sse?: string[]; // each item is one complete SSE frame ("…\n\n")
}

const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

export function writeFast(res: http.ServerResponse, reply: Reply, common: Record<string, string>): void {
  if (reply.sse !== undefined) {
    res.writeHead(reply.status, { ...common, ...reply.headers, ...SSE_HEADERS });
    res.end(reply.sse.join(''));
    return;
  }
  const body = reply.raw ?? JSON.stringify(reply.json);
  res.writeHead(reply.status, {
    ...common,
    ...reply.headers,
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
  });
  res.end(body);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function gone(res: http.ServerResponse): boolean {
  return res.destroyed || res.writableEnded;
}

function writeAsync(res: http.ServerResponse, chunk: string): Promise<void> {
  return new Promise((resolve) => res.write(chunk, () => resolve()));
}

function faultHeaders(fault: Fault): Record<string, string> {
  const h: Record<string, string> = { ...fault.headers };
  if (fault.retryAfter !== undefined) h['retry-after'] = fault.retryAfter;
  if (fault.retryAfterMs !== undefined) h['retry-after-ms'] = String(fault.retryAfterMs);
  return h;
}

/** Picks the answer for a request under a fault (before any delivery fault is applied). */
function chooseReply(fault: Fault, rec: RecordedRequest, raw: http.IncomingHttpHeaders, impl: ProviderImpl): Reply {
  const pre = impl.precheck(rec, raw);
  if (pre !== undefined) return pre;
  if (fault.body !== undefined) return { status: fault.status ?? 200, json: fault.body };
  if (fault.status !== undefined && fault.status !== 200) return impl.faultReply(fault, rec);
  const reply = impl.handle(rec);
  if (fault.malformed && reply.status < 400) {
    if (reply.sse !== undefined) {
      // One broken data line right after the first event; the rest of the stream follows.
      const sse = reply.sse.slice();
      sse.splice(1, 0, impl.malformedFrame);
      return { ...reply, sse };
    }
    return { status: 200, headers: reply.headers, raw: impl.malformedBody };
  }
  return reply;
}

export async function deliver(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  rec: RecordedRequest,
  fault: Fault,
  impl: ProviderImpl,
  latencyMs: number,
  state: { selfClosed: boolean },
): Promise<void> {
  const wait = latencyMs + (fault.delayHeadersMs ?? 0);
  if (wait > 0) await sleep(wait);
  if (gone(res)) return;
  if (fault.reset) {
    state.selfClosed = true;
    // RST rather than FIN, so the client sees ECONNRESET like a dropped provider connection.
    req.socket.resetAndDestroy();
    return;
  }
  if (fault.hang) return; // never answer; close() or the client's timeout ends the socket

  const reply = chooseReply(fault, rec, req.headers, impl);
  const headers = { ...impl.commonHeaders(), ...reply.headers, ...faultHeaders(fault) };

  if (reply.sse === undefined) {
    const body = reply.raw ?? JSON.stringify(reply.json);
    res.writeHead(reply.status, {
      ...headers,
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
    });
    if (fault.slowBodyMs) {
      res.flushHeaders();
      await sleep(fault.slowBodyMs);
      if (gone(res)) return;
    }
    res.end(body);
    return;
  }

  const frames = reply.sse;
  const plain =
    !fault.slowBodyMs &&
    !fault.firstChunkDelayMs &&
    fault.cutAfterEvents === undefined &&
    fault.errorAfterEvents === undefined;
  res.writeHead(reply.status, { ...headers, ...SSE_HEADERS });
  if (plain) {
    res.end(frames.join(''));
    return;
  }
  res.flushHeaders();
  if (fault.firstChunkDelayMs) {
    await sleep(fault.firstChunkDelayMs);
    if (gone(res)) return;
  }
  for (let i = 0; i < frames.length; i++) {
    if (fault.cutAfterEvents !== undefined && i >= fault.cutAfterEvents) {
      // No terminating chunk: the client sees the connection end mid-body.
      state.selfClosed = true;
      req.socket.destroy();
      return;
    }
    if (fault.errorAfterEvents !== undefined && i >= fault.errorAfterEvents) {
      res.end(impl.streamErrorFrame(fault));
      return;
    }
    if (i > 0 && fault.slowBodyMs) {
      await sleep(fault.slowBodyMs);
      if (gone(res)) return;
    }
    await writeAsync(res, frames[i]);
    if (gone(res)) return;
  }
  if (fault.cutAfterEvents !== undefined && fault.cutAfterEvents <= frames.length) {
    state.selfClosed = true;
    req.socket.destroy();
    return;
  }
  res.end();
}
