// "LLM overview": traffic, errors, latency, resilience (rescues, retries, fallbacks), tokens, cost,
// feedback and spend per virtual key, filtered by service, provider and model.
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { DS_VAR, Format, PanelIds, datasourceVariable, queryVariable, sql } from './clickhouse.js';

export const OVERVIEW_UID = 'switchyard-llm-overview';

function series(
  ids: PanelIds,
  title: string,
  query: string,
  unit: string,
  description: string,
): timeseries.PanelBuilder {
  return new timeseries.PanelBuilder()
    .id(ids.take())
    .title(title)
    .description(description)
    .datasource(DS_VAR)
    .withTarget(sql(query, Format.TimeSeries))
    .unit(unit)
    .lineWidth(1)
    .fillOpacity(10)
    .spanNulls(false)
    .legend(
      new common.VizLegendOptionsBuilder()
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Bottom)
        .showLegend(true)
        .calcs(['mean', 'max']),
    )
    .height(8)
    .span(12);
}

function summaryStat(ids: PanelIds, title: string, field: string, unit: string): stat.PanelBuilder {
  return new stat.PanelBuilder()
    .id(ids.take())
    .title(title)
    .datasource(DS_VAR)
    .withTarget(sql('overview/summary', Format.Table))
    .unit(unit)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).fields(`/^${field}$/`).values(false))
    .graphMode(common.BigValueGraphMode.None)
    .colorMode(common.BigValueColorMode.Value)
    .height(4)
    .span(4);
}

function rows(ids: PanelIds, title: string, query: string, description: string, span = 12): table.PanelBuilder {
  return new table.PanelBuilder()
    .id(ids.take())
    .title(title)
    .description(description)
    .datasource(DS_VAR)
    .withTarget(sql(query, Format.Table))
    .height(8)
    .span(span);
}

const percent = (name: string) => ({
  matcher: { id: 'byName', options: name },
  properties: [{ id: 'unit', value: 'percentunit' }],
});

export function buildOverview(): dashboard.Dashboard {
  const ids = new PanelIds();
  const b = new dashboard.DashboardBuilder('LLM overview')
    .uid(OVERVIEW_UID)
    .description('Switchyard: LLM traffic, errors, latency, rescues, tokens, cost and feedback (ClickHouse).')
    .tags(['switchyard', 'llm'])
    .editable()
    .timezone('browser')
    .refresh('30s')
    .time({ from: 'now-3h', to: 'now' })
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .link(
      new dashboard.DashboardLinkBuilder('LLM request explorer')
        .type(dashboard.DashboardLinkType.Link)
        .url('/d/switchyard-llm-explorer/llm-request-explorer')
        .includeVars(true)
        .keepTime(true)
        .icon('external link'),
    )
    .withVariable(datasourceVariable())
    .withVariable(queryVariable('service', 'Service'))
    .withVariable(queryVariable('provider', 'Provider'))
    .withVariable(queryVariable('model', 'Model'));

  b.withRow(new dashboard.RowBuilder('Traffic and errors').id(ids.take()))
    .withPanel(summaryStat(ids, 'Requests', 'requests', 'short'))
    .withPanel(
      summaryStat(ids, 'Error rate', 'error_rate', 'percentunit').thresholds(
        new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps([
          { value: null as unknown as number, color: 'green' },
          { value: 0.05, color: 'red' },
        ]),
      ),
    )
    .withPanel(summaryStat(ids, 'Rescued requests', 'rescued', 'short'))
    .withPanel(summaryStat(ids, 'Rescue rate', 'rescue_rate', 'percentunit'))
    .withPanel(summaryStat(ids, 'Average attempts', 'attempts_per_request', 'short').decimals(2))
    .withPanel(summaryStat(ids, 'Cost', 'cost_usd', 'currencyUSD'))
    .withPanel(
      series(ids, 'Requests/s', 'overview/requests_per_second', 'reqps', 'Sidecar requests per second, per service.'),
    )
    .withPanel(
      series(
        ids,
        'Request error rate',
        'overview/error_rate',
        'percentunit',
        'Share of requests that failed after every retry and fallback, per service.',
      ),
    )
    .withPanel(
      series(
        ids,
        'Attempt error rate per provider',
        'overview/attempt_error_rate',
        'percentunit',
        'Share of attempts that failed, per provider. High here but low above: fallbacks are absorbing a failing provider.',
      ).span(24),
    );

  b.withRow(new dashboard.RowBuilder('Latency').id(ids.take()))
    .withPanel(
      series(
        ids,
        'Attempt latency P50 / P95 / P99 per provider and model',
        'overview/latency_by_model',
        'ms',
        'Per-minute DDSketch states merged per interval (within 1%). Not filtered by service.',
      ).interval('1m'),
    )
    .withPanel(
      series(
        ids,
        'Time to first token P50 / P95 (streams)',
        'overview/ttft_by_model',
        'ms',
        'Streaming attempts only. Not filtered by service.',
      ).interval('1m'),
    );

  b.withRow(new dashboard.RowBuilder('Resilience').id(ids.take()))
    .withPanel(
      series(
        ids,
        'Rescued requests and rescue rate',
        'overview/rescued',
        'short',
        'Requests an earlier attempt failed for and a later one answered; rescue rate = rescued / requests whose first attempt failed.',
      ).withOverride({
        matcher: { id: 'byName', options: 'rescue_rate' },
        properties: [
          { id: 'unit', value: 'percentunit' },
          { id: 'custom.axisPlacement', value: 'right' },
        ],
      }),
    )
    .withPanel(
      series(
        ids,
        'Attempts per request',
        'overview/attempts_per_request',
        'short',
        'Average and maximum attempts per sidecar request.',
      ),
    )
    .withPanel(
      series(
        ids,
        'Hedges and ejections',
        'overview/hedges_ejections',
        'short',
        'Hedged attempts started (a second target asked after the group hedge delay) and those that answered; attempts cut off because another answered first (cancelled); ' +
          'slow targets ejected (latency EWMA over 3x the best sibling) and returned after their probe. Ejections are filtered by service only.',
      ).span(24),
    )
    .withPanel(
      rows(
        ids,
        'Retries and fallbacks per target',
        'overview/retries_fallbacks_by_target',
        'Target = index path in the routing config. Retries repeat the same target; fallbacks move to another one.',
      ),
    )
    .withPanel(
      rows(
        ids,
        'Top failing targets',
        'overview/top_failing_targets',
        'The ten targets with the most failed attempts. Click a model to see its failed requests.',
      )
        .withOverride(percent('failure_rate'))
        .withOverride({
          matcher: { id: 'byName', options: 'model' },
          properties: [
            {
              id: 'links',
              value: [
                {
                  title: 'Failed requests of this model',
                  url: '/d/switchyard-llm-explorer/llm-request-explorer?var-model=${__value.raw}&var-status=error&${datasource:queryparam}&${__url_time_range}',
                },
              ],
            },
          ],
        }),
    );

  b.withRow(new dashboard.RowBuilder('Tokens, cost and feedback').id(ids.take()))
    .withPanel(
      series(
        ids,
        'Tokens per model',
        'overview/tokens_by_model',
        'short',
        'Input and output tokens per answering model.',
      ),
    )
    .withPanel(
      series(
        ids,
        'Cost per model',
        'overview/cost_by_model',
        'currencyUSD',
        'Spend per answering model (models without a price add nothing).',
      ),
    )
    .withPanel(
      rows(
        ids,
        'Cost per user and feature',
        'overview/cost_by_user_feature',
        'From the user and feature keys of x-switchyard-metadata.',
      ).withOverride({
        matcher: { id: 'byName', options: 'cost_usd' },
        properties: [{ id: 'unit', value: 'currencyUSD' }],
      }),
    )
    .withPanel(
      rows(
        ids,
        'Feedback score per model',
        'overview/feedback_by_model',
        'POST /v1/feedback values (-10..10) received in the range, per answering model.',
      ).withOverride(percent('negative_share')),
    )
    .withPanel(
      rows(
        ids,
        'Spend by virtual key',
        'overview/spend_by_virtual_key',
        'Per virtual key over the range: requests, those the policy refused (401/403/412/429 before any attempt), cost, tokens, and the fullest budget its requests reserved against (peak). ' +
          'Requests without a key come under (no key). Whole days come from the daily rollup llm_spend_1d. Not filtered by service, provider or model.',
        24,
      )
        .withOverride({
          matcher: { id: 'byName', options: 'virtual_key' },
          properties: [
            { id: 'mappings', value: [{ type: 'special', options: { match: 'empty', result: { text: '(no key)' } } }] },
          ],
        })
        .withOverride({
          matcher: { id: 'byName', options: 'cost_usd' },
          properties: [{ id: 'unit', value: 'currencyUSD' }],
        })
        .withOverride(percent('peak_budget_usage')),
    )
    .withPanel(
      rows(
        ids,
        'Guardrails by check',
        'overview/guardrails_by_check',
        'Per guardrail and check over the range (by the hour, from llm_guardrails_1h): checks run, failures, denials (block: refused with 446), attempts refused for a retry, the failure share and the mean time per check. ' +
          'Filtered by service only. Never the text checked.',
        24,
      ).withOverride(percent('failure_share')),
    )
    .withPanel(
      rows(
        ids,
        'Response cache by config',
        'overview/cache_by_config',
        'Per routing config with a cache, over the range (by the hour, from llm_cache_1h): requests, cacheable ones, hits (semantic among them), misses, forced refreshes, the hit rate, ' +
          "and what the hits saved (the original answers' cost and provider time). Not filtered by service, provider or model.",
        24,
      )
        .withOverride(percent('hit_rate'))
        .withOverride({
          matcher: { id: 'byName', options: 'saved_cost_usd' },
          properties: [{ id: 'unit', value: 'currencyUSD' }],
        })
        .withOverride({
          matcher: { id: 'byName', options: 'saved_seconds' },
          properties: [{ id: 'unit', value: 's' }],
        }),
    );

  return b.build();
}
