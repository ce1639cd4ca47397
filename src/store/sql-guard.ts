// Query shape for the HTTP interface: one statement per request (as ClickHouse's HTTP interface
// requires; the engine confirms it, see engine-guard.ts) and the output format a query asks for
// with a trailing FORMAT clause. What a query may touch is decided by the engine, not here.
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
      throw new ClickHouseError(
        62,
        'SYNTAX_ERROR',
        `Syntax error (Multi-statements are not allowed): failed at position ${first + 1} (end of query)`,
      );
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

export const READONLY_ERROR = () =>
  new ClickHouseError(164, 'READONLY', 'switchyard: Cannot execute query in readonly mode');
