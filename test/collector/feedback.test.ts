import { afterEach, describe, expect, it } from 'vitest';
import { startCollector, type RunningCollector } from '../../src/collector/index.js';
import { MemoryStore, tempDir, waitFor } from './helpers.js';

let collector: RunningCollector | undefined;
let cleanup: (() => void) | undefined;
afterEach(async () => {
  await collector?.close();
  collector = undefined;
  cleanup?.();
});

async function start(store: MemoryStore, feedbackToken?: string) {
  const tmp = tempDir();
  cleanup = tmp.cleanup;
  collector = await startCollector({
    store,
    spoolDir: tmp.dir,
    host: '127.0.0.1',
    port: 0,
    flushIntervalMs: 10,
    feedbackToken,
  });
  return collector;
}

function feedback(body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${collector!.url}/v1/feedback`, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  });
}

describe('POST /v1/feedback', () => {
  it('accepts valid feedback (before any span of the trace) and stores it with defaults', async () => {
    const store = new MemoryStore();
    await start(store);
    const before = Date.now();
    const res = await feedback({ trace_id: 'req-123', value: 7.5, metadata: { user: 'u1', feature: 'search' } });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ status: 'accepted' });
    await waitFor(() => store.feedback.length === 1);
    const row = store.feedback[0];
    expect(row).toMatchObject({
      TraceId: 'req-123',
      Value: 7.5,
      Weight: 1,
      Metadata: { user: 'u1', feature: 'search' },
    });
    expect(row.Timestamp).toBeGreaterThanOrEqual(before);
    expect(store.traces).toHaveLength(0);

    expect((await feedback({ trace_id: 't2', value: -10, weight: 0 })).status).toBe(202);
    await waitFor(() => store.feedback.length === 2);
    expect(store.feedback[1]).toMatchObject({ Value: -10, Weight: 0, Metadata: {} });
  });

  it.each([
    [{ value: 1 }, 'trace_id'],
    [{ trace_id: '', value: 1 }, 'trace_id'],
    [{ trace_id: 'x'.repeat(257), value: 1 }, 'trace_id'],
    [{ trace_id: 't', value: 11 }, 'value'],
    [{ trace_id: 't', value: '5' }, 'value'],
    [{ trace_id: 't' }, 'value'],
    [{ trace_id: 't', value: 1, weight: 1.5 }, 'weight'],
    [{ trace_id: 't', value: 1, metadata: { user: 5 } }, 'metadata.user'],
    [{ trace_id: 't', value: 1, metadata: 'nope' }, 'metadata'],
    [[1, 2], 'body'],
    ['{not json', 'body'],
  ])('rejects %j with a 400 naming %s', async (body, param) => {
    const store = new MemoryStore();
    await start(store);
    const res = await feedback(body);
    expect(res.status).toBe(400);
    const json = (await res.json()) as { error: Record<string, unknown> };
    expect(json.error).toMatchObject({ type: 'invalid_request_error', status: 400, param });
    expect(typeof json.error.code).toBe('string');
    expect(json.error.message).toContain(param === 'body' ? 'body' : param);
    expect(store.feedback).toHaveLength(0);
  });

  it('requires the bearer token when one is configured', async () => {
    const store = new MemoryStore();
    await start(store, 's3cret-token');
    const none = await feedback({ trace_id: 't', value: 1 });
    expect(none.status).toBe(401);
    const body = (await none.json()) as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({ type: 'authentication_error', status: 401 });
    expect(JSON.stringify(body)).not.toContain('s3cret');
    expect((await feedback({ trace_id: 't', value: 1 }, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await feedback({ trace_id: 't', value: 1 }, { authorization: 'Bearer s3cret-token' })).status).toBe(202);
    await waitFor(() => store.feedback.length === 1);
  });

  it('spools feedback while the store is down and replays it', async () => {
    const store = new MemoryStore();
    store.down = true;
    await start(store);
    expect((await feedback({ trace_id: 'a', value: 1 })).status).toBe(202);
    expect((await feedback({ trace_id: 'b', value: 2 })).status).toBe(202);
    expect(store.feedback).toHaveLength(0);
    store.down = false;
    const until = Date.now() + 5000;
    while (store.feedback.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(store.feedback.map((f) => f.TraceId)).toEqual(['a', 'b']);
  });

  it('refuses non-JSON content types with 415', async () => {
    await start(new MemoryStore());
    const res = await feedback('trace_id=t', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(415);
  });
});
