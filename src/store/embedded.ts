// The embedded store: a real ClickHouse engine (chdb) in this process, data in a local folder.
// chdb 3.4's queryAsync/insert run on libuv worker threads, so nothing here blocks the event
// loop (test/store/embedded.test.ts measures it); a Limiter keeps engine work from parking
// threads of the shared pool. Only one process can own a data folder: the engine locks it.
// One chdb connection runs one operation at a time, but chdb allows several Sessions on the
// same folder in one process (one engine, a connection each, running in parallel): inserts
// get `insertConcurrency` connections of their own, so the collector can keep more than one
// write in flight and queries (dashboards, report) never wait behind an insert.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Session } from 'chdb';
import { type EngineProfile, writeEngineConfig } from './engine-config.js';
import { Limiter } from './limiter.js';
import { migrate, type MigrateResult } from './migrate.js';
import { mergeNativeBlocks } from './native-merge.js';
import { columnList, ENCODED, encodeFeedbackRows, encodeTraceRows, type EncodedKind } from './rows.js';
import type { FeedbackRow, OtelTraceRow, SpanStore } from './types.js';

export interface EmbeddedOptions {
  dataDir: string;
  database?: string;
  /** Max queries in flight (default 1: the connection runs one at a time). */
  concurrency?: number;
  /** Insert connections, each running one insert at a time (default 2). */
  insertConcurrency?: number;
  ttlDays?: number;
  /** Engine caches and background pools (engine-config.ts); default 'default'. */
  engineProfile?: EngineProfile;
}

export interface QueryResult {
  bytes: Uint8Array;
  rowsRead: number;
  bytesRead: number;
  elapsedSeconds: number;
}

export interface QueryOptions {
  format?: string;
  /** Values for {name:Type} placeholders, as plain strings (already unescaped). */
  params?: Record<string, string>;
  /** Resolve unqualified names in this database instead of the store's. */
  database?: string;
}

/** One engine connection: one query at a time, its own session settings. */
export interface EngineConnection {
  run(sql: string, opts: QueryOptions): Promise<QueryResult>;
  close(): Promise<void>;
}

export class EmbeddedStore implements SpanStore {
  readonly database: string;
  readonly dataDir: string;
  lastMigration?: MigrateResult;
  private readonly limiter: Limiter;
  /** Insert connections not in use; insertLimiter guarantees one is free for each insert. */
  private readonly freeInserters: Session[] = [];
  private insertLimiter = new Limiter(1);
  private closed = false;
  /** Folder of binary payloads being inserted (see insertFile). */
  private readonly spillDir: string;
  private spillSeq = 0;
  private readonly spillPrefix = `${process.pid}-${randomUUID().slice(0, 8)}`;

  private constructor(
    private readonly session: Session,
    opts: EmbeddedOptions,
    private readonly connect: () => Session,
  ) {
    this.database = opts.database ?? 'switchyard';
    this.dataDir = opts.dataDir;
    this.spillDir = join(opts.dataDir, 'switchyard-inserts');
    this.limiter = new Limiter(opts.concurrency ?? 1);
  }

  static async open(opts: EmbeddedOptions): Promise<EmbeddedStore> {
    const dir = resolve(opts.dataDir);
    mkdirSync(dir, { recursive: true });
    // Same 64-bit integer rendering as a ClickHouse server (quoted in JSON), so readers see one
    // shape whichever store answers.
    const args = [
      '--output_format_json_quote_64bit_integers=1',
      `--config-file=${writeEngineConfig(dir, opts.engineProfile ?? 'default')}`,
    ];
    const connect = () => new Session(dir, { connectionArgs: args });
    let session: Session;
    try {
      session = connect();
    } catch (err) {
      throw new Error(
        `cannot open the embedded ClickHouse store in ${dir}: another process probably owns this folder ` +
          `(only one process can), or this process already opened a different one. Set SWITCHYARD_DATA_DIR ` +
          `to another folder or CLICKHOUSE_URL to use a server.`,
        { cause: err },
      );
    }
    const store = new EmbeddedStore(session, { ...opts, dataDir: dir }, connect);
    // Payloads of inserts a crash interrupted (their rows are still in the collector's spool).
    // Only one process owns the folder, so files of other pids are leftovers; this process's
    // own may belong to another store opened on the same folder.
    mkdirSync(store.spillDir, { recursive: true });
    for (const f of readdirSync(store.spillDir)) {
      if (!f.startsWith(`${process.pid}-`)) rmSync(join(store.spillDir, f), { force: true });
    }
    try {
      store.lastMigration = await migrate(
        {
          exec: async (sql) => void (await store.run(sql, {})),
          queryRows: async (sql) => parseJsonEachRow(await store.query(sql, 'JSONEachRow')),
        },
        { database: store.database, ttlDays: opts.ttlDays },
      );
      // Unqualified table names in query() resolve to our database.
      await store.run(`USE ${store.database}`, {});
      const n = Math.max(1, opts.insertConcurrency ?? 2);
      for (let i = 0; i < n; i++) {
        const inserter = connect();
        store.freeInserters.push(inserter);
        await inserter.queryAsync(`USE ${store.database}`);
      }
      store.insertLimiter = new Limiter(n);
    } catch (err) {
      for (const s of store.freeInserters) s.close();
      session.close();
      throw err;
    }
    return store;
  }

  async insertTraces(rows: OtelTraceRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.insertEncoded('traces', encodeTraceRows(rows));
  }

  async insertFeedback(rows: FeedbackRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.insertEncoded('feedback', encodeFeedbackRows(rows));
  }

  async insertEncoded(kind: EncodedKind, payload: Buffer): Promise<void> {
    if (payload.length === 0) return;
    const { table, format, columns } = ENCODED[kind];
    // A spool segment holds one block per export request: inserted as one (native-merge.ts).
    if (format === 'Native') payload = mergeNativeBlocks(payload);
    await this.insert(table, payload, format, columns);
  }

  async query(sql: string, format = 'JSONEachRow'): Promise<string> {
    const r = await this.run(sql, { format });
    return Buffer.from(r.bytes).toString('utf8');
  }

  /** Binary-safe query (Native, RowBinary...) with optional server-side parameter binding. */
  async run(sql: string, opts: QueryOptions): Promise<QueryResult> {
    this.assertOpen();
    const format = opts.format ?? 'TabSeparated';
    const exec = () =>
      opts.params && Object.keys(opts.params).length > 0
        ? this.session.queryBindAsync(sql, opts.params, { format })
        : this.session.queryAsync(sql, { format });
    const r = await this.limiter.run(() => this.inDatabase(this.session, opts.database, exec));
    return { bytes: r.bytes(), rowsRead: r.rowsRead, bytesRead: r.bytesRead, elapsedSeconds: r.elapsed };
  }

  /**
   * A connection of its own on this engine with `settings` applied in order as session settings.
   * The HTTP interface reads through such connections: `readonly=1` set last makes the engine
   * itself refuse writes, setting changes and table functions that reach files or hosts.
   */
  async openConnection(settings: ReadonlyArray<readonly [string, string | number]>): Promise<EngineConnection> {
    this.assertOpen();
    const session = this.connect();
    try {
      await session.queryAsync(`USE ${this.database}`);
      for (const [name, value] of settings) {
        checkSettingName(name);
        await session.queryAsync(`SET ${name} = ${typeof value === 'number' ? String(value) : sqlString(value)}`);
      }
    } catch (err) {
      session.close();
      throw err;
    }
    const limiter = new Limiter(1);
    return {
      run: async (sql, opts) => {
        this.assertOpen();
        const format = opts.format ?? 'TabSeparated';
        const exec = () =>
          opts.params && Object.keys(opts.params).length > 0
            ? session.queryBindAsync(sql, opts.params, { format })
            : session.queryAsync(sql, { format });
        const r = await limiter.run(() => this.inDatabase(session, opts.database, exec));
        return { bytes: r.bytes(), rowsRead: r.rowsRead, bytesRead: r.bytesRead, elapsedSeconds: r.elapsed };
      },
      close: async () => {
        await limiter.idle();
        session.close();
      },
    };
  }

  async ping(): Promise<boolean> {
    if (this.closed) return false;
    try {
      return (await this.query('SELECT 1', 'TabSeparated')).trim() === '1';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([this.limiter.idle(), this.insertLimiter.idle()]);
    for (const s of this.freeInserters) s.close();
    this.session.close();
  }

  /**
   * Runs `INSERT INTO … (cols)` with a binary payload (Native) as its data: chdb takes inline
   * data only in text formats, so the bytes go through a file the engine reads with file().
   * The file is page cache, not a durability point (the collector's spool is), and is deleted
   * once the insert answers.
   */
  async insertFile(
    insertPrefix: string,
    format: 'Native',
    payload: Buffer,
    opts: { database?: string } = {},
  ): Promise<void> {
    this.assertOpen();
    await this.insertLimiter.run(() =>
      this.withInserter((session) =>
        this.inDatabase(session, opts.database, () => this.runFileInsert(session, insertPrefix, format, payload)),
      ),
    );
  }

  private async insert(
    table: string,
    payload: Buffer,
    format: 'JSONEachRow' | 'JSONCompactEachRow' | 'Native',
    columns: readonly string[] | undefined,
  ): Promise<void> {
    const target = `${this.database}.${table}`;
    // Either resolves after the rows (and every materialized view fed by them) are in the tables.
    if (format === 'Native') return this.insertFile(`INSERT INTO ${target}${columnList(columns)}`, format, payload);
    this.assertOpen();
    await this.insertLimiter.run(() =>
      this.withInserter(
        async (session) => void (await session.insert({ table: target, values: payload, format, columns })),
      ),
    );
  }

  /** Runs `fn` with unqualified names resolving in `database` on this connection (session state: switched back after). */
  private async inDatabase<T>(session: Session, database: string | undefined, fn: () => Promise<T>): Promise<T> {
    if (!database || database === this.database) return fn();
    await session.queryAsync(`USE ${checkDatabaseName(database)}`);
    try {
      return await fn();
    } finally {
      await session.queryAsync(`USE ${this.database}`);
    }
  }

  private async withInserter<T>(fn: (session: Session) => Promise<T>): Promise<T> {
    // insertLimiter guarantees a free connection for every caller it lets through.
    const session = this.freeInserters.pop()!;
    try {
      return await fn(session);
    } finally {
      this.freeInserters.push(session);
    }
  }

  private async runFileInsert(
    session: Session,
    insertPrefix: string,
    format: 'Native',
    payload: Buffer,
  ): Promise<void> {
    const file = join(this.spillDir, `${this.spillPrefix}-${++this.spillSeq}.${format.toLowerCase()}`);
    await writeFile(file, payload);
    try {
      await session.queryAsync(`${insertPrefix} SELECT * FROM file(${sqlString(file)}, '${format}')`);
    } finally {
      // unlink, not rm: rm's recursive machinery costs more than the insert's own file work.
      await unlink(file).catch(() => undefined);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('embedded store is closed');
  }
}

function checkDatabaseName(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid database name: ${name}`);
  return name;
}

function checkSettingName(name: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid setting name: ${name}`);
}

/** A ClickHouse string literal. */
export function sqlString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function parseJsonEachRow(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
