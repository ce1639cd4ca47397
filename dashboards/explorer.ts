// "LLM request explorer": recent requests filtered by service, model, status and metadata
// user/feature; clicking a request's trace id shows its attempts, its whole trace and its feedback.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as table from '@grafana/grafana-foundation-sdk/table';
import { DS_VAR, Format, PanelIds, datasourceVariable, explorerFieldLink, queryVariable, sql } from './clickhouse.js';
import { OVERVIEW_UID } from './overview.js';

export const EXPLORER_UID = 'switchyard-llm-explorer';

function grid(ids: PanelIds, title: string, query: string, description: string, height: number): table.PanelBuilder {
  return new table.PanelBuilder()
    .id(ids.take())
    .title(title)
    .description(description)
    .datasource(DS_VAR)
    .withTarget(sql(query, Format.Table))
    .height(height)
    .span(24);
}

const traceLinks = (field: string) => ({
  matcher: { id: 'byName', options: field },
  properties: [{ id: 'links', value: [explorerFieldLink('Attempts, trace and feedback of this request')] }],
});
const usd = (field: string) => ({
  matcher: { id: 'byName', options: field },
  properties: [{ id: 'unit', value: 'currencyUSD' }],
});

export function buildExplorer(): dashboard.Dashboard {
  const ids = new PanelIds();
  const b = new dashboard.DashboardBuilder('LLM request explorer')
    .uid(EXPLORER_UID)
    .description('Switchyard: find LLM requests by metadata, status and model; follow one to its attempts and trace.')
    .tags(['switchyard', 'llm'])
    .editable()
    .timezone('browser')
    .time({ from: 'now-1h', to: 'now' })
    .link(
      new dashboard.DashboardLinkBuilder('LLM overview')
        .type(dashboard.DashboardLinkType.Link)
        .url(`/d/${OVERVIEW_UID}/llm-overview`)
        .includeVars(false)
        .keepTime(true)
        .icon('dashboard'),
    )
    .withVariable(datasourceVariable())
    .withVariable(queryVariable('service', 'Service'))
    .withVariable(queryVariable('provider', 'Provider'))
    .withVariable(queryVariable('model', 'Model'))
    .withVariable(
      new dashboard.CustomVariableBuilder('status')
        .label('Status')
        .values('ok,rescued,error')
        .multi(true)
        .includeAll(true)
        .current({ text: 'All', value: '$__all', selected: true }),
    )
    .withVariable(queryVariable('user', 'User (metadata)'))
    .withVariable(queryVariable('feature', 'Feature (metadata)'))
    .withVariable(
      new dashboard.TextBoxVariableBuilder('trace_id')
        .label('Trace id')
        .description('x-switchyard-trace-id or W3C trace id; empty shows the most recent requests.')
        .defaultValue(''),
    );

  b.withPanel(
    grid(ids, 'Requests', 'explorer/requests', 'Newest first. Click a trace id to load that request below.', 10)
      .withOverride(traceLinks('request_trace_id'))
      .withOverride(traceLinks('trace_id'))
      .withOverride(usd('cost_usd')),
  )
    .withPanel(
      grid(
        ids,
        'Attempts',
        'explorer/attempts',
        'Every attempt of the selected request in order (or of the latest requests).',
        8,
      ).withOverride(usd('cost_usd')),
    )
    .withPanel(
      new dashboard.PanelBuilder()
        .type('traces')
        .id(ids.take())
        .title('Trace')
        .description("The selected request's whole W3C trace, including the calling service's spans.")
        .datasource(DS_VAR)
        .withTarget(sql('explorer/trace_spans', Format.Trace))
        .height(12)
        .span(24),
    )
    .withPanel(
      grid(
        ids,
        'Feedback',
        'explorer/feedback',
        'POST /v1/feedback for the selected request (or the latest feedback).',
        6,
      ),
    );

  return b.build();
}
