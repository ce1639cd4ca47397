// The remote store: a ClickHouse server (single node or cluster) through @clickhouse/client.
import { Readable } from 'node:stream';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { migrate, type MigrateResult } from './migrate.js';
import { mergeNativeBlocks } from './native-merge.js';
import { columnList, ENCODED, encodeFeedbackRows, encodeTraceRows, type EncodedKind } from './rows.js';
import { inspectQuery } from './sql-guard.js';
import type { RenderOptions } from './template.js';
import type { FeedbackRow, OtelTraceRow, SpanStore } from './types.js';

export interface RemoteOptions {
  url: string;
  username?: string;
  password?: string;
  database?: string;
  requestTimeoutMs?: number;
}

export class RemoteStore implements SpanStore {
  readonly database: string;
  private readonly client: ClickHouseClient;

  constructor(private readonly opts: RemoteOptions) {
    this.database = opts.database ?? 'switchyard';
    this.client = makeClient(opts, this.database);
  }

  /** Applies the schema (CREATE DATABASE included) through a client bound to `default`. */
  async migrate(render: Omit<RenderOptions, 'database'> = {}): Promise<MigrateResult> {
    return migrateRemote(this.opts, { ...render, database: this.database });
  }

  // The same encoding the embedded store and the collector's spool use (rows.ts).
  async insertTraces(rows: OtelTraceRow[]): Promise<void> {
    if (rows.length > 0) await this.insertEncoded('traces', encodeTraceRows(rows));
  }

  async insertFeedback(rows: FeedbackRow[]): Promise<void> {
    if (rows.length > 0) await this.insertEncoded('feedback', encodeFeedbackRows(rows));
  }

  async insertEncoded(kind: EncodedKind, payload: Buffer): Promise<void> {
    if (payload.length === 0) return;
    const { table, format, columns } = ENCODED[kind];
    // A spool segment holds one block per export request: inserted as one (native-merge.ts).
    if (format === 'Native') payload = mergeNativeBlocks(payload);
    // The bytes go to the server as they are: client.insert() would JSON-encode each chunk of a
    // JSON-format stream, so this is a raw INSERT … FORMAT with the payload as its body.
    const r = await this.client.exec({
      query: `INSERT INTO ${this.database}.${table}${columnList(columns)} FORMAT ${format}`,
      values: Readable.from([payload], { objectMode: false }),
      // Answer only once the rows are written (no async_insert), so a resolved promise means
      // they are in the table.
      clickhouse_settings: { wait_end_of_query: 1 },
    });
    for await (const _ of r.stream) void _; // drain; an error in the body rejects here
  }

  async query(sql: string, format = 'JSONEachRow'): Promise<string> {
    return execText(this.client, sql, format);
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.client.ping()).success;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

function makeClient(opts: RemoteOptions, database: string): ClickHouseClient {
  return createClient({
    url: opts.url,
    username: opts.username ?? 'default',
    password: opts.password ?? '',
    database,
    request_timeout: opts.requestTimeoutMs ?? 30_000,
    // Pinned so readers see the embedded store's shape (64-bit integers as JSON strings) whatever
    // the server version's default.
    clickhouse_settings: { output_format_json_quote_64bit_integers: 1 },
  });
}

async function execText(client: ClickHouseClient, sql: string, format: string): Promise<string> {
  const shape = inspectQuery(sql);
  const query =
    shape.format || !['SELECT', 'WITH', 'SHOW', 'DESCRIBE', 'DESC', 'EXISTS', 'EXPLAIN'].includes(shape.kind)
      ? shape.sql
      : `${shape.sql}\nFORMAT ${format}`;
  const res = await client.exec({ query });
  const chunks: Buffer[] = [];
  for await (const chunk of res.stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

export async function migrateRemote(opts: RemoteOptions, render: RenderOptions): Promise<MigrateResult> {
  const client = makeClient(opts, 'default');
  try {
    return await migrate(
      {
        exec: async (sql) => void (await client.command({ query: sql })),
        queryRows: async (sql) => {
          const rs = await client.query({ query: sql, format: 'JSONEachRow' });
          return rs.json<Record<string, unknown>>();
        },
      },
      render,
    );
  } finally {
    await client.close();
  }
}
