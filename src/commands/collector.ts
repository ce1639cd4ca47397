// `switchyard collector`: OTLP/HTTP receiver + feedback intake + ClickHouse writer. With no
// CLICKHOUSE_URL it writes to the embedded store and serves it on the ClickHouse HTTP
// interface (127.0.0.1:8123) for Grafana and the CLI.
import { COMMANDS } from './definitions.js';
import { parseArgs } from './options.js';
import { startCollector } from '../collector/index.js';
import { collectorUsage, resolveCollectorOptions, type CollectorCliOptions } from '../collector/options.js';
import { logger } from '../logger.js';
import { EmbeddedStore } from '../store/embedded.js';
import { startClickHouseHttp } from '../store/http-interface.js';
import { openStore } from '../store/open.js';
import { isLoopback } from './common.js';

export async function run(argv: string[]): Promise<void> {
  const { flags } = parseArgs(COMMANDS.collector, argv);
  if (flags.help || flags.h) {
    console.log(collectorUsage);
    return;
  }
  let o: CollectorCliOptions;
  try {
    o = resolveCollectorOptions(flags, process.env);
  } catch (err) {
    console.error(`switchyard collector: ${(err as Error).message}\n\n${collectorUsage}`);
    process.exit(2);
  }

  if (!o.ingestToken && !isLoopback(o.host)) {
    logger.warn(
      'collector accepts spans from anyone who can reach it: set SWITCHYARD_COLLECTOR_TOKEN (and the same on the sidecars) or restrict the network',
      { host: o.host },
    );
  }
  const store = await openStore({ dataDir: o.dataDir });
  const collector = await startCollector({ ...o, store });
  let chHttp: { port: number; close(): Promise<void> } | undefined;
  if (store instanceof EmbeddedStore) {
    chHttp = await startClickHouseHttp({ store, host: o.clickhouseHttpHost, port: o.clickhouseHttpPort });
  }
  logger.info('collector ready', {
    otlp: `${o.host}:${collector.port}`,
    store: store instanceof EmbeddedStore ? `embedded (${o.dataDir})` : 'clickhouse server',
    clickhouseHttp: chHttp ? `${o.clickhouseHttpHost}:${chHttp.port}` : undefined,
    spool: o.spoolDir,
  });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('collector stopping: flushing buffered rows', { signal });
    // close() is itself bounded by closeTimeoutMs (then it spools); this is the last resort.
    const hardStop = setTimeout(() => {
      logger.error('collector shutdown overran its bound, exiting');
      process.exit(1);
    }, o.closeTimeoutMs + 5_000);
    hardStop.unref();
    void (async () => {
      try {
        await collector.close();
        await chHttp?.close();
        await store.close();
        logger.info('collector stopped');
        process.exit(0);
      } catch (err) {
        logger.error('collector shutdown failed', { error: (err as Error).message });
        process.exit(1);
      }
    })();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}
