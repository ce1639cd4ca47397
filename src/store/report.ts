// The `switchyard report` summary: P95 latency per provider/model, rescued requests, cost per
// model and feedback scores over a window. It takes a query function so the CLI (HTTP to a
// server or to the embedded interface) and `switchyard demo` (in-process) print the same thing.
import { readSql } from './sql-files.js';
import { textTable, type Cell } from './text-table.js';

export type Rows = Record<string, unknown>[];
export type QueryRows = (sql: string) => Promise<Rows>;

/** '1h', '30m', '2d', '90s' -> seconds. */
export function parseSince(text: string): number {
  const m = /^(\d+)\s*(s|m|h|d)$/.exec(text.trim());
  if (!m) throw new Error(`--since must look like 90s, 30m, 1h or 7d (got "${text}")`);
  const n = Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'];
  if (n <= 0 || n > 400 * 86400) throw new Error('--since must be between 1s and 400d');
  return n;
}

export function reportSql(name: 'latency' | 'rescued' | 'cost' | 'feedback', sinceSeconds: number): string {
  if (!Number.isInteger(sinceSeconds) || sinceSeconds <= 0) throw new Error('sinceSeconds must be a positive integer');
  return readSql(`report/${name}.sql`).replaceAll('{{since_seconds}}', String(sinceSeconds));
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const fixed = (v: unknown, digits: number): Cell => {
  const n = num(v);
  return n === null || Number.isNaN(n) ? null : Number(n.toFixed(digits));
};

export interface ReportOptions {
  since?: string;
}

export async function renderReport(query: QueryRows, opts: ReportOptions = {}): Promise<string> {
  const since = opts.since ?? '1h';
  const secs = parseSince(since);
  const [latency, rescued, cost, feedback] = await Promise.all([
    query(reportSql('latency', secs)),
    query(reportSql('rescued', secs)),
    query(reportSql('cost', secs)),
    query(reportSql('feedback', secs)),
  ]);
  const out: string[] = [];
  out.push(`Switchyard report — last ${since}`, '');
  out.push('Latency per provider/model (ms)');
  out.push(
    latency.length === 0
      ? '  (no attempts)'
      : textTable(
          ['provider', 'model', 'attempts', 'errors', 'p50', 'p95', 'p99', 'ttft p95'],
          latency.map((r) => [String(r.Provider), String(r.Model), num(r.Attempts), num(r.Errors), fixed(r.P50Ms, 1), fixed(r.P95Ms, 1), fixed(r.P99Ms, 1), fixed(r.TtftP95Ms, 1)]),
        ),
  );
  const res = rescued[0] ?? {};
  out.push('', 'Rescued requests');
  out.push(
    textTable(
      ['requests', 'failed', 'failed first attempts', 'rescued', 'rescue rate'],
      [[num(res.Requests) ?? 0, num(res.Failed) ?? 0, num(res.FailedFirstAttempts) ?? 0, num(res.Rescued) ?? 0, res.RescueRate === null || res.RescueRate === undefined ? null : `${(Number(res.RescueRate) * 100).toFixed(1)}%`]],
    ),
  );
  out.push('', 'Cost per model (USD)');
  out.push(
    cost.length === 0
      ? '  (no requests)'
      : textTable(
          ['provider', 'model', 'requests', 'cost usd', 'unpriced', 'input tok', 'output tok'],
          cost.map((r) => [String(r.Provider), String(r.Model), num(r.Requests), fixed(r.CostUSD, 6), num(r.UnpricedRequests), num(r.InputTokens), num(r.OutputTokens)]),
        ),
  );
  out.push('', 'Feedback scores');
  out.push(
    feedback.length === 0
      ? '  (no feedback)'
      : textTable(
          ['provider', 'model', 'count', 'mean', 'weighted'],
          feedback.map((r) => [String(r.Provider), String(r.Model), num(r.Count), fixed(r.MeanScore, 2), fixed(r.WeightedScore, 2)]),
        ),
  );
  return out.join('\n') + '\n';
}
