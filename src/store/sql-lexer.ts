// A small SQL scanner that knows ClickHouse's quoting and comment rules, used to split
// migration files into statements and to classify queries arriving over HTTP without being
// fooled by keywords or semicolons inside string literals and comments.

export interface Scan {
  /** Same length as the input; string literals, quoted identifiers and comments blanked. */
  masked: string;
  /** Offsets of top-level ';' characters. */
  semicolons: number[];
}

export function scanSql(sql: string): Scan {
  const out: string[] = [];
  const semicolons: number[] = [];
  let i = 0;
  const n = sql.length;
  const blank = (from: number, to: number) => {
    for (let k = from; k < to; k++) out.push(sql[k] === '\n' ? '\n' : ' ');
  };
  while (i < n) {
    const c = sql[i];
    const next = sql[i + 1];
    if (c === "'" || c === '"' || c === '`') {
      const start = i;
      i++;
      while (i < n) {
        if (sql[i] === '\\') {
          i += 2;
          continue;
        }
        if (sql[i] === c) {
          if (sql[i + 1] === c) {
            i += 2; // doubled quote inside a literal
            continue;
          }
          break;
        }
        i++;
      }
      i = Math.min(i + 1, n);
      // Keep the quotes so "x = ''" still reads as a literal; blank the contents.
      out.push(c);
      blank(start + 1, Math.max(start + 1, i - 1));
      if (i - start >= 2) out.push(c);
      continue;
    }
    if ((c === '-' && next === '-') || (c === '#' && (next === ' ' || next === '!'))) {
      const start = i;
      while (i < n && sql[i] !== '\n') i++;
      blank(start, i);
      continue;
    }
    if (c === '/' && next === '*') {
      const start = i;
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
      blank(start, i);
      continue;
    }
    if (c === ';') semicolons.push(i);
    out.push(c);
    i++;
  }
  return { masked: out.join(''), semicolons };
}

/** Split a script into statements at top-level semicolons; drops empty/comment-only pieces. */
export function splitStatements(sql: string): string[] {
  const { masked, semicolons } = scanSql(sql);
  const pieces: string[] = [];
  let from = 0;
  for (const at of [...semicolons, sql.length]) {
    // Leading comment lines document the statement in the file; they are not sent.
    if (masked.slice(from, at).trim() !== '')
      pieces.push(
        sql
          .slice(from, at)
          .trim()
          .replace(/^(--[^\n]*\n\s*)+/, ''),
      );
    from = at + 1;
  }
  return pieces;
}
