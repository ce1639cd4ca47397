// OAuth access tokens for providers that need them (Vertex service accounts, Azure Entra ID):
// fetched once, shared by concurrent requests, refreshed a minute before they expire.
import { request } from 'undici';
import { z } from 'zod';

/** Credentials could not be turned into a token: 401 when refused, 502 when the endpoint failed. */
export class AuthError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface Token {
  value: string;
  expiresAt: number;
}

const REFRESH_MARGIN_MS = 60_000;
const TOKEN_TIMEOUT_MS = 10_000;

export class TokenCache {
  private readonly tokens = new Map<string, Token>();
  private readonly inflight = new Map<string, Promise<Token>>();
  fetches = 0;

  async get(key: string, fetcher: () => Promise<Token>, signal?: AbortSignal): Promise<string> {
    const t = this.tokens.get(key);
    if (t && t.expiresAt - REFRESH_MARGIN_MS > Date.now()) return t.value;
    let p = this.inflight.get(key);
    if (!p) {
      this.fetches++;
      p = fetcher()
        .then((tok) => {
          this.tokens.set(key, tok);
          return tok;
        })
        .finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    // One caller leaving must not cancel the fetch the others share.
    return (await raceAbort(p, signal)).value;
  }

  clear(): void {
    this.tokens.clear();
  }
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

const TokenResponse = z.looseObject({
  access_token: z.string().min(1),
  expires_in: z.union([z.number(), z.string().regex(/^\d+$/)]).optional(),
  token_type: z.string().optional(),
});

/** POSTs a form to a token endpoint; errors name the endpoint's host and its error code, never secrets. */
export async function fetchToken(url: string, form: Record<string, string>): Promise<Token> {
  const host = safeHost(url);
  let res;
  try {
    res = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
      signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS),
    });
  } catch (e) {
    throw new AuthError(502, `token endpoint ${host} unreachable: ${(e as Error).message}`);
  }
  const text = await res.body.text();
  if (res.statusCode >= 400) {
    let detail = '';
    try {
      const j = JSON.parse(text) as { error?: unknown; error_description?: unknown };
      detail = [j.error, j.error_description].filter((x) => typeof x === 'string').join(': ');
    } catch {
      /* not JSON */
    }
    const status = res.statusCode === 400 || res.statusCode === 401 || res.statusCode === 403 ? 401 : 502;
    throw new AuthError(
      status,
      `token endpoint ${host} refused the credentials (HTTP ${res.statusCode})${detail ? `: ${detail.slice(0, 200)}` : ''}`,
    );
  }
  let parsed;
  try {
    parsed = TokenResponse.parse(JSON.parse(text));
  } catch {
    throw new AuthError(502, `token endpoint ${host} returned an unexpected answer`);
  }
  const ttl = parsed.expires_in === undefined ? 3600 : Number(parsed.expires_in);
  return { value: parsed.access_token, expiresAt: Date.now() + ttl * 1000 };
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'token endpoint';
  }
}
