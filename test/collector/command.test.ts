// `switchyard collector` as a user runs it: a child process with the embedded store, spans in
// over OTLP/HTTP, read back over the ClickHouse HTTP interface, then SIGTERM with rows still
// buffered: the pending request is answered 200 and the rows are in the store after exit.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveCollectorOptions } from '../../src/collector/options.js';
import { encodeTraceRequestProto } from '../../src/collector/otlp-proto.js';
import { openStore } from '../../src/store/open.js';
import { protoRequest, protoSpan, tempDir, waitFor } from './helpers.js';

const children: ChildProcess[] = [];
const dirs: (() => void)[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) d();
});

describe('resolveCollectorOptions', () => {
  it('takes flags over env over defaults, and derives the spool from the data dir', () => {
    const o = resolveCollectorOptions(
      { port: '5000' },
      { SWITCHYARD_COLLECTOR_PORT: '6000', SWITCHYARD_DATA_DIR: '/d', SWITCHYARD_FEEDBACK_TOKEN: 'tok' },
    );
    expect(o).toMatchObject({
      port: 5000,
      host: '0.0.0.0',
      dataDir: '/d',
      spoolDir: path.join('/d', 'spool'),
      batchSize: 65_536,
      flushIntervalMs: 2000,
      feedbackToken: 'tok',
      clickhouseHttpPort: 8123,
    });
    expect(resolveCollectorOptions({}, { SWITCHYARD_COLLECTOR_PORT: '6000' }).port).toBe(6000);
  });

  it('sets concurrent store writes from flags or env', () => {
    expect(resolveCollectorOptions({}, {})).toMatchObject({
      maxConcurrentWrites: 2,
      concurrentWriteRows: 16_384,
      eagerFlushRows: 16_384,
    });
    expect(
      resolveCollectorOptions({ 'max-concurrent-writes': '1' }, { SWITCHYARD_COLLECTOR_CONCURRENT_WRITE_ROWS: '8192' }),
    ).toMatchObject({ maxConcurrentWrites: 1, concurrentWriteRows: 8192 });
    expect(() => resolveCollectorOptions({ 'max-concurrent-writes': '0' }, {})).toThrow(/--max-concurrent-writes/);
  });

  it('sets decode threads from flags or env; 0 decodes in the request thread', () => {
    expect(resolveCollectorOptions({}, {}).decodeThreads).toBeGreaterThanOrEqual(1);
    expect(resolveCollectorOptions({ 'decode-threads': '0' }, {}).decodeThreads).toBe(0);
    expect(resolveCollectorOptions({}, { SWITCHYARD_COLLECTOR_DECODE_THREADS: '3' }).decodeThreads).toBe(3);
    expect(() => resolveCollectorOptions({ 'decode-threads': '-1' }, {})).toThrow(/--decode-threads/);
  });

  it('names the bad setting', () => {
    expect(() => resolveCollectorOptions({ port: 'abc' }, {})).toThrow(/--port/);
    expect(() => resolveCollectorOptions({ 'batch-size': '0' }, {})).toThrow(/--batch-size/);
  });
});

function startChild(
  dataDir: string,
  extra: string[] = [],
): Promise<{ child: ChildProcess; otlpPort: number; chPort: number; stderr: () => string }> {
  const cli = path.resolve('src/cli.ts');
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      cli,
      'collector',
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--clickhouse-http-port',
      '0',
      '--flush-interval-ms',
      '60000',
      ...extra,
    ],
    { env: { ...process.env, SWITCHYARD_DATA_DIR: dataDir, CLICKHOUSE_URL: '' }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  children.push(child);
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`collector did not start:\n${err}`)), 30_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /"msg":"collector ready","otlp":"[^"]*:(\d+)".*"clickhouseHttp":"[^"]*:(\d+)"/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ child, otlpPort: Number(m[1]), chPort: Number(m[2]), stderr: () => err });
      }
    });
    child.on('exit', (code) => reject(new Error(`collector exited early (${code}):\n${err}`)));
  });
}

describe('switchyard collector (child process, embedded store)', () => {
  it('ingests, serves the ClickHouse HTTP interface, and flushes buffered rows on SIGTERM', async () => {
    const data = tempDir('sy-cmd-');
    dirs.push(data.cleanup);
    const { child, otlpPort, chPort, stderr } = await startChild(data.dir, ['--eager-flush-rows', '1000']);

    const post = (names: string[]) =>
      fetch(`http://127.0.0.1:${otlpPort}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body: new Uint8Array(
          encodeTraceRequestProto(
            protoRequest(
              names.map((name) => protoSpan({ name })),
              'cmd-svc',
            ),
          ),
        ),
      });
    // 1000+ rows (--eager-flush-rows 1000) start an insert without waiting for the (60 s) interval.
    const big = await post(Array.from({ length: 1000 }, (_, i) => `bulk-${i}`));
    expect(big.status).toBe(200);
    const count = async () =>
      (
        await (
          await fetch(
            `http://127.0.0.1:${chPort}/?query=${encodeURIComponent("SELECT count() FROM switchyard.otel_traces WHERE ServiceName = 'cmd-svc'")}`,
          )
        ).text()
      ).trim();
    await waitFor(async () => (await count()) === '1000', 10_000);

    // A small request is acknowledged once fsynced but waits for the interval before its
    // insert; SIGTERM must insert it, not drop it.
    const pending = post(['last-1', 'last-2']);
    await waitFor(async () => {
      const m = await (await fetch(`http://127.0.0.1:${otlpPort}/metrics`)).text();
      return /switchyard_collector_spans_queued 2\b/.test(m);
    }, 20_000);
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect((await pending).status).toBe(200);
    expect(await exited).toBe(0);
    expect(stderr()).toMatch(/collector stopped/);

    const store = await openStore({ dataDir: data.dir });
    try {
      const n = await store.query("SELECT count() FROM otel_traces WHERE ServiceName = 'cmd-svc'", 'TabSeparated');
      expect(n.trim()).toBe('1002');
    } finally {
      await store.close();
    }
  }, 60_000);

  it('keeps acknowledged spans across a kill -9 before their insert; the restart stores each exactly once', async () => {
    const data = tempDir('sy-crash-');
    dirs.push(data.cleanup);
    // Nothing reaches the store on its own before the kill (60 s interval, huge eager threshold).
    const first = await startChild(data.dir, ['--eager-flush-rows', '1000000']);
    const post = (port: number, from: number) =>
      fetch(`http://127.0.0.1:${port}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body: new Uint8Array(
          encodeTraceRequestProto(
            protoRequest(
              Array.from({ length: 100 }, (_, i) => protoSpan({ name: `crash-${from + i}` })),
              'crash-svc',
            ),
          ),
        ),
      });
    for (let i = 0; i < 500; i += 100) expect((await post(first.otlpPort, i)).status).toBe(200);
    const killed = new Promise((r) => first.child.on('exit', r));
    first.child.kill('SIGKILL');
    await killed;

    const second = await startChild(data.dir);
    const sql = (q: string) =>
      fetch(`http://127.0.0.1:${second.chPort}/?query=${encodeURIComponent(q)}`).then(async (r) =>
        (await r.text()).trim(),
      );
    const q =
      "SELECT count(), uniqExact(SpanId), uniqExact(SpanName) FROM switchyard.otel_traces WHERE ServiceName = 'crash-svc'";
    await waitFor(async () => (await sql(q)) === '500\t500\t500', 20_000, 50);
    await waitFor(
      async () =>
        /switchyard_collector_spans_replayed_total 500\b/.test(
          await (await fetch(`http://127.0.0.1:${second.otlpPort}/metrics`)).text(),
        ),
      5000,
    );
    // Replayed once: a while later there are still exactly 500.
    await new Promise((r) => setTimeout(r, 300));
    expect(await sql(q)).toBe('500\t500\t500');
    const exited = new Promise<number | null>((r) => second.child.on('exit', (code) => r(code)));
    second.child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 90_000);
});
