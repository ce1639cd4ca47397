// OpenAI's error bodies and headers: auth failures, validation failures, injected fault statuses.
import type { Reply } from './faults.js';
import { bodyField, type Fault, type RecordedRequest } from './server.js';
import { nextId } from './text.js';
import { typeName, type Problem } from './validate.js';

export function openaiError(
  status: number,
  message: string,
  type: string,
  param: string | null = null,
  code: string | null = null,
  headers?: Record<string, string>,
): Reply {
  return { status, headers, json: { error: { message, type, param, code } } };
}

export function openaiHeaders(): Record<string, string> {
  return {
    'x-request-id': nextId('req_'),
    'openai-processing-ms': '1',
    'openai-version': '2020-10-01',
    'openai-organization': 'org-fake',
    'x-ratelimit-limit-requests': '10000',
    'x-ratelimit-remaining-requests': '9999',
    'x-ratelimit-reset-requests': '6ms',
    'x-ratelimit-limit-tokens': '30000000',
    'x-ratelimit-remaining-tokens': '29999000',
    'x-ratelimit-reset-tokens': '2ms',
  };
}

function mask(key: string): string {
  return key.length <= 8
    ? '*'.repeat(key.length)
    : `${key.slice(0, 3)}${'*'.repeat(Math.min(key.length - 7, 40))}${key.slice(-4)}`;
}

/** Bearer-token check worded as the real API words it. */
export function openaiAuth(rawAuth: string | undefined, apiKey: string | undefined): Reply | undefined {
  if (apiKey === undefined) return undefined;
  const m = rawAuth === undefined ? null : /^Bearer\s+(.+)$/i.exec(rawAuth);
  if (m === null) {
    return openaiError(
      401,
      "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username. You can obtain an API key from https://platform.openai.com/account/api-keys.",
      'invalid_request_error',
    );
  }
  if (m[1].trim() !== apiKey) {
    return openaiError(
      401,
      `Incorrect API key provided: ${mask(m[1].trim())}. You can find your API key at https://platform.openai.com/account/api-keys.`,
      'invalid_request_error',
      null,
      'invalid_api_key',
    );
  }
  return undefined;
}

/** OpenAI's own spelling of a parameter path: messages[0].role */
function paramPath(path: (string | number)[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s === '' ? p : `.${p}`;
  return s;
}

function listOptions(opts: unknown[]): string {
  const q = opts.map((o) => `'${String(o)}'`);
  return q.length <= 1 ? q.join('') : `${q.slice(0, -1).join(', ')}, and ${q[q.length - 1]}`;
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a decimal',
  int: 'an integer',
  boolean: 'a boolean',
  array: 'an array',
  object: 'an object',
};

export function openaiProblem(p: Problem): Reply {
  const param = paramPath(p.path);
  if (param === 'model' && p.kind === 'missing')
    return openaiError(400, 'you must provide a model parameter', 'invalid_request_error');
  switch (p.kind) {
    case 'missing':
      return openaiError(
        400,
        `Missing required parameter: '${param}'.`,
        'invalid_request_error',
        param,
        'missing_required_parameter',
      );
    case 'type':
      return openaiError(
        400,
        `Invalid type for '${param}': expected ${EXPECTED[p.expected ?? ''] ?? p.expected}, but got ${typeName(p.input)} instead.`,
        'invalid_request_error',
        param,
        'invalid_type',
      );
    case 'enum':
      return openaiError(
        400,
        `Invalid value: '${String(p.input)}'. Supported values are: ${listOptions(p.options ?? [])}.`,
        'invalid_request_error',
        param,
        'invalid_value',
      );
    case 'min':
      if (p.origin === 'array')
        return openaiError(
          400,
          `Invalid '${param}': empty array. Expected an array with minimum length ${p.limit}, but got an empty array instead.`,
          'invalid_request_error',
          param,
          'empty_array',
        );
      return openaiError(
        400,
        `Invalid '${param}': ${typeName(p.input)} below minimum value. Expected a value >= ${p.limit}, but got ${String(p.input)} instead.`,
        'invalid_request_error',
        param,
        `${typeName(p.input)}_below_min_value`,
      );
    case 'max':
      if (p.origin === 'array')
        return openaiError(
          400,
          `Invalid '${param}': array too long. Expected an array with maximum length ${p.limit}, but got an array with length ${(p.input as unknown[]).length} instead.`,
          'invalid_request_error',
          param,
          'array_above_max_length',
        );
      return openaiError(
        400,
        `Invalid '${param}': ${typeName(p.input)} above maximum value. Expected a value <= ${p.limit}, but got ${String(p.input)} instead.`,
        'invalid_request_error',
        param,
        `${typeName(p.input)}_above_max_value`,
      );
    default:
      return openaiError(400, `Invalid value for '${param}'.`, 'invalid_request_error', param, 'invalid_value');
  }
}

export const NOT_JSON = openaiError(
  400,
  "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
  'invalid_request_error',
);

/** The real error answer for an injected status. */
export function openaiFault(fault: Fault, req: RecordedRequest): Reply {
  const status = fault.status ?? 500;
  const asked = bodyField(req.body, 'model');
  const model = typeof asked === 'string' ? asked : 'gpt-4o';

  const t = fault.errorType;
  const msg = fault.message;
  switch (status) {
    case 429: {
      const headers = { 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-remaining-tokens': '0' };
      if (t === 'insufficient_quota') {
        return openaiError(
          429,
          msg ??
            'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.',
          t,
          null,
          t,
          headers,
        );
      }
      const kind = t ?? 'requests';
      const unit =
        kind === 'tokens'
          ? 'tokens per min (TPM): Limit 30000, Used 30000, Requested 100'
          : 'requests per min (RPM): Limit 500, Used 500, Requested 1';
      return openaiError(
        429,
        msg ??
          `Rate limit reached for ${model} in organization org-fake on ${unit}. Please try again in 1s. Visit https://platform.openai.com/account/rate-limits to learn more.`,
        kind,
        null,
        'rate_limit_exceeded',
        headers,
      );
    }
    case 401:
      return openaiError(
        401,
        msg ??
          'Incorrect API key provided: sk-fa*****************fake. You can find your API key at https://platform.openai.com/account/api-keys.',
        t ?? 'invalid_request_error',
        null,
        'invalid_api_key',
      );
    case 403:
      return openaiError(
        403,
        msg ?? 'Country, region, or territory not supported',
        t ?? 'request_forbidden',
        null,
        'unsupported_country_region_territory',
      );
    case 404:
      return openaiError(
        404,
        msg ?? `The model \`${model}\` does not exist or you do not have access to it.`,
        t ?? 'invalid_request_error',
        null,
        'model_not_found',
      );
    case 400:
      return openaiError(400, msg ?? 'Invalid request.', t ?? 'invalid_request_error');
    case 500:
      return openaiError(
        500,
        msg ?? 'The server had an error while processing your request. Sorry about that!',
        t ?? 'server_error',
      );
    case 503:
      return openaiError(503, msg ?? 'The server is overloaded or not ready yet.', t ?? 'server_error');
    default:
      return openaiError(
        status,
        msg ?? `Fake OpenAI error ${status}.`,
        t ?? (status >= 500 ? 'server_error' : 'invalid_request_error'),
      );
  }
}
