// Fake Vertex AI: the Gemini wire format at /v1/projects/{p}/locations/{l}/publishers/google/models/{m}:{method},
// OAuth bearer tokens, and a fake Google token endpoint (POST /token) that checks the service
// account's JWT assertion (RS256 signature with the key's public half, iss, aud, scope, lifetime).
import { createPublicKey, createVerify, randomBytes, type KeyObject } from 'node:crypto';
import type { Reply } from './faults.js';
import { generate, googleError, googleFault, googleStreamError, predictEmbed } from './gemini-generate.js';
import {
  startFakeServer,
  type FakeOptions,
  type FakeServer,
  type Fault,
  type ProviderImpl,
  type RecordedRequest,
} from './server.js';
import { nextId } from './text.js';

export const VERTEX_MODELS = ['gemini-2.5-pro', 'gemini-2.5-flash', 'gemini-2.0-flash', 'text-embedding-005'];

export interface FakeVertexOptions extends FakeOptions {
  /** The service account whose JWTs the token endpoint accepts. */
  clientEmail: string;
  /** PEM of its public key (or of the private key: the public half is derived). */
  publicKeyPem: string;
  project: string;
  /** Lifetime of issued tokens in seconds (default 3599, as Google's). */
  tokenTtl?: number;
}

export interface FakeVertex extends FakeServer {
  tokenUrl: string;
  tokensIssued: number;
  /** Invalidate every issued token (a revoked or expired credential). */
  revokeTokens(): void;
}

const oauthError = (error: string, description: string): Reply => ({
  status: 400,
  json: { error, error_description: description },
});

function verifyAssertion(jwt: string, key: KeyObject, email: string, aud: string): string | undefined {
  const parts = jwt.split('.');
  if (parts.length !== 3)
    return 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.';
  let header: { alg?: unknown };
  let claims: { iss?: unknown; aud?: unknown; scope?: unknown; iat?: unknown; exp?: unknown };

  try {
    header = JSON.parse(Buffer.from(parts[0], 'base64url').toString());
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
  } catch {
    return 'Invalid JWT: malformed.';
  }
  if (header.alg !== 'RS256') return 'Invalid JWT: unsupported algorithm.';
  const ok = createVerify('RSA-SHA256')
    .update(`${parts[0]}.${parts[1]}`)
    .verify(key, Buffer.from(parts[2], 'base64url'));
  if (!ok) return 'Invalid JWT Signature.';
  if (claims.iss !== email) return 'Invalid JWT: unknown issuer.';
  if (claims.aud !== aud) return `Invalid JWT: audience must be ${aud}.`;
  if (
    typeof claims.scope !== 'string' ||
    !claims.scope.split(' ').includes('https://www.googleapis.com/auth/cloud-platform')
  )
    return 'Invalid JWT: scope is missing cloud-platform.';
  const now = Math.floor(Date.now() / 1000);
  if (
    typeof claims.iat !== 'number' ||
    typeof claims.exp !== 'number' ||
    claims.exp - claims.iat > 3600 ||
    claims.exp < now ||
    claims.iat > now + 300
  ) {
    return 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.';
  }
  return undefined;
}

export async function startFakeVertex(opts: FakeVertexOptions): Promise<FakeVertex> {
  const key = createPublicKey(opts.publicKeyPem);
  const tokens = new Set<string>();
  let tokenUrl = '';

  const tokenEndpoint = (req: RecordedRequest): Reply => {
    const form = new URLSearchParams(typeof req.body === 'string' ? req.body : '');
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer')
      return oauthError('unsupported_grant_type', `Invalid grant_type: ${form.get('grant_type') ?? ''}`);
    const problem = verifyAssertion(form.get('assertion') ?? '', key, opts.clientEmail, tokenUrl);
    if (problem) return oauthError('invalid_grant', problem);
    const token = `ya29.fake-${randomBytes(12).toString('hex')}`;
    tokens.add(token);
    fake.tokensIssued++;
    return { status: 200, json: { access_token: token, expires_in: opts.tokenTtl ?? 3599, token_type: 'Bearer' } };
  };

  const route = (req: RecordedRequest): Reply => {
    const url = new URL(req.path, 'http://x');
    if (req.method === 'POST' && url.pathname === '/token') return tokenEndpoint(req);
    const m =
      /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/google\/models\/([^/:]+):(generateContent|streamGenerateContent|predict)$/.exec(
        url.pathname,
      );
    if (req.method === 'POST' && m) {
      if (m[1] !== opts.project)
        return googleError(
          403,
          'PERMISSION_DENIED',
          `Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/projects/${m[1]}/locations/${m[2]}/publishers/google/models/${m[3]}' (or it may not exist).`,
        );
      const model = decodeURIComponent(m[3]);
      if (!VERTEX_MODELS.includes(model))
        return googleError(
          404,
          'NOT_FOUND',
          `Publisher Model \`projects/${m[1]}/locations/${m[2]}/publishers/google/models/${model}\` was not found or your project does not have access to it.`,
        );
      if (typeof req.body !== 'object' || req.body === null)
        return googleError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
      if (m[4] === 'predict') return predictEmbed(req.body);
      return generate(req.body, model, m[4] === 'streamGenerateContent');
    }
    return googleError(404, 'NOT_FOUND', `The requested URL ${url.pathname} was not found on this server.`);
  };

  const impl: ProviderImpl = {
    precheck: (rec, raw) => {
      if (rec.path === '/token') return undefined;
      const m = /^Bearer\s+(.+)$/.exec((raw.authorization as string | undefined) ?? '');
      if (!m || !tokens.has(m[1])) {
        return googleError(
          401,
          'UNAUTHENTICATED',
          'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
          [
            {
              '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
              reason: 'ACCESS_TOKEN_TYPE_UNSUPPORTED',
              domain: 'googleapis.com',
            },
          ],
        );
      }
      return undefined;
    },
    handle: route,
    faultReply: (f: Fault) => googleFault(f.status!, f.errorType, f.message),
    malformedFrame: 'data: {"candidates": [{"content": {"parts": [{"text": "Hel\r\n\r\n',
    malformedBody: '{"candidates": [{"content": {"parts": [{"text": "Hel',
    streamErrorFrame: (f: Fault) => googleStreamError(f.status ?? 503, f.errorType, f.message),
    commonHeaders: () => ({ 'x-vertex-ai-request-id': nextId('') }),
  };
  const base = await startFakeServer(impl, opts);
  tokenUrl = `${base.url}/token`;
  const fake = Object.assign(base, {
    tokenUrl,
    tokensIssued: 0,
    revokeTokens: () => tokens.clear(),
  }) as FakeVertex;
  return fake;
}
