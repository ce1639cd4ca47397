// Fuzzes the read-only ClickHouse HTTP interface's query text: dashboard queries and known
// escape attempts, spliced with SQL fragments that try to reach files, hosts, settings or a
// second statement. Never a leak of the secret file, never a file written, never an outside
// connection, never a crash: every answer is a result or one of ClickHouse's own errors, and the
// interface still answers afterwards.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allSelected, listQueries, loadQuery } from '../../src/dashboards/queries.js';
import { expandQuery } from '../../src/dashboards/macros.js';
import { EmbeddedStore } from '../../src/store/embedded.js';
import { startClickHouseHttp } from '../../src/store/http-interface.js';
import { countingListener, tempDataDir } from '../store/helpers.js';
import { fuzz, fuzzSettings } from './mutate.js';

const settings = fuzzSettings();
const MARKER = `fuzz-secret-${process.pid}`;
const tmp = tempDataDir('ch-fuzz');
const scratch = mkdtempSync(join(tmpdir(), 'sy-ch-fuzz-'));
const secret = join(scratch, 'secret.txt');
let store: EmbeddedStore;
let iface: Awaited<ReturnType<typeof startClickHouseHttp>>;
let listener: Awaited<ReturnType<typeof countingListener>>;
let port = 0;

beforeAll(async () => {
  writeFileSync(secret, `${MARKER}\n`);
  listener = await countingListener();
  port = listener.port;
  store = await EmbeddedStore.open({ dataDir: tmp.dir });
  iface = await startClickHouseHttp({ store, port: 0, limits: { max_execution_time: 2 } });
});

afterAll(async () => {
  await iface?.close();
  await store?.close();
  await listener?.close();
  tmp.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

const now = Date.now();
const SEEDS = (): string[] => [
  ...['overview', 'alerts', 'variables']
    .flatMap((f) => listQueries(f))
    .slice(0, 12)
    .map((n) =>
      expandQuery(loadQuery(n), {
        from: new Date(now - 3_600_000),
        to: new Date(now),
        intervalMs: 60_000,
        variables: allSelected(),
        mode: n.startsWith('alerts/') ? 'alert' : undefined,
      }),
    ),
  'SELECT 1',
  "SELECT count() FROM llm_requests WHERE ConfigId = 'x'",
  'SHOW TABLES',
  'DESCRIBE TABLE llm_attempts',
  `SELECT * FROM file('${secret}', 'LineAsString')`,
  `SELECT file('${secret}')`,
];

const FRAGMENTS = (): string[] => [
  `file('${secret}')`,
  ` FROM file('${secret}', 'LineAsString')`,
  `\`file\`('${secret}')`,
  ` INTO OUTFILE '${join(scratch, 'out.txt')}'`,
  ` FROM url('http://127.0.0.1:${port}/', 'CSV', 'a String')`,
  ` FROM remote('127.0.0.1:${port}', system.one)`,
  ' SETTINGS readonly = 0',
  ' SETTINGS max_execution_time = 0',
  '; SELECT 1',
  `; SELECT file('${secret}')`,
  ';',
  "'",
  '"',
  '`',
  '/*',
  '*/',
  '--',
  '\n',
  '\\',
  '{p:String}',
  '(',
  ')',
  ',',
  ' UNION ALL ',
  ' WITH x AS (SELECT 1) ',
  ' FORMAT JSON',
  ' FORMAT Native',
  ' FORMAT Null',
  'SYSTEM FLUSH LOGS',
  'INSERT INTO llm_feedback VALUES',
  'SET readonly=0',
  '\u0000',
  '\u202e',
  'é',
  '🙂',
  ' numbers(1e11) ',
  ' catboostEvaluate(',
  ' EXPLAIN ',
  ' input(',
  ' view(',
];

type Op =
  | { k: 'insert'; at: number; frag: number }
  | { k: 'delete'; at: number; len: number }
  | { k: 'dup'; at: number; len: number };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('insert' as const), at: fc.nat(), frag: fc.nat() }),
  fc.record({ k: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ k: fc.constant('dup' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 40 }) }),
);

function mutate(seed: string, ops: readonly Op[], frags: readonly string[]): string {
  let s = seed;
  for (const op of ops) {
    const at = s.length === 0 ? 0 : op.at % (s.length + 1);
    if (op.k === 'insert') s = s.slice(0, at) + frags[op.frag % frags.length] + s.slice(at);
    else if (op.k === 'delete') s = s.slice(0, at) + s.slice(at + op.len);
    else s = s.slice(0, at) + s.slice(at, at + op.len) + s.slice(at);
  }
  return s;
}

describe('ClickHouse interface query fuzzing', () => {
  it("answers every mutated query with a result or ClickHouse's own error, and never escapes", async () => {
    const seeds = SEEDS();
    const frags = FRAGMENTS();
    const seen = new Map<number, number>();
    await fuzz(
      settings,
      250,
      fc.asyncProperty(
        fc.nat(),
        fc.array(opArb, { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        async (seedIdx, ops, viaUrl) => {
          const sql = mutate(seeds[seedIdx % seeds.length], ops, frags);
          // URLSearchParams, not encodeURIComponent: a mutation may split a surrogate pair, which
          // is still a string a client can send (as U+FFFD), not a reason for the test to throw.
          const url = `http://127.0.0.1:${iface.port}/${viaUrl ? `?${new URLSearchParams({ query: sql })}` : ''}`;
          const r = await fetch(url, { method: 'POST', body: viaUrl ? '' : sql });
          const text = await r.text();
          seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
          expect(text).not.toContain(MARKER);
          if (r.status === 200) return;
          // A designed engine error (READONLY answers 500 on a server too), never our internal one.
          const code = Number(r.headers.get('x-clickhouse-exception-code'));
          expect(code, `${r.status} ${text.slice(0, 200)} for ${JSON.stringify(sql)}`).toBeGreaterThan(0);
          expect(code, text).not.toBe(1001);
          expect(text).toMatch(/^Code: \d+\. DB::Exception: /);
        },
      ),
    );
    expect(existsSync(join(scratch, 'out.txt'))).toBe(false);
    expect(readdirSync(scratch)).toEqual(['secret.txt']);
    expect(listener.connections()).toBe(0);
    const alive = await fetch(`http://127.0.0.1:${iface.port}/?query=SELECT%2042`);
    expect(await alive.text()).toBe('42\n');
    // The corpus reaches both outcomes, or it tests little.
    expect(seen.get(200) ?? 0).toBeGreaterThan(0);
    expect([...seen.keys()].some((s) => s >= 400)).toBe(true);
  }, 120_000);
});
