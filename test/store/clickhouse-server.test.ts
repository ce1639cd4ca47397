// The same migrations and view answers on a real ClickHouse server (clickhouse/clickhouse-server
// in a container), written through the RemoteStore. Skips, saying so, when no Docker engine answers.
import { ClickHouseContainer, type StartedClickHouseContainer } from '@testcontainers/clickhouse';
import { getContainerRuntimeClient } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJsonEachRow } from '../../src/store/embedded.js';
import { listMigrations } from '../../src/store/migrate.js';
import { RemoteStore } from '../../src/store/remote.js';
import { encodeTraceRows } from '../../src/store/rows.js';
import { minuteFloor, prng, quantileBracket, withinSketchBound } from './helpers.js';
import { requestSpans } from './spans.js';

const IMAGE = process.env.SWITCHYARD_CLICKHOUSE_IMAGE ?? 'clickhouse/clickhouse-server:25.8';

async function dockerAvailable(): Promise<string | undefined> {
  try {
    await getContainerRuntimeClient();
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

const noDocker = await dockerAvailable();
if (noDocker) {
  console.warn(
    `[clickhouse-server.test] SKIPPED: no Docker engine answered (${noDocker}); the same migrations and views are covered on chdb.`,
  );
}

describe.skipIf(noDocker !== undefined)(`on ${IMAGE}`, () => {
  let container: StartedClickHouseContainer;
  let store: RemoteStore;
  const rows = async (sql: string) => parseJsonEachRow(await store.query(sql));
  const M = minuteFloor(Date.now()) - 3600_000;
  const rand = prng(7);
  const durations: number[] = [];

  beforeAll(async () => {
    container = await new ClickHouseContainer(IMAGE).start();
    const o = container.getClientOptions();
    store = new RemoteStore({
      url: container.getHttpUrl(),
      username: o.username,
      password: o.password,
      database: 'switchyard',
    });
    const first = await store.migrate();
    expect(first.applied).toHaveLength(listMigrations().length);
    const spans = [];
    for (let i = 0; i < 400; i++) {
      const d = 50 + 900 * rand() ** 3;
      durations.push(d);
      spans.push(
        ...requestSpans({
          atMs: M + i * 100,
          spelling: i % 2 ? 'enum' : 'short',
          attempts: [{ provider: 'p', model: 'm', durationMs: d, costUsd: 0.001 }],
        }),
      );
    }
    const ok = { provider: 'r', model: 'rm', durationMs: 10 };
    spans.push(...requestSpans({ atMs: M + 600_000, attempts: [{ ...ok, outcome: 'http_error', status: 503 }, ok] }));
    spans.push(...requestSpans({ atMs: M + 600_000, attempts: [{ ...ok, outcome: 'http_error', status: 503 }] }));
    spans.push(...requestSpans({ atMs: M + 600_000, attempts: [ok] }));
    spans.push(
      ...requestSpans({
        atMs: M,
        requestTraceId: 'fb',
        metadata: { user: 'u' },
        attempts: [{ provider: 'c', model: 'cm', durationMs: 5, costUsd: null }],
      }),
    );
    // The collector's path: the write-ahead spool's encoded bytes, as they are.
    await store.insertEncoded('traces', encodeTraceRows(spans));
    await store.insertFeedback([{ Timestamp: Date.now(), TraceId: 'fb', Value: 6, Weight: 0.5, Metadata: {} }]);
  }, 180_000);

  afterAll(async () => {
    await store?.close();
    await container?.stop();
  });

  it('migrations are idempotent on the server', async () => {
    const again = await store.migrate();
    expect(again.applied).toEqual([]);
  });

  it('gives the same view answers as the embedded engine', async () => {
    const [lat] = await rows(
      `SELECT sum(Attempts) AS n, quantilesDDMerge(0.01, 0.5, 0.95, 0.99)(DurationQuantiles) AS q FROM llm_latency_1m_state WHERE Provider = 'p'`,
    );
    expect(lat.n).toBe('400');
    expect(withinSketchBound((lat.q as number[])[1], quantileBracket(durations, 0.95), 0.01)).toBe(true);
    const [res] = await rows(
      `SELECT Requests, Failed, FailedFirstAttempts, Rescued, RescueRate FROM llm_rescued_1m WHERE Minute = toDateTime(${(M + 600_000) / 1000})`,
    );
    expect(res).toEqual({ Requests: '3', Failed: '1', FailedFirstAttempts: '2', Rescued: '1', RescueRate: 0.5 });
    const [cost] = await rows(`SELECT CostUSD, Requests, UnpricedRequests, User FROM llm_cost_1h WHERE Provider = 'c'`);
    expect(cost).toEqual({ CostUSD: null, Requests: '1', UnpricedRequests: '1', User: 'u' });
    const [fb] = await rows(`SELECT Count, MeanScore, WeightedScore FROM llm_feedback_scores WHERE Provider = 'c'`);
    expect(fb).toEqual({ Count: '1', MeanScore: 6, WeightedScore: 6 });
  });
});
