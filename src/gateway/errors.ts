// The one error shape for every failure the gateway answers itself.
import type { Response } from 'express';

export const statusTypes: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  408: 'timeout_error',
  412: 'budget_exceeded',
  413: 'request_too_large',
  415: 'invalid_request_error',
  429: 'rate_limit_error',
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
}

export function errorJson(status: number, message: string, code: string | null = null, type?: string): Record<string, unknown> {
  return { error: { message, type: type ?? statusTypes[status] ?? 'api_error', code, status, attempts: [] } };
}

export function sendError(res: Response, err: HttpError, extraHeaders: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.status(err.status).set(extraHeaders).json(errorJson(err.status, err.message, err.code, err.type));
}
