// Anthropic's error bodies and headers: auth/version checks, validation failures, injected fault statuses.
import type http from 'node:http';
import type { Reply } from './faults.js';
import type { Fault } from './server.js';
import { nextId } from './text.js';
import type { Problem } from './validate.js';

export function anthropicError(status: number, type: string, message: string, headers?: Record<string, string>): Reply {
  return { status, headers, json: { type: 'error', error: { type, message }, request_id: nextId('req_') } };
}

export function anthropicHeaders(): Record<string, string> {
  const reset = new Date(Date.now() + 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    'request-id': nextId('req_'),
    'anthropic-organization-id': '00000000-0000-4000-8000-00000000fake',
    'anthropic-ratelimit-requests-limit': '4000',
    'anthropic-ratelimit-requests-remaining': '3999',
    'anthropic-ratelimit-requests-reset': reset,
    'anthropic-ratelimit-input-tokens-limit': '2000000',
    'anthropic-ratelimit-input-tokens-remaining': '1999000',
    'anthropic-ratelimit-input-tokens-reset': reset,
    'anthropic-ratelimit-output-tokens-limit': '400000',
    'anthropic-ratelimit-output-tokens-remaining': '399000',
    'anthropic-ratelimit-output-tokens-reset': reset,
    'anthropic-ratelimit-tokens-limit': '2400000',
    'anthropic-ratelimit-tokens-remaining': '2398000',
    'anthropic-ratelimit-tokens-reset': reset,
  };
}

/** x-api-key is always required (any value unless `apiKey` is set), then anthropic-version. */
export function anthropicPrecheck(raw: http.IncomingHttpHeaders, apiKey: string | undefined): Reply | undefined {
  const key = raw['x-api-key'];
  if (typeof key !== 'string' || key === '')
    return anthropicError(401, 'authentication_error', 'x-api-key header is required');
  if (apiKey !== undefined && key !== apiKey) return anthropicError(401, 'authentication_error', 'invalid x-api-key');
  if (typeof raw['anthropic-version'] !== 'string' || raw['anthropic-version'] === '') {
    return anthropicError(400, 'invalid_request_error', 'anthropic-version: header is required');
  }
  return undefined;
}

const PY_TYPES: Record<string, string> = {
  string: 'a valid string',
  int: 'a valid integer',
  number: 'a valid number',
  boolean: 'a valid boolean',
  array: 'a valid list',
  object: 'a valid dictionary',
};

/** Pydantic-style wording, as the Messages API answers: "max_tokens: Field required". */
export function anthropicProblem(p: Problem): Reply {
  const where = p.path.join('.');
  let msg: string;
  switch (p.kind) {
    case 'missing':
      msg = 'Field required';
      break;
    case 'type':
      msg = `Input should be ${PY_TYPES[p.expected ?? ''] ?? `a valid ${p.expected}`}`;
      break;
    case 'enum': {
      const opts = (p.options ?? []).map((o) => `'${String(o)}'`);
      msg = `Input should be ${opts.length <= 1 ? opts.join('') : `${opts.slice(0, -1).join(', ')} or ${opts[opts.length - 1]}`}`;
      break;
    }
    case 'min':
      if (where === 'messages')
        return anthropicError(400, 'invalid_request_error', 'messages: at least one message is required');
      msg =
        p.origin === 'array'
          ? `List should have at least ${p.limit} item after validation, not 0`
          : p.origin === 'string'
            ? `String should have at least ${p.limit} character`
            : `Input should be greater than or equal to ${p.limit}`;
      break;
    case 'max':
      msg =
        p.origin === 'array'
          ? `List should have at most ${p.limit} items after validation`
          : `Input should be less than or equal to ${p.limit}`;
      break;
    default:
      msg = 'Input is invalid';
  }
  return anthropicError(400, 'invalid_request_error', where ? `${where}: ${msg}` : msg);
}

const FAULT_TYPES: Record<number, [string, string]> = {
  400: ['invalid_request_error', 'Invalid request.'],
  401: ['authentication_error', 'invalid x-api-key'],
  402: [
    'billing_error',
    'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.',
  ],
  403: ['permission_error', 'Your API key does not have permission to use the specified resource.'],
  404: ['not_found_error', 'Not Found'],
  413: ['request_too_large', 'Request exceeds the maximum allowed number of bytes.'],
  429: [
    'rate_limit_error',
    'Number of request tokens has exceeded your per-minute rate limit (https://docs.anthropic.com/en/api/rate-limits); see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later. You may also contact sales at https://www.anthropic.com/contact-sales to discuss your options for a rate limit increase.',
  ],
  500: ['api_error', 'Internal server error'],
  504: ['timeout_error', 'Request timed out'],
  529: ['overloaded_error', 'Overloaded'],
};

export function anthropicFault(fault: Fault): Reply {
  const status = fault.status ?? 500;
  const [type, message] = FAULT_TYPES[status] ?? [
    status >= 500 ? 'api_error' : 'invalid_request_error',
    `Fake Anthropic error ${status}`,
  ];
  const headers =
    status === 429
      ? { 'anthropic-ratelimit-requests-remaining': '0', 'anthropic-ratelimit-tokens-remaining': '0' }
      : undefined;
  return anthropicError(status, fault.errorType ?? type, fault.message ?? message, headers);
}

export function anthropicStreamError(fault: Fault): string {
  const error = { type: fault.errorType ?? 'overloaded_error', message: fault.message ?? 'Overloaded' };
  return `event: error\ndata: ${JSON.stringify({ type: 'error', error })}\n\n`;
}
