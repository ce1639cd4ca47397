// POST /v1/traces, answered per the OTLP/HTTP specification: 200 with an
// ExportTraceServiceResponse (partial_success for rejected spans) in the request's encoding,
// 400 with a google.rpc.Status for undecodable bodies, 413 too large, 415 unsupported media
// type or encoding, 429/503 with Retry-After when the writer cannot take the spans.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OtelTraceRow } from '../store/types.js';
import { BodyError, decodeContentEncoding, mediaType, readRawBody } from './body.js';
import { logger } from '../logger.js';
import type { Encoding } from './decode-job.js';
import type { DecodePool } from './decode-pool.js';
import type { SignalMetrics } from './metrics.js';
import { encodeStatusJson, encodeTraceResponseJson } from './otlp-json.js';
import { encodeStatusProto, encodeTraceResponseProto } from './otlp-proto.js';
import { BufferFullError, type DurableWriter, WriterUnavailableError } from './writer.js';

// google.rpc.Code values used in Status bodies.
const INVALID_ARGUMENT = 3;
const RESOURCE_EXHAUSTED = 8;
const INTERNAL = 13;
const UNAVAILABLE = 14;

export interface TracesRouteDeps {
  writer: DurableWriter<OtelTraceRow>;
  /** Decodes, maps and encodes bodies (on worker threads when it has them). */
  decoder: DecodePool;
  metrics: SignalMetrics;
  maxBodyBytes: number;
  /** Seconds a sender is told to wait after a 429. */
  retryAfterFullSeconds: number;
  /** Seconds a sender is told to wait after a 503. */
  retryAfterUnavailableSeconds: number;
}

function contentTypeOf(enc: Encoding): string {
  return enc === 'proto' ? 'application/x-protobuf' : 'application/json';
}

function sendStatus(
  res: ServerResponse,
  http: number,
  enc: Encoding,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): number {
  const body = enc === 'proto' ? encodeStatusProto(code, message) : Buffer.from(encodeStatusJson(code, message));
  res.writeHead(http, { 'content-type': contentTypeOf(enc), 'content-length': String(body.length), ...headers });
  res.end(body);
  return http;
}

function encodingOf(contentType: string | undefined): Encoding | undefined {
  const mt = mediaType(contentType);
  if (mt === 'application/x-protobuf' || mt === 'application/protobuf') return 'proto';
  if (mt === 'application/json') return 'json';
  return undefined;
}

/** Handles one export request; returns the HTTP status it answered with. */
export async function handleTraces(req: IncomingMessage, res: ServerResponse, deps: TracesRouteDeps): Promise<number> {
  const enc = encodingOf(req.headers['content-type']);
  if (!enc) {
    req.resume();
    return sendStatus(
      res,
      415,
      'json',
      INVALID_ARGUMENT,
      `unsupported Content-Type "${req.headers['content-type'] ?? ''}" (use application/x-protobuf or application/json)`,
    );
  }
  let body: Buffer;
  let raw: Buffer;
  try {
    raw = await readRawBody(req, deps.maxBodyBytes);
    body = await decodeContentEncoding(raw, req.headers['content-encoding'], deps.maxBodyBytes);
  } catch (err) {
    if (err instanceof BodyError) {
      // Stop reading a body we refused; the connection cannot be reused after that.
      const headers: Record<string, string> = err.status === 413 ? { connection: 'close' } : {};
      return sendStatus(res, err.status, enc, INVALID_ARGUMENT, err.message, headers);
    }
    throw err;
  }

  let decoded;
  try {
    // A body read as it came (not decompressed) is ours alone: the pool may move it.
    decoded = await deps.decoder.decode(enc, body, { transfer: body === raw });
  } catch (err) {
    logger.error('decoding an export request failed', { error: (err as Error).message });
    return sendStatus(res, 500, enc, INTERNAL, 'internal error while decoding spans');
  }
  if (!decoded.ok) return sendStatus(res, 400, enc, INVALID_ARGUMENT, decoded.reason);
  const { rows, rejected, firstError } = decoded;
  deps.metrics.received.inc(rows + rejected);
  if (rejected > 0) deps.metrics.rejected.inc(rejected);

  if (rows > 0) {
    try {
      const p = decoded.payload;
      await deps.writer.submitEncoded(Buffer.from(p.buffer, p.byteOffset, p.byteLength), rows);
    } catch (err) {
      if (err instanceof BufferFullError) {
        return sendStatus(res, 429, enc, RESOURCE_EXHAUSTED, err.message, {
          'retry-after': String(deps.retryAfterFullSeconds),
        });
      }
      if (err instanceof WriterUnavailableError) {
        return sendStatus(res, 503, enc, UNAVAILABLE, err.message, {
          'retry-after': String(deps.retryAfterUnavailableSeconds),
        });
      }
      return sendStatus(res, 500, enc, INTERNAL, 'internal error while storing spans');
    }
  }

  const message = rejected > 0 ? `${rejected} span(s) rejected: ${firstError}` : '';
  const out =
    enc === 'proto'
      ? encodeTraceResponseProto(rejected, message)
      : Buffer.from(encodeTraceResponseJson(rejected, message));
  res.writeHead(200, { 'content-type': contentTypeOf(enc), 'content-length': String(out.length) });
  res.end(out);
  return 200;
}
