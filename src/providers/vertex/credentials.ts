// Vertex AI auth: a service-account key signs a JWT (RS256) that Google's token endpoint trades
// for an access token (the OAuth 2.0 JWT bearer grant, RFC 7523); tokens are cached until near expiry.
import { createSign } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { AuthError, fetchToken, TokenCache, type Token } from '../common/oauth.js';
import { ProviderConfigError } from '../common/spec.js';

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';

export const ServiceAccountKey = z.looseObject({
  type: z.literal('service_account'),
  client_email: z.string().email(),
  private_key: z.string().includes('PRIVATE KEY'),
  private_key_id: z.string().optional(),
  project_id: z.string().optional(),
  token_uri: z.string().url().optional(),
});
export type ServiceAccountKey = z.infer<typeof ServiceAccountKey>;

const b64url = (v: string | Buffer) => Buffer.from(v).toString('base64url');

/** The signed assertion: header.claims.signature, valid for one hour. */
export function signJwt(key: ServiceAccountKey, scope: string, nowSec = Math.floor(Date.now() / 1000)): string {
  const header = { alg: 'RS256', typ: 'JWT', ...(key.private_key_id ? { kid: key.private_key_id } : {}) };
  const claims = {
    iss: key.client_email,
    scope,
    aud: key.token_uri ?? GOOGLE_TOKEN_URI,
    iat: nowSec,
    exp: nowSec + 3600,
  };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  let sig: Buffer;
  try {
    sig = createSign('RSA-SHA256').update(input).sign(key.private_key);
  } catch (e) {
    throw new AuthError(401, `service account ${key.client_email}: private_key cannot sign (${(e as Error).message})`);
  }
  return `${input}.${b64url(sig)}`;
}

const tokens = new TokenCache();

export function serviceAccountToken(key: ServiceAccountKey, scope: string, signal?: AbortSignal): Promise<string> {
  const tokenUri = key.token_uri ?? GOOGLE_TOKEN_URI;
  return tokens.get(
    `${key.client_email}|${tokenUri}|${scope}`,
    (): Promise<Token> =>
      fetchToken(tokenUri, {
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        assertion: signJwt(key, scope),
      }),
    signal,
  );
}

/** For tests: how many token fetches were made, and a way to forget cached tokens. */
export const vertexTokenCache = tokens;

const fileKeys = new Map<string, Promise<ServiceAccountKey>>();

/**
 * The key from the provider's `credentials` (an object, JSON text or a file path) or, failing
 * that, the GOOGLE_APPLICATION_CREDENTIALS file. Errors name the field, never the key.
 */
export function loadServiceAccount(
  credentials: unknown,
  slug: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ServiceAccountKey> {
  const field = `providers.${slug}.credentials`;
  if (credentials && typeof credentials === 'object') return Promise.resolve(parseKey(credentials, field));
  if (typeof credentials === 'string' && credentials.trim().startsWith('{')) {
    try {
      return Promise.resolve(parseKey(JSON.parse(credentials), field));
    } catch (e) {
      if (e instanceof ProviderConfigError) throw e;
      throw new ProviderConfigError(`${field}: is not valid JSON`);
    }
  }
  const path = typeof credentials === 'string' && credentials ? credentials : env.GOOGLE_APPLICATION_CREDENTIALS;
  if (!path)
    throw new ProviderConfigError(
      `${field}: is required for type vertex (a service-account key object, its JSON, a file path, or set GOOGLE_APPLICATION_CREDENTIALS)`,
    );
  let p = fileKeys.get(path);
  if (!p) {
    const label = typeof credentials === 'string' && credentials ? field : 'GOOGLE_APPLICATION_CREDENTIALS';
    p = readFile(path, 'utf8').then(
      (text) => {
        try {
          return parseKey(JSON.parse(text), label);
        } catch (e) {
          if (e instanceof ProviderConfigError) throw e;
          throw new ProviderConfigError(`${label}: file ${path} is not valid JSON`);
        }
      },
      (e: NodeJS.ErrnoException) => {
        throw new ProviderConfigError(`${label}: cannot read ${path} (${e.code ?? e.message})`);
      },
    );
    p.catch(() => fileKeys.delete(path)); // a fixed file is read again on the next request
    fileKeys.set(path, p);
  }
  return p;
}

function parseKey(v: unknown, field: string): ServiceAccountKey {
  const r = ServiceAccountKey.safeParse(v);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new ProviderConfigError(`${field}.${i.path.join('.')}: ${i.message} (expected a service-account key)`);
  }
  return r.data;
}
