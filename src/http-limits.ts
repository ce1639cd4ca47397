// Limits every node:http(s) listener applies against slow and malformed clients. A slowloris
// client opens connections and drips its request head a byte at a time; without a bound each
// one holds a socket and a parser for as long as it likes (Node's defaults: 60 s for the head,
// 5 min for the request, both checked only every 30 s).
//
// - headersTimeout: the request line and headers must arrive within it (from their first byte,
//   so time idle on a keep-alive connection does not count).
// - requestTimeout: the whole request, body included, must arrive within it. It ends when the
//   request has been received: a response that takes minutes (a streamed LLM answer) is not cut.
// - Node checks both on a timer (connectionsCheckingInterval); it is derived from the header
//   timeout here so a slow client is cut within about a tenth past it, not up to 30 s later.
// - maxHeaderBytes: a bigger head is answered 431. maxHeadersCount stays Node's (2000): past it
//   Node drops headers silently rather than refusing, and the byte cap already bounds the work.
import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';

export interface ServerLimits {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxHeaderBytes: number;
}

export const DEFAULT_SERVER_LIMITS: Readonly<ServerLimits> = Object.freeze({
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  // Above the 60 s idle timeout of common load balancers and proxies: the server must not close
  // a kept-alive connection the client is about to reuse.
  keepAliveTimeoutMs: 65_000,
  maxHeaderBytes: 16 * 1024,
});

/** How often Node looks for connections past their timeouts. */
export function checkingIntervalMs(headersTimeoutMs: number): number {
  return Math.min(1_000, Math.max(50, Math.floor(headersTimeoutMs / 10)));
}

/** The JSON body a listener answers a malformed or too-slow request with. */
export type ClientErrorBody = (status: number, code: string, message: string) => unknown;

/**
 * Applies the limits to a server. Call it before listen(): Node starts the checking timer when
 * the server starts listening. With `errorBody`, malformed requests, timeouts and oversized heads
 * are answered in the listener's JSON error shape instead of Node's bare status line.
 */
export function applyServerLimits(server: Server, limits: ServerLimits, errorBody?: ClientErrorBody): void {
  // Node refuses headersTimeout > requestTimeout when given as options; keep the same rule.
  server.headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  server.requestTimeout = limits.requestTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  // Options only in @types/node, but read from the server object when listening / per connection.
  Object.assign(server, {
    maxHeaderSize: limits.maxHeaderBytes,
    connectionsCheckingInterval: checkingIntervalMs(server.headersTimeout),
  });
  if (errorBody)
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) =>
      answerClientError(err, socket, limits, errorBody),
    );
}

function describe(err: NodeJS.ErrnoException, limits: ServerLimits): [number, string, string] {
  switch (err.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [
        408,
        'request_timeout',
        `the request did not arrive in time (headers within ${limits.headersTimeoutMs} ms, the whole request within ${limits.requestTimeoutMs} ms)`,
      ];
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'headers_too_large', `request headers exceed ${limits.maxHeaderBytes} bytes`];
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return [413, 'chunk_extensions_too_large', 'chunk extensions are too large'];
    default:
      return [400, 'malformed_request', `malformed HTTP request (${err.code})`];
  }
}

function answerClientError(
  err: NodeJS.ErrnoException,
  socket: Duplex,
  limits: ServerLimits,
  errorBody: ClientErrorBody,
): void {
  // A response already under way on this socket (Node's own check, on its private field): writing
  // a status line now would corrupt it, so the connection just ends.
  // Only HTTP-level errors get an answer: socket errors (ECONNRESET, EPIPE) and TLS failures
  // (an HTTPS server reports those here too, before any HTTP is spoken) just end the connection.
  const http = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' || err.code?.startsWith('HPE_') === true;
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!http || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const [status, code, message] = describe(err, limits);
  const body = JSON.stringify(errorBody(status, code, message));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}
