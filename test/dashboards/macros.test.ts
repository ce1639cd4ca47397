// The expander must produce what grafana-clickhouse-datasource sends: expected strings below follow
// pkg/macros/macros.go (backend), CHDatasource.applyConditionalAll and its variable formatter.
import { describe, expect, it } from 'vitest';
import { ALL, MacroError, applyConditionalAll, expandQuery, referencedVariables } from '../../src/dashboards/macros.js';

const from = new Date('2026-01-15T11:00:00.123Z'); // 1768474800123
const to = new Date('2026-01-15T12:30:45.678Z'); // 1768480245678
const ctx = { from, to, intervalMs: 30_000 };
const x = (sql: string, extra: object = {}) => expandQuery(sql, { ...ctx, ...extra });

describe('backend macros', () => {
  it('expands the time macros to the plugin output', () => {
    expect(x('$__fromTime')).toBe('toDateTime(1768474800)');
    expect(x('$__toTime')).toBe('toDateTime(1768480245)');
    expect(x('$__fromTime_ms')).toBe('fromUnixTimestamp64Milli(1768474800123)');
    expect(x('$__toTime_ms')).toBe('fromUnixTimestamp64Milli(1768480245678)');
    expect(x('WHERE $__timeFilter(Timestamp)')).toBe(
      'WHERE Timestamp >= toDateTime(1768474800) AND Timestamp <= toDateTime(1768480245)',
    );
    expect(x('$__timeFilter_ms(ts)')).toBe(
      'ts >= fromUnixTimestamp64Milli(1768474800123) AND ts <= fromUnixTimestamp64Milli(1768480245678)',
    );
    expect(x('$__dateFilter(d)')).toBe("d >= toDate('2026-01-15') AND d <= toDate('2026-01-15')");
    expect(x('$__dateTimeFilter(d, t)')).toBe(
      "(d >= toDate('2026-01-15') AND d <= toDate('2026-01-15')) AND (t >= toDateTime(1768474800) AND t <= toDateTime(1768480245))",
    );
    expect(x('$__dt(d, t)')).toBe(x('$__dateTimeFilter(d, t)'));
  });

  it('uses the query interval for $__timeInterval, $__timeInterval_ms and $__interval_s', () => {
    expect(x('$__timeInterval(Timestamp)')).toBe('toStartOfInterval(toDateTime(Timestamp), INTERVAL 30 second)');
    expect(x('$__timeInterval_ms(Timestamp)')).toBe(
      'toStartOfInterval(toDateTime64(Timestamp, 3), INTERVAL 30000 millisecond)',
    );
    expect(x('count() / $__interval_s')).toBe('count() / 30');
    // never below 1 second / 1 millisecond
    expect(x('$__interval_s $__timeInterval(t)', { intervalMs: 200 })).toBe(
      '1 toStartOfInterval(toDateTime(t), INTERVAL 1 second)',
    );
  });

  it('keeps apart macros whose names prefix each other', () => {
    expect(x('$__timeFilter(a) AND $__timeFilter_ms(b)')).toBe(
      'a >= toDateTime(1768474800) AND a <= toDateTime(1768480245) AND b >= fromUnixTimestamp64Milli(1768474800123) AND b <= fromUnixTimestamp64Milli(1768480245678)',
    );
  });

  it('takes arguments only from a parenthesis right after the name, nested parentheses included', () => {
    expect(x('$__fromTime AND x IN (1, 2)')).toBe('toDateTime(1768474800) AND x IN (1, 2)');
    expect(x('($__toTime)')).toBe('(toDateTime(1768480245))');
    expect(x('$__timeFilter(toDateTime(ts, 3))')).toBe(
      'toDateTime(ts, 3) >= toDateTime(1768474800) AND toDateTime(ts, 3) <= toDateTime(1768480245)',
    );
    expect(x("dateDiff('second', $__fromTime, $__toTime)")).toBe(
      "dateDiff('second', toDateTime(1768474800), toDateTime(1768480245))",
    );
  });

  it('rejects a wrong argument count like the plugin', () => {
    expect(() => x('$__timeFilter(a, b)')).toThrow(MacroError);
    expect(() => x('$__timeFilter')).toThrow(/expected 1/);
    expect(() => x('$__dateTimeFilter(a)')).toThrow(/expected 2/);
  });
});

describe('$__conditionalAll', () => {
  const vars = { model: { current: ALL, options: ['a', 'b'] }, user: { current: 'bob' }, tid: { current: '' } };
  it('becomes 1=1 when the variable is All or empty, the condition otherwise', () => {
    expect(applyConditionalAll('WHERE $__conditionalAll(Model IN ($model), $model)', vars)).toBe('WHERE 1=1');
    expect(applyConditionalAll('WHERE $__conditionalAll(Id = ${tid:sqlstring}, $tid)', vars)).toBe('WHERE 1=1');
    expect(applyConditionalAll('$__conditionalAll(User IN (${user:sqlstring}), ${user})', vars)).toBe(
      'User IN (${user:sqlstring})',
    );
    expect(applyConditionalAll('$__conditionalAll(Model IN ($model), $model)', { model: { current: [ALL] } })).toBe(
      '1=1',
    );
  });

  it('keeps commas nested in the condition and expands several macros', () => {
    const sql = "$__conditionalAll(if(Ok, 'ok', 'error') IN ($s), $s) AND $__conditionalAll(Model IN ($model), $model)";
    expect(applyConditionalAll(sql, { ...vars, s: { current: ['ok'] } })).toBe("if(Ok, 'ok', 'error') IN ($s) AND 1=1");
  });

  it('needs exactly two arguments', () => {
    expect(() => applyConditionalAll('$__conditionalAll(a = 1)', vars)).toThrow(/2 arguments/);
  });
});

describe('template variables', () => {
  const variables = {
    model: { current: ['gpt-4o', 'claude'], options: ['gpt-4o', 'claude', 'o3'] },
    one: { current: 'gpt-4o' },
    all: { current: ALL, options: [ALL, 'x', 'y'] },
    custom: { current: ALL, allValue: '.*', options: ['x'] },
    quote: { current: ["o'brien", 'ann'] },
  };
  const v = (sql: string) => x(sql, { variables });

  it("formats like the ClickHouse plugin by default: arrays 'a','b', scalars raw", () => {
    expect(v('IN ($model)')).toBe("IN ('gpt-4o','claude')");
    expect(v('= $one')).toBe('= gpt-4o');
    expect(v('IN (${all})')).toBe("IN ('x','y')");
    expect(v('[[model]]')).toBe("'gpt-4o','claude'");
  });

  it('applies named formats, escaping quotes', () => {
    expect(v('IN (${quote:sqlstring})')).toBe("IN ('o''brien','ann')");
    expect(v('= ${one:sqlstring}')).toBe("= 'gpt-4o'");
    expect(v('${quote:singlequote}')).toBe("'o\\'brien','ann'");
    expect(v('${model:csv}|${model:pipe}|${one:raw}')).toBe('gpt-4o,claude|gpt-4o|claude|gpt-4o');
    expect(v('${all:sqlstring}')).toBe("'x','y'");
    expect(() => v('${one:json}')).toThrow(/unsupported variable format/);
  });

  it('inserts a custom all value raw and leaves unknown names alone', () => {
    expect(v("match(m, '${custom:sqlstring}')")).toBe("match(m, '.*')");
    expect(v('$nope ${nope2}')).toBe('$nope ${nope2}');
  });

  it('knows the built-in range and interval variables', () => {
    expect(v('$__from $__to ${__interval_ms} $__interval $__range_s')).toBe(
      '1768474800123 1768480245678 30000 30s 5445',
    );
  });

  it('expands variables before the backend macros, conditionalAll first', () => {
    const sql =
      'WHERE $__timeFilter(T) AND $__conditionalAll(M IN (${model:sqlstring}), $model) AND $__conditionalAll(A IN ($all), $all)';
    expect(v(sql)).toBe(
      "WHERE T >= toDateTime(1768474800) AND T <= toDateTime(1768480245) AND M IN ('gpt-4o','claude') AND 1=1",
    );
  });

  it('lists the variables a query uses, not macros or built-ins', () => {
    expect(
      referencedVariables('$__timeFilter(t) $service ${model:sqlstring} [[user]] $__interval_s ${__from}'),
    ).toEqual(['model', 'service', 'user']);
  });
});

describe('alert mode', () => {
  it('runs backend macros only and refuses template variables', () => {
    const a = (sql: string) => expandQuery(sql, { ...ctx, mode: 'alert', variables: { model: { current: 'x' } } });
    expect(a('WHERE $__timeFilter(T)')).toBe('WHERE T >= toDateTime(1768474800) AND T <= toDateTime(1768480245)');
    expect(() => a('WHERE M = $model')).toThrow(/without template variables/);
    expect(() => a('WHERE $__conditionalAll(M = 1, $model)')).toThrow(/without template variables/);
  });
});
