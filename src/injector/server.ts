// HTTPS server of the webhook: POST /mutate (pods opting in by annotation), POST /mutate/namespace
// (pods of namespaces labelled switchyard.dev/inject=enabled), GET /healthz, GET /metrics.
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Registry } from 'prom-client';
import { applyServerLimits } from '../http-limits.js';
import { logger } from '../logger.js';
import type { InjectScope } from './decide.js';
import type { InjectorOptions } from './options.js';
import { handleReview } from './review.js';

// The API server caps a request at 3 MiB; a little headroom for the review envelope.
const MAX_BODY_BYTES = 4 * 1024 * 1024;

// The API server calls with a 10 s webhook timeout (timeoutSeconds) and small headers: anything
// slower or bigger is not the API server. It retries on a fresh connection when an idle one closes.
const LIMITS = {
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxHeaderBytes: 16 * 1024,
};
// A TLS handshake is bounded too (Node's default is 120 s): the slowloris of HTTPS listeners.
const HANDSHAKE_TIMEOUT_MS = 10_000;

const ROUTES: Record<string, InjectScope> = { '/mutate': 'annotation', '/mutate/namespace': 'namespace' };

export interface InjectorServerOptions {
  host: string;
  port: number;
  cert: string | Buffer;
  key: string | Buffer;
  options: InjectorOptions;
}

export interface InjectorServer {
  port: number;
  server: https.Server;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, err: HttpError): void {
  const type = err.status >= 500 ? 'server_error' : 'invalid_request_error';
  sendJson(res, err.status, { error: { message: err.message, type, code: err.code, status: err.status } });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'];
  if (type && !/^application\/json\b/i.test(type)) {
    throw new HttpError(415, 'unsupported_media_type', `content-type must be application/json, got ${type}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES;
  // An oversized body is drained, not cut off: the client then reads the 413 instead of a reset.
  // requestTimeout bounds how long a drain can last.
  for await (const chunk of req) {
    if (tooLarge) continue;
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      tooLarge = true;
      chunks.length = 0;
    } else chunks.push(chunk as Buffer);
  }
  if (tooLarge) throw new HttpError(413, 'body_too_large', `body exceeds ${MAX_BODY_BYTES} bytes`);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'invalid_json', 'body is not valid JSON');
  }
}

export async function startInjectorServer(opts: InjectorServerOptions): Promise<InjectorServer> {
  const registry = new Registry();
  const admissions = new Counter({
    name: 'switchyard_injector_admissions_total',
    help: 'Admission reviews answered, by webhook scope and result (injected, updated, skipped, error, invalid).',
    labelNames: ['scope', 'result'],
    registers: [registry],
  });

  async function mutate(req: IncomingMessage, res: ServerResponse, scope: InjectScope): Promise<void> {
    const body = await readJson(req);
    const outcome = handleReview(body, scope, opts.options);
    if (!outcome.ok) {
      admissions.inc({ scope, result: 'invalid' });
      throw new HttpError(outcome.status, 'invalid_admission_review', outcome.message);
    }
    const { review, plan } = outcome;
    const result = plan?.result ?? (review.response.warnings ? 'error' : 'skipped');
    admissions.inc({ scope, result });
    const meta = (body as { request?: { namespace?: string; object?: { metadata?: Record<string, unknown> } } })
      .request;
    logger.info('admission', {
      scope,
      uid: review.response.uid,
      namespace: meta?.namespace,
      pod: meta?.object?.metadata?.name ?? meta?.object?.metadata?.generateName,
      result,
      reason: plan?.reason,
      warnings: review.response.warnings,
    });
    sendJson(res, 200, review);
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // The API server appends ?timeout=…; only the path selects the route.
    const path = new URL(req.url ?? '/', 'https://injector').pathname;
    const scope = ROUTES[path];
    if (scope) {
      if (req.method !== 'POST') throw new HttpError(405, 'method_not_allowed', `${path} accepts POST only`);
      return mutate(req, res, scope);
    }
    if (path === '/healthz' && req.method === 'GET') return sendJson(res, 200, { status: 'ok' });
    if (path === '/metrics' && req.method === 'GET') {
      const text = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(text);
      return;
    }
    throw new HttpError(404, 'not_found', `no route for ${req.method} ${path}`);
  }

  const server = https.createServer(
    { cert: opts.cert, key: opts.key, minVersion: 'TLSv1.2', handshakeTimeout: HANDSHAKE_TIMEOUT_MS },
    (req, res) => {
      route(req, res).catch((err: unknown) => {
        const httpErr =
          err instanceof HttpError
            ? err
            : new HttpError(500, 'internal_error', err instanceof Error ? err.message : String(err));
        if (httpErr.status >= 500) logger.error('injector request failed', { error: httpErr.message });
        if (!res.headersSent) sendError(res, httpErr);
        else res.destroy();
      });
    },
  );
  applyServerLimits(server, LIMITS, (status, code, message) => ({
    error: { message, type: 'invalid_request_error', code, status },
  }));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  logger.info('injector listening', { host: opts.host, port });

  return {
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
