// Bearer-token auth of the collector's ingest routes (SWITCHYARD_COLLECTOR_TOKEN on OTLP,
// SWITCHYARD_FEEDBACK_TOKEN or else the same token on feedback). A refused OTLP export is
// answered as the OTLP/HTTP spec answers any failure: a google.rpc.Status (code 16,
// UNAUTHENTICATED) in the request's encoding, so the exporter logs a readable reason.
import { hash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mediaType } from './body.js';
import { encodeStatusJson } from './otlp-json.js';
import { encodeStatusProto } from './otlp-proto.js';

const UNAUTHENTICATED = 16;

/**
 * True when no token is configured or `Authorization: Bearer <token>` carries it. Compared as
 * SHA-256 digests in constant time, so neither the content nor the length of the token leaks
 * through timing.
 */
export function bearerAuthorized(expected: string | undefined, authorization: string | undefined): boolean {
  if (!expected) return true;
  const m = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
  if (!m) return false;
  const digest = (s: string) => hash('sha256', s, 'buffer');
  return timingSafeEqual(digest(m[1].trim()), digest(expected));
}

/** Answers 401 (OTLP Status body) unless the request carries the token; true when it may go on. */
export function otlpAuthorized(token: string | undefined, req: IncomingMessage, res: ServerResponse): boolean {
  if (bearerAuthorized(token, req.headers.authorization)) return true;
  const mt = mediaType(req.headers['content-type']);
  const proto = mt === 'application/x-protobuf' || mt === 'application/protobuf';
  const message = 'missing or invalid bearer token: send Authorization: Bearer <SWITCHYARD_COLLECTOR_TOKEN>';
  const body = proto
    ? encodeStatusProto(UNAUTHENTICATED, message)
    : Buffer.from(encodeStatusJson(UNAUTHENTICATED, message));
  // The body of a sender we do not know is not read: the connection closes after the answer.
  res.writeHead(401, {
    'content-type': proto ? 'application/x-protobuf' : 'application/json',
    'content-length': String(body.length),
    'www-authenticate': 'Bearer',
    connection: 'close',
  });
  res.end(body);
  return false;
}
