#!/usr/bin/env node
// Entry point: `switchyard <command> [flags]`. Each command lives in src/commands/<name>.ts
// and exports `run(argv)`; they are imported lazily so `sidecar` never loads chdb.
import { logger } from './logger.js';

const commands: Record<string, () => Promise<{ run(argv: string[]): Promise<void> }>> = {
  dev: () => import('./commands/dev.js'),
  sidecar: () => import('./commands/sidecar.js'),
  collector: () => import('./commands/collector.js'),
  demo: () => import('./commands/demo.js'),
  report: () => import('./commands/report.js'),
  migrate: () => import('./commands/migrate.js'),
  injector: () => import('./commands/injector.js'),
  keys: () => import('./commands/keys.js'),
};

const usage = `usage: switchyard <command> [flags]

commands:
  dev         sidecar + collector + embedded ClickHouse in one process (npm start)
  sidecar     routing sidecar only (127.0.0.1:8790)
  collector   OTLP/HTTP receiver + feedback + ClickHouse writer (0.0.0.0:4318)
  demo        simulated providers with injected faults, traffic, then report
  report      terminal summary from the ClickHouse views
  migrate     apply the ClickHouse schema to CLICKHOUSE_URL
  injector    Kubernetes mutating admission webhook
  keys        keys create NAME: mint a virtual key and its config entry

common flags: --config FILE (or SWITCHYARD_CONFIG), --port N (or SWITCHYARD_PORT)`;

async function main(): Promise<void> {
  const [name, ...argv] = process.argv.slice(2);
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage);
    return;
  }
  const load = commands[name];
  if (!load) {
    console.error(`switchyard: unknown command "${name}"\n\n${usage}`);
    process.exit(2);
  }
  const mod = await load();
  await mod.run(argv);
}

main().catch((err: unknown) => {
  logger.error('fatal', { error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
