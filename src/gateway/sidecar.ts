// The sidecar: config, health, simulators and telemetry behind a thin express app.
import express, { type NextFunction, type Request, type Response } from 'express';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LoadedConfig } from '../config/load.js';
import type { FileConfig } from '../config/schema.js';
import { applyServerLimits, type ServerLimits } from '../http-limits.js';
import { ConfigHolder } from '../config/store.js';
import { SimulatorPool } from '../providers/simulated/pool.js';
import { checkProviders } from '../providers/registry.js';
import { HealthRegistry } from '../routing/health.js';
import { buildPolicy } from '../policy/build.js';
import { PolicyRuntime } from '../policy/runtime.js';
import { MemoryStateStore } from '../policy/state/memory.js';
import type { Telemetry } from '../telemetry/types.js';
import { noopTelemetry } from '../telemetry/noop.js';
import { errorJson } from './errors.js';
import { collectorFeedbackUrl, feedbackHandler } from './feedback.js';
import { keysSelfHandler, modelsHandler, notFound } from './handlers.js';
import { routeRequests } from './server.js';
import { logger } from '../logger.js';

// Feedback bodies are a trace id, a score and a little metadata: no reason to take megabytes.
const FEEDBACK_MAX_BODY_BYTES = 64 * 1024;

// Known paths and their methods: the wrong method is a 405 naming these, not a 404.
const ROUTE_METHODS: Record<string, string> = {
  '/healthz': 'GET, HEAD',
  '/readyz': 'GET, HEAD',
  '/metrics': 'GET, HEAD',
  '/v1/models': 'GET, HEAD',
  '/v1/keys/self': 'GET, HEAD',
  '/v1/feedback': 'POST',
  '/v1/chat/completions': 'POST',
  '/v1/completions': 'POST',
  '/v1/embeddings': 'POST',
  '/v1/messages': 'POST',
  '/v1/messages/count_tokens': 'POST',
};

/** The config's `server:` listener settings as http-limits wants them. */
export function sidecarLimits(s: FileConfig['server']): ServerLimits {
  return {
    headersTimeoutMs: s.headers_timeout_ms,
    requestTimeoutMs: s.request_timeout_ms,
    keepAliveTimeoutMs: s.keep_alive_timeout_ms,
    maxHeaderBytes: s.max_header_bytes,
  };
}

export interface SidecarOptions {
  config: LoadedConfig;
  configPath?: string;
  telemetry?: Telemetry;
  host?: string;
  port?: number;
  watchConfig?: boolean;
}

export class Sidecar {
  readonly config: ConfigHolder;
  readonly health: HealthRegistry;
  readonly simulators = new SimulatorPool();
  readonly telemetry: Telemetry;
  /** Virtual keys, rate limits and budgets: the request pipeline's stages and their state store. */
  readonly policy: PolicyRuntime;
  readonly app: express.Express;
  private server?: Server;

  constructor(private readonly opts: SidecarOptions) {
    checkProviders(opts.config.file);
    // A reload whose providers or policy do not build is refused; the last good config keeps serving.
    this.config = new ConfigHolder(opts.config, opts.configPath, (c) => {
      checkProviders(c.file);
      // Built against a throwaway store only to validate; closed so its sweep timer goes too.
      const probe = new MemoryStateStore();
      try {
        buildPolicy(c.file, probe);
      } finally {
        void probe.close();
      }
    });
    this.policy = new PolicyRuntime(opts.config.file);
    const b = opts.config.file.breaker;
    const f = opts.config.file;
    this.health = new HealthRegistry(b.failure_threshold, b.cooldown_ms, Date.now, f.ejection, f.latency.decay_ms);
    this.telemetry = opts.telemetry ?? noopTelemetry;
    this.config.onChange((c) => {
      const br = c.file.breaker;
      this.health.configure(br.failure_threshold, br.cooldown_ms, c.file.ejection, c.file.latency.decay_ms);
      this.telemetry.setPricing?.(c.file.pricing);
      void this.policy
        .update(c.file)
        .catch((e) =>
          logger.error('policy state store failed to open; keeping the last one', { error: (e as Error).message }),
        );
      void this.simulators
        .sync(c.file)
        .catch((e) => logger.error('simulated providers failed to start', { error: (e as Error).message }));
    });
    this.app = this.buildApp();
  }

  private buildApp(): express.Express {
    const app = express();
    app.disable('x-powered-by');
    app.set('etag', false);
    const limit = Math.min(this.opts.config.file.server.max_body_bytes, FEEDBACK_MAX_BODY_BYTES);
    // Only feedback has a body here (the completion routes read theirs in server.ts), so only it
    // parses one: an unknown path is a 404 whatever its body. Any content-type: SDKs and curl differ.
    const json = express.json({ limit, type: () => true, strict: false });
    app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
    app.get(
      '/readyz',
      (_req, res) =>
        void res.json({
          status: 'ready',
          config: this.config.current.source,
          loaded_at: new Date(this.config.current.loadedAt).toISOString(),
        }),
    );
    app.get('/metrics', async (_req, res) => {
      const m = await this.telemetry.metricsText();
      res.type(m.contentType).send(m.body);
    });
    app.get('/v1/models', modelsHandler(this));
    app.get('/v1/keys/self', keysSelfHandler(this));
    app.post(
      '/v1/feedback',
      json,
      feedbackHandler(() => collectorFeedbackUrl(this.config.current.file.collector_url)),
    );
    for (const [path, allow] of Object.entries(ROUTE_METHODS)) {
      app.all(
        path,
        (req, res) =>
          void res
            .status(405)
            .set('allow', allow)
            .json(errorJson(405, `${req.method} is not allowed on ${path}; use ${allow}`, 'method_not_allowed')),
      );
    }
    app.use(notFound);
    app.use((err: Error & { type?: string; status?: number }, _req: Request, res: Response, _next: NextFunction) => {
      if (res.headersSent) return void res.end();
      // Stop reading an oversized body: the connection closes after the answer.
      if (err.type === 'entity.too.large')
        return void res
          .status(413)
          .set('connection', 'close')
          .json(errorJson(413, `request body is larger than the limit of ${limit} bytes`, 'body_too_large'));
      if (err.type === 'entity.parse.failed')
        return void res
          .status(400)
          .json(errorJson(400, `request body is not valid JSON: ${err.message}`, 'invalid_json'));
      if (err.type === 'encoding.unsupported' || err.type === 'charset.unsupported')
        return void res.status(415).json(errorJson(415, err.message, 'unsupported_encoding'));
      const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 500;
      if (status === 500) logger.error('unhandled error', { error: err.message });
      // 4xx from the body reader (a body that does not decompress, a wrong length): the client's fault.
      res
        .status(status)
        .json(
          errorJson(
            status,
            status === 500 ? 'internal error' : err.message,
            status === 500 ? 'internal_error' : 'invalid_body',
          ),
        );
    });
    return app;
  }

  async listen(): Promise<number> {
    await this.simulators.sync(this.config.current.file);
    await this.policy.start(this.config.current.file);
    if (this.opts.watchConfig) this.config.watch();
    this.server = createServer(routeRequests(this, this.app));
    // Slow or malformed clients: bounded, and answered in the one error shape (http-limits.ts).
    applyServerLimits(this.server, sidecarLimits(this.config.current.file.server), (status, code, message) =>
      errorJson(status, message, code),
    );
    this.server.listen(this.opts.port ?? 8790, this.opts.host ?? '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      this.server!.once('listening', resolve);
      this.server!.once('error', reject);
    });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.config.close();
    if (this.server) {
      this.server.closeAllConnections();
      await new Promise<void>((r) => this.server!.close(() => r()));
    }
    await this.simulators.close();
    await this.policy.close();
  }
}
