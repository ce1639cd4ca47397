// Fake Gemini API (generativelanguage.googleapis.com/v1beta): models/{m}:generateContent,
// :streamGenerateContent?alt=sse, :batchEmbedContents, GET models. Auth: x-goog-api-key or ?key=.
import type { Reply } from './faults.js';
import { batchEmbed, generate, googleError, googleFault, googleStreamError } from './gemini-generate.js';
import {
  startFakeServer,
  type FakeOptions,
  type FakeServer,
  type Fault,
  type ProviderImpl,
  type RecordedRequest,
} from './server.js';
import { nextId } from './text.js';

export { GEMINI_CACHE_MARKER, GEMINI_THOUGHTS_TOKENS } from './gemini-generate.js';
export const GEMINI_MODELS = ['gemini-2.5-pro', 'gemini-2.5-flash', 'gemini-2.0-flash', 'gemini-embedding-001'];

function geminiAuth(
  req: RecordedRequest,
  raw: Record<string, string | string[] | undefined>,
  apiKey: string | undefined,
): Reply | undefined {
  if (apiKey === undefined) return undefined;
  const given =
    (raw['x-goog-api-key'] as string | undefined) ?? new URL(req.path, 'http://x').searchParams.get('key') ?? undefined;
  if (!given) {
    return googleError(
      403,
      'PERMISSION_DENIED',
      "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
    );
  }
  if (given !== apiKey) {
    return googleError(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'API_KEY_INVALID',
        domain: 'googleapis.com',
        metadata: { service: 'generativelanguage.googleapis.com' },
      },
    ]);
  }
  return undefined;
}

export function startFakeGemini(opts: FakeOptions = {}): Promise<FakeServer> {
  const route = (req: RecordedRequest): Reply => {
    const url = new URL(req.path, 'http://x');
    const m = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent|batchEmbedContents)$/.exec(
      url.pathname,
    );
    if (req.method === 'POST' && m) {
      if (typeof req.body !== 'object' || req.body === null)
        return googleError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received. Unexpected token.');
      const model = decodeURIComponent(m[1]);
      if (!GEMINI_MODELS.includes(model))
        return googleError(
          404,
          'NOT_FOUND',
          `models/${model} is not found for API version v1beta, or is not supported for generateContent.`,
        );
      if (m[2] === 'batchEmbedContents') return batchEmbed(req.body, model);
      const stream = m[2] === 'streamGenerateContent';
      if (stream && url.searchParams.get('alt') !== 'sse')
        return googleError(400, 'INVALID_ARGUMENT', 'this fake streams only with alt=sse');
      return generate(req.body, model, stream);
    }
    if (req.method === 'GET' && url.pathname === '/v1beta/models') {
      return {
        status: 200,
        json: {
          models: GEMINI_MODELS.map((id) => ({
            name: `models/${id}`,
            displayName: id,
            supportedGenerationMethods: id.includes('embedding')
              ? ['embedContent']
              : ['generateContent', 'countTokens'],
          })),
        },
      };
    }
    return googleError(404, 'NOT_FOUND', `The requested URL ${url.pathname} was not found on this server.`);
  };
  const impl: ProviderImpl = {
    precheck: (rec, raw) => geminiAuth(rec, raw, opts.apiKey),
    handle: route,
    faultReply: (f: Fault) => googleFault(f.status!, f.errorType, f.message),
    malformedFrame: 'data: {"candidates": [{"content": {"parts": [{"text": "Hel\r\n\r\n',
    malformedBody: '{"candidates": [{"content": {"parts": [{"text": "Hel',
    streamErrorFrame: (f: Fault) => googleStreamError(f.status ?? 503, f.errorType, f.message),
    commonHeaders: () => ({ 'x-goog-request-id': nextId(''), server: 'scaffolding on HTTPServer2' }),
  };
  return startFakeServer(impl, opts);
}

export type { FakeServer, Fault, RecordedRequest } from './server.js';
