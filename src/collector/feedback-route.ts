// POST /v1/feedback: optional bearer auth, zod-validated body, durable write like spans.
// Errors use the project's one JSON error shape.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FeedbackRow } from '../store/types.js';
import { BodyError, decodeContentEncoding, mediaType, readRawBody } from './body.js';
import { feedbackAuthorized, parseFeedback } from './feedback.js';
import type { SignalMetrics } from './metrics.js';
import { BufferFullError, type DurableWriter, WriterUnavailableError } from './writer.js';

export interface FeedbackRouteDeps {
  writer: DurableWriter<FeedbackRow>;
  metrics: SignalMetrics;
  token: string | undefined;
  maxBodyBytes: number;
  retryAfterFullSeconds: number;
  retryAfterUnavailableSeconds: number;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  payload: unknown,
  headers: Record<string, string> = {},
): number {
  const body = Buffer.from(JSON.stringify(payload));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(body.length), ...headers });
  res.end(body);
  return status;
}

export function sendError(
  res: ServerResponse,
  status: number,
  type: string,
  code: string,
  message: string,
  extra: Record<string, string> = {},
  headers: Record<string, string> = {},
): number {
  return sendJson(res, status, { error: { message, type, code, status, ...extra } }, headers);
}

export async function handleFeedback(
  req: IncomingMessage,
  res: ServerResponse,
  deps: FeedbackRouteDeps,
): Promise<number> {
  if (!feedbackAuthorized(deps.token, req.headers.authorization)) {
    req.resume();
    return sendError(
      res,
      401,
      'authentication_error',
      'unauthorized',
      'missing or invalid bearer token for /v1/feedback',
      {},
      {
        'www-authenticate': 'Bearer',
      },
    );
  }
  const mt = mediaType(req.headers['content-type']);
  if (mt !== '' && mt !== 'application/json') {
    req.resume();
    return sendError(
      res,
      415,
      'invalid_request_error',
      'unsupported_media_type',
      `Content-Type must be application/json, got "${mt}"`,
    );
  }
  let text: string;
  try {
    const raw = await readRawBody(req, deps.maxBodyBytes);
    text = (await decodeContentEncoding(raw, req.headers['content-encoding'], deps.maxBodyBytes)).toString('utf8');
  } catch (err) {
    if (err instanceof BodyError) {
      const code =
        err.status === 413 ? 'payload_too_large' : err.status === 415 ? 'unsupported_media_type' : 'invalid_body';
      return sendError(
        res,
        err.status,
        'invalid_request_error',
        code,
        err.message,
        {},
        err.status === 413 ? { connection: 'close' } : {},
      );
    }
    throw err;
  }

  const parsed = parseFeedback(text);
  if (!parsed.ok) {
    deps.metrics.received.inc();
    deps.metrics.rejected.inc();
    return sendError(res, 400, 'invalid_request_error', parsed.code, parsed.message, { param: parsed.param });
  }
  deps.metrics.received.inc();
  try {
    await deps.writer.submit([parsed.row]);
  } catch (err) {
    if (err instanceof BufferFullError) {
      return sendError(
        res,
        429,
        'rate_limit_error',
        'buffer_full',
        err.message,
        {},
        { 'retry-after': String(deps.retryAfterFullSeconds) },
      );
    }
    if (err instanceof WriterUnavailableError) {
      return sendError(
        res,
        503,
        'api_error',
        'store_unavailable',
        err.message,
        {},
        {
          'retry-after': String(deps.retryAfterUnavailableSeconds),
        },
      );
    }
    throw err;
  }
  return sendJson(res, 202, { status: 'accepted' });
}
