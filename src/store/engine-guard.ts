// What a query through the HTTP interface may touch, decided from the engine's own parse of it.
//
// The reading connections run with `readonly=1` (query-limits.ts), so the engine itself refuses
// writes, DDL, SET, SETTINGS clauses and every table function that is not marked safe for
// readonly (file, url, s3, remote, mysql, executable…). Three escapes remain in an embedded
// engine, which runs with this process's rights and whose `readonly` does not cover them: the
// scalar file() function, functions that load models or call AI providers (catboostEvaluate,
// ai*), and INTO OUTFILE (written by the embedded client). Those are found in the engine's
// EXPLAIN AST of the statement, after the engine has confirmed the text is one statement; a text
// pattern never decides.
import type { EngineConnection, QueryOptions } from './embedded.js';
import { ClickHouseError } from './sql-guard.js';

// Lower-cased; aliases the engine knows for them are added at start-up (loadGuardCatalog).
const ESCAPING_FUNCTIONS = [
  'file',
  'catboostevaluate',
  'aiclassify',
  'aigenerate',
  'aiembed',
  'aiextract',
  'aitranslate',
];
// Marked allow_readonly by the engine but reaching other hosts or the client's input.
const NOT_SAFE_TABLE_FUNCTIONS = ['cluster', 'clusterallreplicas', 'input', 'eval'];

const READ_STATEMENTS = new Set([
  'SelectWithUnionQuery',
  'SelectIntersectExceptQuery',
  'SelectQuery',
  'ShowTables',
  'DescribeQuery',
  'ExistsTableQuery',
  'ExistsDatabaseQuery',
  'ExistsDictionaryQuery',
  'ExistsViewQuery',
  'ShowCreateTableQuery',
  'ShowCreateViewQuery',
  'ShowCreateDatabaseQuery',
  'ShowColumns',
  'ShowIndexes',
  'ShowFunctions',
  'ShowEnginesQuery',
  'ShowSettingQuery',
  'Explain',
]);

export interface GuardCatalog {
  /** Scalar functions that read files or reach hosts (lower-cased, aliases included). */
  escaping: ReadonlySet<string>;
  /** Table functions a writable interface may use (the engine's readonly-safe ones, minus remote-reaching). */
  safeTableFunctions: ReadonlySet<string>;
}

/** Reads the function catalogue from the engine once, so aliases and new safe table functions follow the engine. */
export async function loadGuardCatalog(conn: EngineConnection): Promise<GuardCatalog> {
  const rows = async (sql: string) =>
    Buffer.from((await conn.run(sql, { format: 'TabSeparated' })).bytes)
      .toString('utf8')
      .split('\n')
      .filter(Boolean);
  const list = ESCAPING_FUNCTIONS.map((f) => `'${f}'`).join(',');
  const escaping = new Set(ESCAPING_FUNCTIONS);
  for (const name of await rows(`SELECT name FROM system.functions WHERE lower(alias_to) IN (${list})`))
    escaping.add(name.toLowerCase());
  const safeTableFunctions = new Set(
    (await rows('SELECT name FROM system.table_functions WHERE allow_readonly'))
      .map((n) => n.toLowerCase())
      .filter((n) => !NOT_SAFE_TABLE_FUNCTIONS.includes(n)),
  );
  return { escaping, safeTableFunctions };
}

interface AstNode {
  depth: number;
  kind: string;
  name: string;
  parent?: AstNode;
}

/** EXPLAIN AST's indented text (one space per level) as nodes with parents. */
export function parseExplainAst(text: string): AstNode[] {
  const nodes: AstNode[] = [];
  const stack: AstNode[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const depth = line.length - line.trimStart().length;
    const [kind = '', name = ''] = line.trim().split(/\s+/, 2);
    while (stack.length > 0 && stack[stack.length - 1].depth >= depth) stack.pop();
    const node: AstNode = { depth, kind, name, parent: stack[stack.length - 1] };
    nodes.push(node);
    stack.push(node);
  }
  return nodes;
}

const denied = (what: string) =>
  new ClickHouseError(
    497,
    'ACCESS_DENIED',
    `switchyard: Not enough privileges. ${what} is not allowed through this interface`,
  );

/**
 * Refuses a statement whose parse reads files, reaches hosts or writes a file. `writable` is
 * for an interface configured `readonly: false`, whose connection is not readonly: there the
 * table functions are checked here too.
 */
export function checkAst(nodes: AstNode[], catalog: GuardCatalog, writable: boolean): void {
  const root = nodes[0];
  if (!root) throw new ClickHouseError(62, 'SYNTAX_ERROR', 'Empty query');
  if (!writable && !READ_STATEMENTS.has(root.kind)) {
    throw new ClickHouseError(164, 'READONLY', 'switchyard: Cannot execute query in readonly mode');
  }
  for (const n of nodes) {
    // A statement's own Literal child is its INTO OUTFILE target (its expressions sit in
    // ExpressionLists); EXPLAIN carries the explained statement's output clause.
    if (n.kind === 'Literal' && (n.parent === root || n.parent?.kind === 'Explain')) throw denied('INTO OUTFILE');
    if (n.kind !== 'Function') continue;
    const fn = n.name.toLowerCase();
    if (catalog.escaping.has(fn)) throw denied(`Function ${n.name}`);
    if (writable && n.parent?.kind === 'TableExpression' && !catalog.safeTableFunctions.has(fn))
      throw denied(`Table function ${n.name}`);
  }
}

/** A ClickHouse string literal of any text (the argument of formatQuery). */
function literal(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\0/g, '\\0')}'`;
}

/**
 * Asks the engine whether `sql` is one statement (formatQuery parses exactly one and refuses
 * more), then for its AST, and checks that. Both run on `conn`, so on the reading connections
 * they are themselves under readonly and the limits.
 */
export async function guardQuery(
  conn: EngineConnection,
  catalog: GuardCatalog,
  sql: string,
  opts: QueryOptions,
  writable: boolean,
): Promise<void> {
  await conn.run(`SELECT formatQuery(${literal(sql)}) FORMAT Null`, { database: opts.database });
  const ast = await conn.run(`EXPLAIN AST ${sql}`, {
    format: 'TabSeparatedRaw',
    params: opts.params,
    database: opts.database,
  });
  checkAst(parseExplainAst(Buffer.from(ast.bytes).toString('utf8')), catalog, writable);
}
