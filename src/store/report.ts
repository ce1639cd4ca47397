// The `switchyard report` summary: the overview dashboard's key panels (summary, P95 latency and
// TTFT per provider/model, top failing targets, cost per model, spend per virtual key, guardrails, cache, feedback)
// over a window. It takes a query function so the CLI (HTTP to a server or to the embedded
// interface) and `switchyard demo` (in-process) print the same thing.
import { renderPanelQuery } from '../dashboards/queries.js';
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

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const fixed = (v: unknown, digits: number): Cell => {
  const n = num(v);
  return n === null || Number.isNaN(n) ? null : Number(n.toFixed(digits));
};

export interface ReportOptions {
  since?: string;
}

// The overview dashboard's key panels, from the very same SQL files (dashboards/queries), with
// every filter at All and one time bucket spanning the window.
const WHOLE_WINDOW_MS = 100 * 365 * 86_400_000;

export async function renderReport(query: QueryRows, opts: ReportOptions = {}): Promise<string> {
  const since = opts.since ?? '1h';
  // $__timeFilter compares at whole seconds: round up so rows from this very second count.
  const to = new Date(Math.ceil(Date.now() / 1000) * 1000);
  const from = new Date(to.getTime() - parseSince(since) * 1000);
  const panel = (name: string) =>
    query(renderPanelQuery(`overview/${name}`, { from, to, intervalMs: WHOLE_WINDOW_MS }));
  const [summary, latency, ttft, failing, cost, spend, guardrails, feedback, cache] = await Promise.all([
    panel('summary'),
    panel('latency_by_model'),
    panel('ttft_by_model'),
    panel('top_failing_targets'),
    panel('cost_by_model'),
    panel('spend_by_virtual_key'),
    panel('guardrails_by_check'),
    panel('feedback_by_model'),
    panel('cache_by_config'),
  ]);
  const pct = (v: unknown) =>
    v === null || v === undefined || Number.isNaN(Number(v)) ? null : `${(Number(v) * 100).toFixed(1)}%`;
  const ttftBy = new Map(ttft.map((r) => [String(r.target), r]));
  const s = summary[0] ?? {};
  const out: string[] = [`Switchyard report — last ${since}`, ''];
  out.push('Summary');
  out.push(
    textTable(
      ['requests', 'error rate', 'rescued', 'rescue rate', 'attempts/request', 'cost usd'],
      [
        [
          num(s.requests) ?? 0,
          pct(s.error_rate),
          num(s.rescued) ?? 0,
          pct(s.rescue_rate),
          fixed(s.attempts_per_request, 2),
          fixed(s.cost_usd, 6),
        ],
      ],
    ),
  );
  out.push('', 'Latency per provider/model (ms)');
  out.push(
    latency.length === 0
      ? '  (no attempts)'
      : textTable(
          ['provider/model', 'p50', 'p95', 'p99', 'ttft p50', 'ttft p95'],
          latency.map((r) => {
            const t = ttftBy.get(String(r.target));
            return [
              String(r.target),
              fixed(r.p50_ms, 1),
              fixed(r.p95_ms, 1),
              fixed(r.p99_ms, 1),
              fixed(t?.ttft_p50_ms, 1),
              fixed(t?.ttft_p95_ms, 1),
            ];
          }),
        ),
  );
  out.push('', 'Top failing targets');
  out.push(
    failing.length === 0
      ? '  (no failed attempts)'
      : textTable(
          ['provider', 'model', 'target', 'failures', 'attempts', 'failure rate', 'top errors'],
          failing.map((r) => [
            String(r.provider),
            String(r.model),
            String(r.target),
            num(r.failures),
            num(r.attempts),
            pct(r.failure_rate),
            String(r.top_errors),
          ]),
        ),
  );
  out.push('', 'Cost per model (USD)');
  out.push(
    cost.length === 0
      ? '  (no requests)'
      : textTable(
          ['model', 'cost usd'],
          cost.map((r) => [String(r.model), fixed(r.cost_usd, 6)]),
        ),
  );
  // Only where virtual keys are in use: without any, the one row would be every request under ''.
  if (spend.some((r) => String(r.virtual_key ?? '') !== '')) {
    out.push('', 'Spend per virtual key');
    out.push(
      textTable(
        ['virtual key', 'requests', 'refused', 'cost usd', 'input tokens', 'output tokens', 'peak budget'],
        spend.map((r) => [
          String(r.virtual_key ?? '') || '(no key)',
          num(r.requests),
          num(r.refused),
          fixed(r.cost_usd, 6),
          num(r.input_tokens),
          num(r.output_tokens),
          pct(r.peak_budget_usage),
        ]),
      ),
    );
  }
  // Only where guardrails ran (by the hour: the hour the window starts in counts whole).
  if (guardrails.length > 0) {
    out.push('', 'Guardrails by check');
    out.push(
      textTable(
        [
          'guardrail',
          'check',
          'phase',
          'action',
          'checks',
          'failures',
          'denials',
          'retries',
          'failure share',
          'avg ms',
        ],
        guardrails.map((r) => [
          String(r.guardrail),
          String(r.check_id),
          String(r.phase),
          String(r.action),
          num(r.checks),
          num(r.failures),
          num(r.denials),
          num(r.retries),
          pct(r.failure_share),
          fixed(r.avg_ms, 3),
        ]),
      ),
    );
  }
  // Only where a routing config caches (by the hour, as guardrails).
  if (cache.length > 0) {
    out.push('', 'Response cache per config');
    out.push(
      textTable(
        ['config', 'cacheable', 'hits', 'semantic', 'misses', 'refreshes', 'hit rate', 'saved usd', 'saved s'],
        cache.map((r) => [
          String(r.config),
          num(r.cacheable),
          num(r.hits),
          num(r.semantic_hits),
          num(r.misses),
          num(r.refreshes),
          pct(r.hit_rate),
          fixed(r.saved_cost_usd, 6),
          fixed(r.saved_seconds, 1),
        ]),
      ),
    );
  }
  out.push('', 'Feedback per model');
  out.push(
    feedback.length === 0
      ? '  (no feedback)'
      : textTable(
          ['provider', 'model', 'count', 'mean', 'weighted', 'negative'],
          feedback.map((r) => [
            String(r.provider),
            String(r.model),
            num(r.feedback),
            fixed(r.mean_score, 2),
            fixed(r.weighted_score, 2),
            pct(r.negative_share),
          ]),
        ),
  );
  return `${out.join('\n')}\n`;
}
