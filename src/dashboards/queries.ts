// Loads the dashboards' and alerts' SQL (dashboards/queries/**.sql at the package root). The same
// files feed the Grafana JSON (dashboards/generate.ts), the alert rules and `switchyard report`.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALL, expandQuery, type ExpandContext, type VariableState } from './macros.js';

let cached: string | undefined;

/** dashboards/queries, two levels above this module in src/dashboards and in dist/dashboards. */
export function queriesDir(): string {
  if (cached) return cached;
  const dir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dashboards', 'queries');
  if (!existsSync(dir)) throw new Error(`switchyard: dashboard queries not found in ${dir}`);
  cached = dir;
  return dir;
}

/** A query by name, e.g. 'overview/latency_by_model' (no extension). */
export function loadQuery(name: string): string {
  if (!/^[a-z0-9_]+(\/[a-z0-9_]+)*$/.test(name)) throw new Error(`invalid query name: ${name}`);
  const file = join(queriesDir(), `${name}.sql`);
  if (!existsSync(file)) throw new Error(`unknown dashboard query: ${name}`);
  return readFileSync(file, 'utf8').trim();
}

/** Every query name under a folder ('overview', 'explorer', 'alerts', 'variables'). */
export function listQueries(folder: string): string[] {
  return readdirSync(join(queriesDir(), folder))
    .filter((f) => f.endsWith('.sql'))
    .map((f) => `${folder}/${f.slice(0, -4)}`)
    .sort();
}

/** The dashboards' filter variables, all set to All: what a user without Grafana sees. */
export function allSelected(
  names = ['service', 'provider', 'model', 'user', 'feature', 'status', 'trace_id'],
): Record<string, VariableState> {
  return Object.fromEntries(names.map((n) => [n, n === 'trace_id' ? { current: '' } : { current: ALL }]));
}

/**
 * A panel query ready for ClickHouse over [from, to], every filter at All unless given.
 * `switchyard report` uses this to print the overview's key panels from the same SQL.
 */
export function renderPanelQuery(
  name: string,
  opts: { from: Date; to: Date; intervalMs?: number; variables?: Record<string, VariableState> },
): string {
  const ctx: ExpandContext = {
    from: opts.from,
    to: opts.to,
    intervalMs: opts.intervalMs ?? 60_000,
    variables: { ...allSelected(), ...opts.variables },
  };
  return expandQuery(loadQuery(name), ctx);
}
