// The one error shape for every failure the gateway answers itself.
import type { ServerResponse } from 'node:http';

export const statusTypes: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  405: 'invalid_request_error',
  408: 'timeout_error',
  412: 'budget_exceeded',
  413: 'request_too_large',
  415: 'invalid_request_error',
  429: 'rate_limit_error',
  431: 'invalid_request_error',
  446: 'guardrail_error',
  502: 'bad_gateway',
  503: 'service_unavailable',
};

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string | null = null,
    readonly type: string = statusTypes[status] ?? 'api_error',
  ) {
    super(message);
  }

  /** Top-level fields written beside "error" (a guardrail's 446 carries hook_results). */
  extra?: Record<string, unknown>;
}

export function errorJson(
  status: number,
  message: string,
  code: string | null = null,
  type?: string,
): Record<string, unknown> {
  return { error: { message, type: type ?? statusTypes[status] ?? 'api_error', code, status, attempts: [] } };
}

/** Writes a JSON body with node's own response API (works for express responses too). */
export function writeJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** `body`: the route's own error shape (the Messages route answers Anthropic's). */
export function sendError(
  res: ServerResponse,
  err: HttpError,
  extraHeaders: Record<string, string> = {},
  body: unknown = errorJson(err.status, err.message, err.code, err.type),
): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  // A 413 closes the connection: the rest of an oversized body is not worth reading.
  const headers = err.status === 413 ? { ...extraHeaders, connection: 'close' } : extraHeaders;
  writeJson(
    res,
    err.status,
    err.extra && typeof body === 'object' && body !== null ? { ...body, ...err.extra } : body,
    headers,
  );
}
