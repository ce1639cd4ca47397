// Query classification for the HTTP interface: one statement per request (as ClickHouse's HTTP
// interface requires), read-only unless configured otherwise, and the output format a query asks
// for with a trailing FORMAT clause.
import { scanSql } from './sql-lexer.js';

export class ClickHouseError extends Error {
  constructor(
    readonly code: number,
    readonly codeName: string,
    message: string,
  ) {
    super(`Code: ${code}. DB::Exception: ${message}. (${codeName})`);
  }
}

const READ_KEYWORDS = new Set(['SELECT', 'WITH', 'SHOW', 'DESCRIBE', 'DESC', 'EXISTS', 'EXPLAIN', 'CHECK']);

// Functions that read or write the local file system or reach other hosts. In readonly mode they
// are refused: the embedded engine runs with this process's rights, and ClickHouse's own
// readonly setting does not stop them.
const OUTSIDE_WORLD = new RegExp(
  String.raw`\b(file|fileCluster|url|urlCluster|s3|s3Cluster|gcs|hdfs|hdfsCluster|azureBlobStorage|azureBlobStorageCluster|` +
    String.raw`remote|remoteSecure|cluster|clusterAllReplicas|mysql|postgresql|sqlite|mongodb|redis|jdbc|odbc|executable|` +
    String.raw`executablePool|deltaLake|hudi|iceberg\w*|arrowFlight|ytsaurus|input|loop)\s*\(`,
  'i',
);

export interface QueryShape {
  /** The single statement, without a trailing ';'. */
  sql: string;
  /** First keyword, upper-cased (SELECT, INSERT, ...). */
  kind: string;
  /** Output format named by a trailing FORMAT clause of a read query, if any. */
  format?: string;
}

export function inspectQuery(text: string): QueryShape {
  const { masked, semicolons } = scanSql(text);
  let end = text.length;
  // A trailing ';' is allowed; anything after the first top-level ';' is a second statement.
  if (semicolons.length > 0) {
    const first = semicolons[0];
    if (masked.slice(first + 1).trim() !== '') {
      throw new ClickHouseError(62, 'SYNTAX_ERROR', `Syntax error (Multi-statements are not allowed): failed at position ${first + 1} (end of query)`);
    }
    end = first;
  }
  const sql = text.slice(0, end);
  const body = masked.slice(0, end);
  const kind = /^[\s(]*([A-Za-z]+)/.exec(body)?.[1]?.toUpperCase() ?? '';
  if (kind === '') throw new ClickHouseError(62, 'SYNTAX_ERROR', 'Empty query');
  const isRead = READ_KEYWORDS.has(kind);
  const fm = isRead ? /\bFORMAT\s+([A-Za-z0-9_]+)\s*$/i.exec(body) : null;
  return { sql, kind, format: fm?.[1] };
}

export const READONLY_ERROR = () => new ClickHouseError(164, 'READONLY', 'switchyard: Cannot execute query in readonly mode');

/**
 * 'read' when the statement only reads the database; 'write' when it certainly does not;
 * 'unknown' when its first word is no statement keyword we know (then the caller lets the
 * engine parse it, so a typo gets the server's SYNTAX_ERROR rather than READONLY).
 */
export function readOnlyVerdict(shape: QueryShape): 'read' | 'write' | 'unknown' {
  const { masked } = scanSql(shape.sql);
  if (READ_KEYWORDS.has(shape.kind)) {
    return /\bINTO\s+OUTFILE\b/i.test(masked) || OUTSIDE_WORLD.test(masked) ? 'write' : 'read';
  }
  return WRITE_KEYWORDS.has(shape.kind) ? 'write' : 'unknown';
}

const WRITE_KEYWORDS = new Set([
  'INSERT', 'CREATE', 'DROP', 'ALTER', 'TRUNCATE', 'RENAME', 'ATTACH', 'DETACH', 'OPTIMIZE', 'SYSTEM', 'KILL',
  'SET', 'USE', 'GRANT', 'REVOKE', 'DELETE', 'UPDATE', 'EXCHANGE', 'UNDROP', 'BACKUP', 'RESTORE', 'MOVE',
  'REPLACE', 'BEGIN', 'COMMIT', 'ROLLBACK', 'WATCH', 'UNDO',
]);
