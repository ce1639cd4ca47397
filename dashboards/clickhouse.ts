// Pieces the foundation SDK has no builder for: grafana-clickhouse-datasource SQL queries (the
// plugin's CHQuery model) and the shared template variables, plus stable panel ids.
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { loadQuery } from '../src/dashboards/queries.js';

export const DS_TYPE = 'grafana-clickhouse-datasource';
/** The provisioned datasource (deploy/grafana/provisioning/datasources/clickhouse.yaml). */
export const DS_UID = 'switchyard-clickhouse';
/** Panels reach the datasource through the dashboard's `datasource` variable. */
export const DS_VAR = { type: DS_TYPE, uid: '${datasource}' };

/** sqlds/plugin result formats. */
export enum Format {
  TimeSeries = 0,
  Table = 1,
  Logs = 2,
  Trace = 3,
}
const QUERY_TYPE: Record<Format, string> = { 0: 'timeseries', 1: 'table', 2: 'logs', 3: 'traces' };

/** The plugin's CHSqlQuery (src/types/sql.ts), SQL editor mode. */
export interface ClickHouseSqlQuery {
  refId: string;
  datasource: { type: string; uid: string };
  editorType: 'sql';
  format: Format;
  queryType: string;
  rawSql: string;
  intervalMs?: number;
  maxDataPoints?: number;
}

export class ClickHouseQueryBuilder implements cog.Builder<cog.Dataquery> {
  private readonly q: ClickHouseSqlQuery;

  /** `query` names a file under dashboards/queries, e.g. 'overview/summary'. */
  constructor(query: string, format: Format, refId = 'A') {
    this.q = {
      refId,
      datasource: DS_VAR,
      editorType: 'sql',
      format,
      queryType: QUERY_TYPE[format],
      rawSql: loadQuery(query),
    };
  }

  datasource(ref: { type: string; uid: string }): this {
    this.q.datasource = ref;
    return this;
  }

  /** Alert queries: Grafana's evaluation defaults, written out so the file is explicit. */
  forAlerting(): this {
    this.q.intervalMs = 1000;
    this.q.maxDataPoints = 43200;
    return this;
  }

  build(): cog.Dataquery {
    return { ...this.q } as unknown as cog.Dataquery;
  }
}

export const sql = (query: string, format: Format, refId = 'A') => new ClickHouseQueryBuilder(query, format, refId);

export function datasourceVariable(): dashboard.DatasourceVariableBuilder {
  return new dashboard.DatasourceVariableBuilder('datasource')
    .label('Data source')
    .type(DS_TYPE)
    .current({ text: 'Switchyard ClickHouse', value: DS_UID, selected: true });
}

/** A multi-value query variable with All, its values from dashboards/queries/variables/<name>.sql. */
export function queryVariable(name: string, label: string): dashboard.QueryVariableBuilder {
  const rawSql = loadQuery(`variables/${name}`);
  return new dashboard.QueryVariableBuilder(name)
    .label(label)
    .datasource(DS_VAR)
    .query({ refId: `${name}-variable`, editorType: 'sql', rawSql, format: Format.Table })
    .definition(rawSql)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .current({ text: 'All', value: '$__all', selected: true });
}

/** Numbers panels in build order, so ids are stable and unique within a dashboard. */
export class PanelIds {
  private next = 1;
  take(): number {
    return this.next++;
  }
}

/** A field data link that opens the request explorer on the clicked request (trace_id = cell value). */
export function explorerFieldLink(title: string): { title: string; url: string } {
  return {
    title,
    url: '/d/switchyard-llm-explorer/llm-request-explorer?var-trace_id=${__value.raw}&${datasource:queryparam}&${__url_time_range}',
  };
}
