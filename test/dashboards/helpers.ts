// Shared by the dashboard tests: a real embedded store on a temp folder, span seeding in the
// sidecar's shape (test/store/spans.ts), and running a panel or alert query the way Grafana would.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { expandQuery, type ExpandContext } from '../../src/dashboards/macros.js';
import { openStore } from '../../src/store/open.js';
import type { OtelTraceRow, SpanStore } from '../../src/store/types.js';
import { requestSpans, type SeedRequest } from '../store/spans.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export async function tempStore(): Promise<{ store: SpanStore; cleanup: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'sy-dash-'));
  const prev = process.env.CLICKHOUSE_URL;
  process.env.CLICKHOUSE_URL = '';
  const store = await openStore({ dataDir: dir });
  if (prev !== undefined) process.env.CLICKHOUSE_URL = prev;
  return {
    store,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Seed extends SeedRequest {
  /** Routing-config target of each attempt (default: its index). */
  targets?: string[];
}

/** otel_traces rows for one request; attempt targets overridden when given. */
export function spans(seed: Seed): OtelTraceRow[] {
  const rows = requestSpans(seed);
  if (seed.targets) {
    rows
      .filter((r) => r.SpanKind.toLowerCase().includes('client'))
      .forEach((r, i) => {
        r.SpanAttributes['switchyard.target'] = seed.targets![i];
      });
  }
  return rows;
}

export interface Frame {
  columns: { name: string; type: string }[];
  rows: Record<string, unknown>[];
}

/** Runs SQL and keeps ClickHouse's column types (what the plugin turns into Grafana fields). */
export async function frame(store: SpanStore, sql: string): Promise<Frame> {
  const out = JSON.parse(await store.query(sql, 'JSON')) as {
    meta: { name: string; type: string }[];
    data: Record<string, unknown>[];
  };
  return { columns: out.meta, rows: out.data };
}

export const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

// The parts of the committed Grafana files that the tests read. A field that only some panels,
// variables or rule queries have is declared present: the tests read it where it exists.

/** A panel of a dashboard JSON file. */
export interface PanelJson {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource: unknown;
  targets: { rawSql: string; datasource: unknown; format: number; [k: string]: unknown }[];
  fieldConfig: {
    defaults: Record<string, unknown>;
    overrides: { matcher: { id: string; options: unknown }; properties: { id: string; value: unknown }[] }[];
  };
  [k: string]: unknown;
}

/** A template variable of a dashboard JSON file. */
export interface VariableJson {
  name: string;
  type: string;
  query: { rawSql: string; [k: string]: unknown };
  datasource: unknown;
  [k: string]: unknown;
}

/** A dashboard JSON file (dashboards/*.json). */
export interface DashboardJson {
  uid: string;
  schemaVersion: number;
  panels: PanelJson[];
  templating: { list: VariableJson[] };
  [k: string]: unknown;
}

/** One query (A: ClickHouse SQL, B: reduce, C: threshold) of an alert rule. */
export interface AlertQueryJson {
  refId: string;
  datasourceUid: string;
  relativeTimeRange: { from: number; to: number };
  model: {
    rawSql: string;
    intervalMs: number;
    conditions: { evaluator: { type: string; params: number[] } }[];
    [k: string]: unknown;
  };
}

/** An alert rule of deploy/grafana/provisioning/alerting/rules.yaml. */
export interface AlertRuleJson {
  uid: string;
  title: string;
  condition: string;
  for: string;
  noDataState: string;
  data: AlertQueryJson[];
  labels: Record<string, string>;
  annotations: { summary: string; description: string; runbook_url: string; [k: string]: string };
  [k: string]: unknown;
}

/** deploy/grafana/provisioning/alerting/rules.yaml. */
export interface AlertRulesFile {
  apiVersion: number;
  groups: { orgId: number; name: string; folder: string; interval: string; rules: AlertRuleJson[] }[];
}

export function readJson<T = DashboardJson>(path: string): T {
  return JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as T;
}

export function readYaml<T>(path: string): T {
  return parse(readFileSync(join(ROOT, path), 'utf8')) as T;
}

/** The first query of the dashboard panel with this title. */
export function panelSql(dashboard: DashboardJson, title: string): string {
  const panel = dashboard.panels.find((p) => p.title === title);
  if (!panel) throw new Error(`no panel titled ${title}`);
  return panel.targets[0].rawSql;
}

export async function runPanel(
  store: SpanStore,
  dashboard: DashboardJson,
  title: string,
  ctx: ExpandContext,
): Promise<Frame> {
  return frame(store, expandQuery(panelSql(dashboard, title), ctx));
}
