// Grafana unified-alerting rules for Switchyard, in the file-provisioning format (apiVersion 1).
// Each rule: A = ClickHouse SQL (one number per label set, table format), B = reduce, C = threshold.
// Timing of the gray-failure rule (P95): 30 s evaluations over a 2-minute window with `for: 30s`
// fire 52-75 s after a provider slows at 2 req/s (test/dashboards/alerts.test.ts replays it).
import * as alerting from '@grafana/grafana-foundation-sdk/alerting';
import * as expr from '@grafana/grafana-foundation-sdk/expr';
import { DS_TYPE, DS_UID, Format, sql } from './clickhouse.js';

/** Where the runbook is published; the anchors are the section ids of docs/runbook.md. */
export const RUNBOOK_URL = 'https://github.com/switchyard/switchyard/blob/main/docs/runbook.md';
export const ALERT_FOLDER = 'Switchyard';
export const ALERT_GROUP = 'switchyard-llm';
export const EVALUATION_INTERVAL = '30s';

export interface AlertSpec {
  uid: string;
  title: string;
  /** dashboards/queries/alerts/<query>.sql */
  query: string;
  /** Seconds of data the query sees (relativeTimeRange.from). */
  windowSeconds: number;
  /** Grafana threshold evaluator: value > / < / >= threshold. */
  op: 'gt' | 'lt' | 'gte';
  threshold: number;
  for: string;
  severity: 'page' | 'ticket';
  noDataState: 'OK' | 'NoData' | 'Alerting';
  summary: string;
  description: string;
  anchor: string;
}

// Thresholds are starting points: tune them to your traffic, then regenerate.
export const ALERTS: AlertSpec[] = [
  {
    uid: 'switchyard-p95-latency',
    title: 'LLM P95 latency high (gray failure)',
    query: 'p95_latency',
    windowSeconds: 120,
    op: 'gt',
    threshold: 8000,
    for: '30s',
    severity: 'page',
    noDataState: 'OK',
    summary:
      'P95 latency of {{ $labels.provider }} {{ $labels.model }} is {{ printf "%.0f" $values.B.Value }} ms over the last 2 minutes',
    description:
      'Attempts to {{ $labels.provider }} {{ $labels.model }} are answering, but slowly: P95 over 2 minutes is above 8000 ms. ' +
      'Requests still succeed, so error alerts stay quiet. Consider moving traffic off this target.',
    anchor: 'llm-p95-latency-high-gray-failure',
  },
  {
    uid: 'switchyard-error-rate',
    title: 'LLM request error rate high',
    query: 'error_rate',
    windowSeconds: 300,
    op: 'gt',
    threshold: 0.05,
    for: '1m',
    severity: 'page',
    noDataState: 'OK',
    summary:
      '{{ humanizePercentage $values.B.Value }} of LLM requests from {{ $labels.service }} failed over 5 minutes',
    description:
      'More than 5% of sidecar requests from {{ $labels.service }} failed after every retry and fallback: users see errors.',
    anchor: 'llm-request-error-rate-high',
  },
  {
    uid: 'switchyard-rescue-rate',
    title: 'LLM provider failing, fallbacks rescuing',
    query: 'rescue_rate',
    windowSeconds: 300,
    op: 'gt',
    threshold: 0.1,
    for: '1m',
    severity: 'ticket',
    noDataState: 'OK',
    summary:
      '{{ humanizePercentage $values.B.Value }} of requests first sent to {{ $labels.provider }} needed a retry or fallback',
    description:
      'The first attempt to {{ $labels.provider }} fails for more than 10% of requests; retries and fallbacks are still serving users, ' +
      'at extra latency and cost. The provider is degraded.',
    anchor: 'llm-provider-failing-fallbacks-rescuing',
  },
  {
    uid: 'switchyard-cost-burn',
    title: 'LLM spend rate high',
    query: 'cost_burn',
    windowSeconds: 900,
    op: 'gt',
    threshold: 25,
    for: '5m',
    severity: 'ticket',
    noDataState: 'OK',
    summary: '{{ $labels.service }} is spending {{ printf "%.2f" $values.B.Value }} USD/hour on LLM calls',
    description: 'Projected from the last 15 minutes, LLM spend of {{ $labels.service }} is above 25 USD per hour.',
    anchor: 'llm-spend-rate-high',
  },
  {
    uid: 'switchyard-negative-feedback',
    title: 'LLM negative feedback share high',
    query: 'negative_feedback',
    windowSeconds: 1800,
    op: 'gt',
    threshold: 0.25,
    for: '5m',
    severity: 'ticket',
    noDataState: 'OK',
    summary:
      '{{ humanizePercentage $values.B.Value }} of feedback on {{ $labels.provider }} {{ $labels.model }} is negative',
    description:
      'Over 30 minutes, more than 25% of the (weighted) feedback on answers from {{ $labels.provider }} {{ $labels.model }} was negative.',
    anchor: 'llm-negative-feedback-share-high',
  },
  {
    uid: 'switchyard-budget-burn',
    title: 'LLM budget 80% used',
    query: 'budget_burn',
    windowSeconds: 300,
    op: 'gte',
    threshold: 0.8,
    for: '1m',
    severity: 'ticket',
    noDataState: 'OK',
    summary: 'Virtual key {{ $labels.virtual_key }} has used {{ humanizePercentage $values.B.Value }} of a budget',
    description:
      "A request of virtual key {{ $labels.virtual_key }} in the last 5 minutes found one of its budgets (the key's own, its config's or a metadata budget) " +
      "at least 80% used, counting reservations in flight. At 100% the sidecar refuses the key's requests with 412 until the budget period ends.",
    anchor: 'llm-budget-80-used',
  },
  {
    uid: 'switchyard-guardrail-denials',
    title: 'LLM guardrail denials high',
    query: 'guardrail_denials',
    windowSeconds: 300,
    op: 'gt',
    threshold: 0.2,
    for: '2m',
    severity: 'ticket',
    noDataState: 'OK',
    summary:
      'Guardrails denied {{ humanizePercentage $values.B.Value }} of the guarded requests of {{ $labels.service }}',
    description:
      'Over 5 minutes, more than 20% of the requests of {{ $labels.service }} that ran guardrails were denied with 446 (an input check, or every answer, failed a blocking guardrail). ' +
      'Either callers send what a guardrail refuses (abuse, a leaking client) or a guardrail or model changed and now refuses ordinary traffic.',
    anchor: 'llm-guardrail-denials-high',
  },
  {
    uid: 'switchyard-no-data',
    title: 'No LLM data from sidecars',
    query: 'no_data',
    windowSeconds: 3600,
    op: 'lt',
    threshold: 1,
    for: '5m',
    severity: 'page',
    noDataState: 'Alerting',
    summary: 'No LLM request spans from {{ $labels.service }} in the last 5 minutes',
    description:
      '{{ $labels.service }} sent request spans in the last hour but none in the last 5 minutes (or nothing arrived at all): ' +
      'the sidecar, the collector or the store is down, or the service stopped calling LLMs.',
    anchor: 'no-llm-data-from-sidecars',
  },
];

const EXPR_DS = { type: '__expr__', uid: '__expr__' };

function rule(a: AlertSpec): alerting.RuleBuilder {
  return (
    new alerting.RuleBuilder(a.title)
      .uid(a.uid)
      .condition('C')
      .withQuery(
        new alerting.QueryBuilder('A')
          .datasourceUid(DS_UID)
          .relativeTimeRange({ from: a.windowSeconds, to: 0 })
          .model(sql(`alerts/${a.query}`, Format.Table).datasource({ type: DS_TYPE, uid: DS_UID }).forAlerting()),
      )
      .withQuery(
        new alerting.QueryBuilder('B')
          .datasourceUid('__expr__')
          .relativeTimeRange({ from: a.windowSeconds, to: 0 })
          .model(
            new expr.TypeReduceBuilder()
              .refId('B')
              .datasource(EXPR_DS)
              .expression('A')
              .reducer('last')
              .settings({ mode: 'dropNN' }),
          ),
      )
      .withQuery(
        new alerting.QueryBuilder('C')
          .datasourceUid('__expr__')
          .relativeTimeRange({ from: a.windowSeconds, to: 0 })
          .model(
            new expr.TypeThresholdBuilder()
              .refId('C')
              .datasource(EXPR_DS)
              .expression('B')
              .conditions([{ evaluator: { type: a.op, params: [a.threshold] } }]),
          ),
      )
      .noDataState(a.noDataState)
      .execErrState('Error')
      .forDuration(a.for)
      // Labels are env-interpolated by Grafana's provisioning: keep '$' out of them.
      .labels({ severity: a.severity, team: 'llm-platform', source: 'switchyard' })
      .annotations({ summary: a.summary, description: a.description, runbook_url: `${RUNBOOK_URL}#${a.anchor}` })
  );
}

/** The provisioning file (deploy/grafana/provisioning/alerting/rules.yaml) as an object. */
export function buildAlertRules(): Record<string, unknown> {
  const group = new alerting.RuleGroupBuilder(ALERT_GROUP).rules(ALERTS.map(rule)).build();
  // JSON round trip: the SDK's query models carry a marker method that YAML cannot hold.
  return JSON.parse(
    JSON.stringify({
      apiVersion: 1,
      groups: [
        {
          orgId: 1,
          name: group.title,
          folder: ALERT_FOLDER,
          // The file format spells the interval as a duration string (the API model uses seconds).
          interval: EVALUATION_INTERVAL,
          // The API model's folderUID/orgID/ruleGroup come from the group in the file format.
          rules: (group.rules ?? []).map(({ folderUID: _f, orgID: _o, ruleGroup: _g, ...r }) => ({
            ...r,
            isPaused: false,
          })),
        },
      ],
    }),
  ) as Record<string, unknown>;
}
