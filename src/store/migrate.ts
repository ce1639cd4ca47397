// Versioned, idempotent schema migrations. Each file in sql/migrations is NNN_name.sql; the
// runner creates the database and schema_migrations, then applies, in order, every version
// not yet recorded there. Every statement is IF NOT EXISTS, so re-running a half-applied
// migration (a crash between statements) is safe too.
import { listSql, readSql } from './sql-files.js';
import { splitStatements } from './sql-lexer.js';
import { render, renderOptionsSchema, type RenderOptions } from './template.js';

export interface Migration {
  version: number;
  name: string;
  file: string;
}

/** What the runner needs from a store or client: run a statement, read JSONEachRow rows. */
export interface MigrationTarget {
  exec(sql: string): Promise<void>;
  queryRows(sql: string): Promise<Record<string, unknown>[]>;
}

export interface MigrateResult {
  applied: Migration[];
  alreadyApplied: Migration[];
}

export function listMigrations(): Migration[] {
  const seen = new Set<number>();
  return listSql('migrations').map((file) => {
    const m = /^(\d+)_([a-z0-9_]+)\.sql$/.exec(file);
    if (!m) throw new Error(`migration file name must look like 001_name.sql: ${file}`);
    const version = Number(m[1]);
    if (seen.has(version)) throw new Error(`duplicate migration version ${version}`);
    seen.add(version);
    return { version, name: m[2], file };
  });
}

/** The bootstrap statements (database + schema_migrations), rendered. */
export function renderBootstrap(opts: RenderOptions = {}): string[] {
  return [
    ...splitStatements(render(readSql('database.sql'), opts)),
    ...splitStatements(render(readSql('schema_migrations.sql'), opts)),
  ];
}

export function renderMigration(m: Migration, opts: RenderOptions = {}): string[] {
  return splitStatements(render(readSql(`migrations/${m.file}`), opts));
}

/** Every statement the schema consists of, in order (used by tests and `migrate --print`). */
export function renderSchema(opts: RenderOptions = {}): string[] {
  return [...renderBootstrap(opts), ...listMigrations().flatMap((m) => renderMigration(m, opts))];
}

export async function migrate(target: MigrationTarget, input: RenderOptions = {}): Promise<MigrateResult> {
  const opts = renderOptionsSchema.parse(input);
  for (const stmt of renderBootstrap(opts)) await target.exec(stmt);
  const rows = await target.queryRows(`SELECT DISTINCT Version FROM ${opts.database}.schema_migrations`);
  const done = new Set(rows.map((r) => Number(r.Version)));
  const result: MigrateResult = { applied: [], alreadyApplied: [] };
  for (const m of listMigrations()) {
    if (done.has(m.version)) {
      result.alreadyApplied.push(m);
      continue;
    }
    for (const stmt of renderMigration(m, opts)) {
      try {
        await target.exec(stmt);
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        throw new Error(`migration ${m.file} failed: ${msg}`, { cause: err });
      }
    }
    await target.exec(
      `INSERT INTO ${opts.database}.schema_migrations (Version, Name) VALUES (${m.version}, '${m.name}')`,
    );
    result.applied.push(m);
  }
  return result;
}
