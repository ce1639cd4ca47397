// Sidecar + collector + embedded ClickHouse in one process: `switchyard dev` and the demo.
import path from 'node:path';
import { flagString } from '../args.js';
import { COMMANDS } from './definitions.js';
import { parseArgs } from './options.js';
import { startCollector, type RunningCollector } from '../collector/index.js';
import { resolveCollectorOptions } from '../collector/options.js';
import type { LoadedConfig } from '../config/load.js';
import { Sidecar } from '../gateway/sidecar.js';
import { logger } from '../logger.js';
import { EmbeddedStore } from '../store/embedded.js';
import { startClickHouseHttp } from '../store/http-interface.js';
import { openStore } from '../store/open.js';
import type { SpanStore } from '../store/types.js';
import { createTelemetry } from '../telemetry/setup.js';
import { isLoopback, portFrom } from './common.js';

export interface DevStack {
  sidecar: Sidecar;
  sidecarPort: number;
  collector: RunningCollector;
  store: SpanStore;
  clickhousePort?: number;
  close(): Promise<void>;
}

export interface DevStackOptions {
  argv: string[];
  config: LoadedConfig;
  configPath?: string;
  /** Overrides for the demo (ephemeral ports, a fresh data folder). */
  sidecarPort?: number;
  otlpPort?: number;
  clickhouseHttpPort?: number;
  dataDir?: string;
}

export async function startDevStack(o: DevStackOptions): Promise<DevStack> {
  const { flags } = parseArgs(COMMANDS.dev, o.argv);
  const dataDir = o.dataDir ?? flagString(flags, 'data-dir') ?? process.env.SWITCHYARD_DATA_DIR ?? './.switchyard';
  const colFlags: Record<string, string | true> = { 'data-dir': dataDir, host: '127.0.0.1' };
  const otlpPort = o.otlpPort ?? flagString(flags, 'otlp-port');
  if (otlpPort !== undefined) colFlags.port = String(otlpPort);
  const chPort = o.clickhouseHttpPort ?? flagString(flags, 'clickhouse-http-port');
  if (chPort !== undefined) colFlags['clickhouse-http-port'] = String(chPort);
  // Spans in dev come from this process's own sidecar: the request thread decodes them. Each
  // decode worker is a V8 isolate of its own (~22 MB resident idle, more under load).
  if (!process.env.SWITCHYARD_COLLECTOR_DECODE_THREADS) colFlags['decode-threads'] = '0';
  const co = resolveCollectorOptions(colFlags, process.env);

  // The engine shares this process with the sidecar: small caches and pools (engine-config.ts).
  const store = await openStore({ dataDir: path.resolve(co.dataDir), engineProfile: 'small' });
  const collector = await startCollector({ ...co, store });
  const ch =
    store instanceof EmbeddedStore
      ? await startClickHouseHttp({ store, host: co.clickhouseHttpHost, port: co.clickhouseHttpPort })
      : undefined;

  // The sidecar's spans and feedback go to the collector in this same process.
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT ??= `http://127.0.0.1:${collector.port}`;
  const telemetry = o.config.file.telemetry.enabled
    ? // Our collector takes traces and feedback, not metrics: /metrics serves them in dev.
      await createTelemetry({
        otlpMetrics: false,
        captureContent: o.config.file.telemetry.capture_content,
        redactPatterns: o.config.file.telemetry.redact_patterns,
        pricing: o.config.file.pricing,
        serviceName: process.env.OTEL_SERVICE_NAME ?? 'switchyard-dev',
        // Spans the collector cannot take yet wait here (replayed by the next start).
        spool: { dir: process.env.SWITCHYARD_TELEMETRY_SPOOL_DIR ?? path.resolve(co.dataDir, 'telemetry-spool') },
      })
    : undefined;
  // Everything else in dev binds 127.0.0.1 (collector, ClickHouse interface); --host moves the sidecar only.
  const host = flagString(flags, 'host') ?? '127.0.0.1';
  if (!isLoopback(host))
    logger.warn(
      'sidecar listens beyond this machine: anyone who can reach it calls providers with the configured keys',
      { host },
    );
  const sidecar = new Sidecar({
    config: o.config,
    configPath: o.configPath,
    telemetry,
    host,
    port: o.sidecarPort ?? portFrom(flags, 'SWITCHYARD_PORT', 8790),
    watchConfig: o.configPath !== undefined,
  });
  const sidecarPort = await sidecar.listen();
  logger.info('switchyard dev ready', {
    openai_base_url: `http://127.0.0.1:${sidecarPort}/v1`,
    otlp: `http://127.0.0.1:${collector.port}`,
    clickhouse_http: ch ? `http://127.0.0.1:${ch.port}` : 'remote (CLICKHOUSE_URL)',
    data_dir: co.dataDir,
    config: o.config.source,
  });
  return {
    sidecar,
    sidecarPort,
    collector,
    store,
    clickhousePort: ch?.port,
    async close() {
      await sidecar.close();
      await sidecar.telemetry.shutdown();
      await collector.close();
      await ch?.close();
      await store.close();
    },
  };
}
