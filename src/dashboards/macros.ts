// Expands a panel or alert query exactly as Grafana + grafana-clickhouse-datasource (v4) would,
// so tests and `switchyard report` can run the dashboards' own SQL against ClickHouse.
//
// Order, as in the plugin:
//   1. frontend, panels only: $__conditionalAll(cond, $var) -> '1=1' when $var is All or empty
//      (CHDatasource.applyConditionalAll), then template variables through templateSrv with the
//      plugin's formatter (array -> 'a','b'; scalar -> raw);
//   2. backend (pkg/macros + grafana-plugin-sdk-go sqlutil.Interpolate): $__timeFilter & co.
// Alert rules run on the backend only: no template variables and no $__conditionalAll there, so
// alert mode refuses any '$' reference left after the backend macros.
import { z } from 'zod';

export const ALL = '$__all';

export const variableStateSchema = z.object({
  /** Selected value(s); '$__all' (or ['$__all']) selects All. */
  current: z.union([z.string(), z.array(z.string())]),
  /** Option values of the variable (what All expands to when no custom allValue is set). */
  options: z.array(z.string()).default([]),
  /** Custom all value: inserted raw, never formatted (Grafana templateSrv behaviour). */
  allValue: z.string().optional(),
});
export type VariableState = z.input<typeof variableStateSchema>;

export const expandContextSchema = z.object({
  from: z.date(),
  to: z.date(),
  /** The query interval Grafana computed for the panel (or the alert query's intervalMs). */
  intervalMs: z.number().positive().default(60_000),
  variables: z.record(z.string(), variableStateSchema).default({}),
  mode: z.enum(['panel', 'alert']).default('panel'),
});
export type ExpandContext = z.input<typeof expandContextSchema>;

export class MacroError extends Error {}

// ---------- backend macros (pkg/macros/macros.go) ----------

const dateTime = (d: Date) => `toDateTime(${Math.floor(d.getTime() / 1000)})`;
const dateTime64 = (d: Date) => `fromUnixTimestamp64Milli(${d.getTime()})`;
const date = (d: Date) => `toDate('${d.toISOString().slice(0, 10)}')`;

type Ctx = z.output<typeof expandContextSchema>;
type MacroFn = (ctx: Ctx, args: string[]) => string;

function arity(name: string, args: string[], n: number): void {
  if (args.length !== n)
    throw new MacroError(`$__${name}: unexpected number of arguments: expected ${n}, received ${args.length}`);
}

const backendMacros: Record<string, MacroFn> = {
  fromTime: (c) => dateTime(c.from),
  toTime: (c) => dateTime(c.to),
  fromTime_ms: (c) => dateTime64(c.from),
  toTime_ms: (c) => dateTime64(c.to),
  timeFilter: (c, a) => (arity('timeFilter', a, 1), `${a[0]} >= ${dateTime(c.from)} AND ${a[0]} <= ${dateTime(c.to)}`),
  timeFilter_ms: (c, a) => (
    arity('timeFilter_ms', a, 1), `${a[0]} >= ${dateTime64(c.from)} AND ${a[0]} <= ${dateTime64(c.to)}`
  ),
  dateFilter: (c, a) => (arity('dateFilter', a, 1), `${a[0]} >= ${date(c.from)} AND ${a[0]} <= ${date(c.to)}`),
  dateTimeFilter: (c, a) => dtFilter(c, a),
  dt: (c, a) => dtFilter(c, a),
  timeInterval: (c, a) => (
    arity('timeInterval', a, 1),
    `toStartOfInterval(toDateTime(${a[0]}), INTERVAL ${Math.max(Math.floor(c.intervalMs / 1000), 1)} second)`
  ),
  timeInterval_ms: (c, a) => (
    arity('timeInterval_ms', a, 1),
    `toStartOfInterval(toDateTime64(${a[0]}, 3), INTERVAL ${Math.max(Math.floor(c.intervalMs), 1)} millisecond)`
  ),
  interval_s: (c) => String(Math.max(Math.floor(c.intervalMs / 1000), 1)),
};

function dtFilter(c: Ctx, a: string[]): string {
  arity('dateTimeFilter', a, 2);
  return `(${a[0]} >= ${date(c.from)} AND ${a[0]} <= ${date(c.to)}) AND (${a[1]} >= ${dateTime(c.from)} AND ${a[1]} <= ${dateTime(c.to)})`;
}

/** Index just past the ')' closing the '(' at `open`, or -1. */
function closeParen(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')' && --depth === 0) return i + 1;
  }
  return -1;
}

/** Split on commas outside nested parentheses, trimmed. */
function splitArgs(inner: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < inner.length; i++) {
    const ch = inner[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      out.push(inner.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(inner.slice(start).trim());
  return out;
}

/**
 * sqlutil.Interpolate (sdk-go >= 0.205): longer macro names first, `\b` after the name, and an
 * argument list only when '(' follows the name immediately.
 */
export function applyBackendMacros(sql: string, ctx: Ctx): string {
  let out = sql;
  const names = Object.keys(backendMacros).sort((a, b) => b.length - a.length);
  for (const name of names) {
    const re = new RegExp(String.raw`\$__${name}\b`, 'g');
    let result = '';
    let last = 0;
    for (let m = re.exec(out); m; m = re.exec(out)) {
      const end = m.index + m[0].length;
      let args: string[] = [];
      let stop = end;
      if (out[end] === '(') {
        stop = closeParen(out, end);
        if (stop < 0) throw new MacroError(`$__${name}: missing ')'`);
        const inner = out.slice(end + 1, stop - 1);
        args = inner.trim() === '' ? [] : splitArgs(inner);
      }
      result += out.slice(last, m.index) + backendMacros[name](ctx, args);
      last = stop;
      re.lastIndex = stop;
    }
    out = result + out.slice(last);
  }
  return out;
}

// ---------- frontend: $__conditionalAll and template variables ----------

/** CHDatasource.getMacroArgs: args of the '(' at `open`, split on depth-1 commas (untrimmed). */
function conditionalArgs(s: string, open: number): { args: string[]; end: number } | undefined {
  const args: string[] = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open; i < s.length; i++) {
    const ch = s[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    if (ch === ',' && depth === 1) {
      args.push(s.slice(start, i));
      start = i + 1;
    }
    if (depth === 0) {
      args.push(s.slice(start, i));
      return { args, end: i + 1 };
    }
  }
  return undefined;
}

function isAll(v: VariableState['current']): boolean {
  const s = Array.isArray(v) ? v.join(',') : v;
  return s === '' || s === ALL;
}

export function applyConditionalAll(sql: string, variables: Record<string, VariableState>): string {
  const macro = '$__conditionalAll(';
  let out = sql;
  for (let at = out.lastIndexOf(macro); at !== -1; at = out.lastIndexOf(macro)) {
    const parsed = conditionalArgs(out, at + macro.length - 1);
    if (parsed?.args.length !== 2)
      throw new MacroError('$__conditionalAll needs exactly 2 arguments: (condition, $variable)');
    const [cond, ref] = parsed.args;
    const name = /\$\{(\w+)\}|\$(\w+)/.exec(ref.trim());
    const v = name ? variables[name[1] ?? name[2]] : undefined;
    const phrase = v && isAll(v.current) ? '1=1' : cond;
    out = out.slice(0, at) + phrase + out.slice(parsed.end);
  }
  return out;
}

const builtins = (c: Ctx): Record<string, string> => ({
  __from: String(c.from.getTime()),
  __to: String(c.to.getTime()),
  __interval_ms: String(Math.floor(c.intervalMs)),
  __interval:
    c.intervalMs % 60_000 === 0
      ? `${c.intervalMs / 60_000}m`
      : c.intervalMs % 1000 === 0
        ? `${c.intervalMs / 1000}s`
        : `${c.intervalMs}ms`,
  __range_s: String(Math.floor((c.to.getTime() - c.from.getTime()) / 1000)),
});

const quoteEach = (vals: string[], q: string, esc: string) => vals.map((v) => q + v.split(q).join(esc) + q).join(',');

/** Grafana's named formats (the subset these dashboards use or a user may reasonably add). */
function format(value: string | string[], fmt: string | undefined): string {
  const vals = Array.isArray(value) ? value : [value];
  switch (fmt) {
    case undefined: // the ClickHouse plugin's own formatter
      return Array.isArray(value) ? `'${value.join("','")}'` : value;
    case 'sqlstring':
      return quoteEach(vals, "'", "''");
    case 'singlequote':
      return quoteEach(vals, "'", "\\'");
    case 'doublequote':
      return quoteEach(vals, '"', '\\"');
    case 'csv':
      return vals.join(',');
    case 'pipe':
      return vals.join('|');
    case 'raw':
      return vals.join(',');
    default:
      throw new MacroError(`unsupported variable format ':${fmt}'`);
  }
}

// Grafana templateSrv's variable pattern: $name, [[name]], [[name:fmt]], ${name}, ${name:fmt}.
const VAR_RE = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?::([^}]+))?\}/g;

export function applyTemplateVariables(sql: string, ctx: Ctx): string {
  const fixed = builtins(ctx);
  return sql.replace(VAR_RE, (whole, n1?: string, n2?: string, f2?: string, n3?: string, f3?: string) => {
    const name = (n1 ?? n2 ?? n3) as string;
    const fmt = f2 ?? f3;
    if (name in fixed) return fixed[name];
    const v = ctx.variables[name];
    if (!v) return whole; // unknown names stay as written, as in Grafana
    const state = variableStateSchema.parse(v);
    if (isAll(state.current) && state.current !== '') {
      if (state.allValue !== undefined) return state.allValue;
      return format(
        state.options.filter((o) => o !== ALL),
        fmt,
      );
    }
    return format(state.current, fmt);
  });
}

/** The SQL ClickHouse receives for this panel/alert query in this context. */
export function expandQuery(sql: string, input: ExpandContext): string {
  const ctx = expandContextSchema.parse(input);
  let out = sql;
  if (ctx.mode === 'panel') {
    out = applyConditionalAll(out, ctx.variables);
    out = applyTemplateVariables(out, ctx);
  }
  out = applyBackendMacros(out, ctx);
  if (ctx.mode === 'alert') {
    const left = /\$\{?\w+|\[\[\w+/.exec(out);
    if (left)
      throw new MacroError(
        `alert queries run without template variables; '${left[0]}' would reach ClickHouse unexpanded`,
      );
  }
  return out;
}

/** Every template variable name a query references (macros and Grafana built-ins excluded). */
export function referencedVariables(sql: string): string[] {
  const names = new Set<string>();
  for (const m of sql.matchAll(VAR_RE)) {
    const name = (m[1] ?? m[2] ?? m[4]) as string;
    if (!name.startsWith('__')) names.add(name);
  }
  return [...names].sort();
}
