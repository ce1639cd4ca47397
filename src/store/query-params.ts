// Binds HTTP `param_<name>` values to {name:Type} placeholders with a ClickHouse server's
// semantics. A server parses each raw value with the type's escaped-text reader. chdb's binder
// instead takes plain values and escapes them itself, which is only equivalent for strings:
// String-typed values are unescaped here (chdb re-escapes them), and every other type is rewritten
// to CAST({name:String} AS Type), so the raw text reaches the type's own text parser unchanged
// (an Array(String) value such as ['a','b\'c'] keeps its inner escapes).
import { tsvUnescape } from './http-request.js';
import { scanSql } from './sql-lexer.js';

const STRINGISH = /^(Nullable\()?(LowCardinality\()?(Nullable\()?(String|FixedString\(\d+\))\)*$/;

export function bindParams(sql: string, raw: Record<string, string>): { sql: string; params: Record<string, string> } {
  if (Object.keys(raw).length === 0) return { sql, params: {} };
  const { masked } = scanSql(sql);
  const re = /\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([^{}]+?)\s*\}/g;
  const params: Record<string, string> = {};
  let out = '';
  let last = 0;
  for (let m = re.exec(masked); m; m = re.exec(masked)) {
    const [whole, name, type] = m;
    const value = raw[name];
    if (value === undefined) continue; // the engine reports the missing substitution
    const compact = type.replace(/\s+/g, '');
    if (STRINGISH.test(compact)) {
      params[name] = tsvUnescape(value);
      continue;
    }
    if (compact === 'Identifier') {
      params[name] = value;
      continue;
    }
    params[name] = value;
    out +=
      sql.slice(last, m.index) +
      `CAST({${name}:String} AS ${sql
        .slice(m.index, m.index + whole.length)
        .replace(/^\{\s*\w+\s*:\s*/, '')
        .replace(/\s*\}$/, '')})`;
    last = m.index + whole.length;
  }
  return { sql: out + sql.slice(last), params };
}
