// Dashboard query latency on the derived views vs the raw otel_traces table.
//   node --import tsx bench/views.ts            (10M attempts; BENCH_ATTEMPTS=1000000 for a quick run)
// Attempts and their requests are generated inside the engine (INSERT ... SELECT FROM numbers()),
// in chunks, through the same materialized views the collector's inserts go through. Each query
// runs several times; the median is printed beside the same question asked of otel_traces.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedStore, parseJsonEachRow } from '../src/store/embedded.js';

const ATTEMPTS = Number(process.env.BENCH_ATTEMPTS ?? 10_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const CHUNK_REQUESTS = 1_000_000;
const DAYS = 30;
// One request in five fails its first attempt and retries: 1.2 attempts per request.
const REQUESTS = Math.ceil(ATTEMPTS / 1.2);

const dataDir = process.env.BENCH_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'switchyard-bench-'));
const keep = Boolean(process.env.BENCH_DATA_DIR);

// Request r (0-based) gets span j=0 (SERVER) and attempts j=1..k, k = 2 when r % 5 = 0.
const generate = (from: number, count: number, startSec: number, stepNs: number) => `
INSERT INTO otel_traces (Timestamp, TraceId, SpanId, ParentSpanId, SpanName, SpanKind, ServiceName, SpanAttributes, Duration, StatusCode)
SELECT
    fromUnixTimestamp64Nano(toInt64(${startSec}) * 1000000000 + toInt64(r * ${stepNs}) + j * 1000000) AS Timestamp,
    lower(hex(cityHash64(r))) || lower(hex(cityHash64(r, 1))) AS TraceId,
    lower(hex(cityHash64(r, j, 2))) AS SpanId,
    if(j = 0, '', lower(hex(cityHash64(r, 0, 2)))) AS ParentSpanId,
    if(j = 0, 'POST /v1/chat/completions', concat('chat ', model)) AS SpanName,
    if(j = 0, 'Server', 'Client') AS SpanKind,
    'bench' AS ServiceName,
    if(j = 0,
       map('switchyard.trace_id', TraceId, 'switchyard.config_id', 'default', 'switchyard.attempts', toString(k),
           'switchyard.rescued', if(k = 2, 'true', 'false'), 'http.response.status_code', '200',
           'switchyard.cost_usd', toString(cost), 'gen_ai.provider.name', provider, 'gen_ai.response.model', model,
           'switchyard.metadata.user', concat('user-', toString(r % 100)), 'switchyard.metadata.feature', 'chat'),
       map('gen_ai.operation.name', 'chat', 'gen_ai.provider.name', provider, 'gen_ai.request.model', model,
           'switchyard.attempt', toString(j - 1), 'switchyard.target', toString(j - 1),
           'switchyard.outcome', if(failed, 'http_error', 'ok'), 'http.response.status_code', if(failed, '503', '200'),
           'switchyard.ttft_ms', toString(round(dur_ms / 4, 3)), 'switchyard.cost_usd', if(failed, '', toString(cost)),
           'gen_ai.usage.input_tokens', '120', 'gen_ai.usage.output_tokens', '40')) AS SpanAttributes,
    toUInt64(dur_ms * 1e6) AS Duration,
    if(failed, 'Error', 'Unset') AS StatusCode
FROM (
    SELECT number AS r, if(r % 5 = 0, 2, 1) AS k, arrayJoin(range(k + 1)) AS j,
           j = 1 AND k = 2 AS failed,
           ['openai', 'anthropic', 'gemini', 'bedrock'][1 + (r + j) % 4] AS provider,
           ['model-a', 'model-b', 'model-c'][1 + intDiv(r, 7) % 3] AS model,
           -- long-tailed latency: 80..1080 ms, one in ten up to 10x
           (80 + (cityHash64(r, j, 3) % 1000000) / 1000) * if(cityHash64(r, j, 4) % 10 = 0, 1 + (cityHash64(r, j, 5) % 9), 1) AS dur_ms,
           round(0.0001 * (1 + r % 50), 6) AS cost
    FROM numbers(${from}, ${count})
)`;

const QUERIES: Array<{ name: string; views: string; raw: string }> = [
  {
    name: 'P95 panel: 30 d by hour (llm_latency_1h)',
    views: `SELECT Hour, Provider, Model, P95Ms FROM llm_latency_1h WHERE Hour >= now() - INTERVAL ${DAYS} DAY ORDER BY Hour, Provider, Model`,
    raw: `SELECT toStartOfHour(Timestamp) AS t, SpanAttributes['gen_ai.provider.name'] AS Provider,
                 if(SpanAttributes['gen_ai.response.model'] != '', SpanAttributes['gen_ai.response.model'], SpanAttributes['gen_ai.request.model']) AS Model,
                 quantile(0.95)(Duration / 1e6) AS P95Ms
          FROM otel_traces WHERE SpanKind IN ('Client', 'SPAN_KIND_CLIENT') AND SpanAttributes['gen_ai.operation.name'] != ''
            AND Timestamp >= now() - INTERVAL ${DAYS} DAY GROUP BY t, Provider, Model ORDER BY t, Provider, Model`,
  },
  {
    name: 'P95 panel: 30 d by hour, merging minute states',
    views: `SELECT toStartOfHour(Minute) AS t, Provider, Model, quantilesDDMerge(0.01, 0.5, 0.95, 0.99)(DurationQuantiles)[2] AS P95Ms
            FROM llm_latency_1m_state WHERE Minute >= now() - INTERVAL ${DAYS} DAY GROUP BY t, Provider, Model ORDER BY t, Provider, Model`,
    raw: `SELECT toStartOfHour(Timestamp) AS t, SpanAttributes['gen_ai.provider.name'] AS Provider,
                 if(SpanAttributes['gen_ai.response.model'] != '', SpanAttributes['gen_ai.response.model'], SpanAttributes['gen_ai.request.model']) AS Model,
                 quantile(0.95)(Duration / 1e6) AS P95Ms
          FROM otel_traces WHERE SpanKind IN ('Client', 'SPAN_KIND_CLIENT') AND SpanAttributes['gen_ai.operation.name'] != ''
            AND Timestamp >= now() - INTERVAL ${DAYS} DAY GROUP BY t, Provider, Model ORDER BY t, Provider, Model`,
  },
  {
    name: 'P95 view: last 24 h by minute (llm_latency_1m)',
    views: `SELECT Minute, Provider, Model, P95Ms, TtftP95Ms FROM llm_latency_1m WHERE Minute >= now() - INTERVAL 1 DAY ORDER BY Minute`,
    raw: `SELECT toStartOfMinute(Timestamp) AS Minute, SpanAttributes['gen_ai.provider.name'] AS Provider,
                 if(SpanAttributes['gen_ai.response.model'] != '', SpanAttributes['gen_ai.response.model'], SpanAttributes['gen_ai.request.model']) AS Model,
                 quantile(0.95)(Duration / 1e6) AS P95Ms, quantile(0.95)(toFloat64OrNull(SpanAttributes['switchyard.ttft_ms'])) AS TtftP95Ms
          FROM otel_traces WHERE SpanKind IN ('Client', 'SPAN_KIND_CLIENT') AND SpanAttributes['gen_ai.operation.name'] != ''
            AND Timestamp >= now() - INTERVAL 1 DAY GROUP BY Minute, Provider, Model ORDER BY Minute`,
  },
  {
    name: 'Rescued: 30 d by minute (llm_rescued_1m)',
    views: `SELECT Minute, Requests, FailedFirstAttempts, Rescued, RescueRate FROM llm_rescued_1m WHERE Minute >= now() - INTERVAL ${DAYS} DAY ORDER BY Minute`,
    raw: `SELECT toStartOfMinute(Timestamp) AS Minute, count() AS Requests,
                 countIf(SpanAttributes['switchyard.rescued'] = 'true' OR (toUInt16OrZero(SpanAttributes['http.response.status_code']) >= 400)) AS FailedFirstAttempts,
                 countIf(SpanAttributes['switchyard.rescued'] = 'true') AS Rescued, Rescued / nullIf(FailedFirstAttempts, 0) AS RescueRate
          FROM otel_traces WHERE SpanKind IN ('Server', 'SPAN_KIND_SERVER') AND SpanAttributes['switchyard.attempts'] != ''
            AND Timestamp >= now() - INTERVAL ${DAYS} DAY GROUP BY Minute ORDER BY Minute`,
  },
];

async function time(store: EmbeddedStore, sql: string): Promise<{ median: number; rows: number }> {
  const times: number[] = [];
  let rows = 0;
  for (let i = 0; i < RUNS; i++) {
    const t = process.hrtime.bigint();
    const out = await store.query(sql, 'JSONCompactEachRow');
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
    rows = out.split('\n').filter(Boolean).length;
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], rows };
}

async function main(): Promise<void> {
  const store = await EmbeddedStore.open({ dataDir });
  try {
    const [have] = parseJsonEachRow(await store.query('SELECT count() AS n FROM llm_attempts'));
    if (Number(have.n) < ATTEMPTS) {
      const startSec = Math.floor(Date.now() / 1000) - DAYS * 86400 + 60;
      const stepNs = Math.floor(((DAYS * 86400 - 120) * 1e9) / REQUESTS);
      const t0 = Date.now();
      for (let from = 0; from < REQUESTS; from += CHUNK_REQUESTS) {
        await store.query(generate(from, Math.min(CHUNK_REQUESTS, REQUESTS - from), startSec, stepNs));
        process.stderr.write(
          `\rgenerated ${Math.min(from + CHUNK_REQUESTS, REQUESTS).toLocaleString()} / ${REQUESTS.toLocaleString()} requests`,
        );
      }
      process.stderr.write(`\n`);
      console.log(`generated in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    const [c] = parseJsonEachRow(
      await store.query(`SELECT (SELECT count() FROM llm_attempts) AS attempts, (SELECT count() FROM llm_requests) AS requests,
                                (SELECT count() FROM otel_traces) AS spans, (SELECT count() FROM llm_latency_1m_state) AS latency_states`),
    );
    console.log(
      `data: ${Number(c.attempts).toLocaleString()} attempts, ${Number(c.requests).toLocaleString()} requests, ` +
        `${Number(c.spans).toLocaleString()} spans in otel_traces, ${Number(c.latency_states).toLocaleString()} latency state rows`,
    );
    console.log(`median of ${RUNS} runs each (ms); target for the views: < 500 ms\n`);
    const header = ['query', 'views ms', 'raw ms', 'raw/views', 'rows'];
    const lines: string[][] = [];
    for (const q of QUERIES) {
      const v = await time(store, q.views);
      const r = await time(store, q.raw);
      lines.push([
        q.name,
        v.median.toFixed(1),
        r.median.toFixed(1),
        `${(r.median / v.median).toFixed(1)}x`,
        String(v.rows),
      ]);
    }
    const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
    const fmt = (l: string[]) => l.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ');
    console.log(fmt(header));
    for (const l of lines) console.log(fmt(l));
  } finally {
    await store.close();
    if (!keep) rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
