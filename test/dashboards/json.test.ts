// The committed dashboards and provisioning files: generated (no drift), well-formed for Grafana,
// and consistent with each other (datasource uid, variables, runbook anchors, alert timing).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildArtifacts } from '../../dashboards/build.js';
import { referencedVariables } from '../../src/dashboards/macros.js';
import { listQueries, loadQuery } from '../../src/dashboards/queries.js';
import { type AlertRulesFile, ROOT, readJson, readYaml } from './helpers.js';

const DASHBOARDS = ['dashboards/llm-overview.json', 'dashboards/llm-request-explorer.json'];
const dashboards = DASHBOARDS.map((p) => ({ path: p, d: readJson(p) }));
const rules = readYaml<AlertRulesFile>('deploy/grafana/provisioning/alerting/rules.yaml');
const datasources = readYaml<{ datasources: { uid: string; [k: string]: unknown }[] }>(
  'deploy/grafana/provisioning/datasources/clickhouse.yaml',
);

/** Every string in a JSON value, with its path (to find variable references in links too). */
function strings(v: unknown, out: string[] = []): string[] {
  if (typeof v === 'string') out.push(v);
  else if (Array.isArray(v)) for (const x of v) strings(x, out);
  else if (v && typeof v === 'object') for (const x of Object.values(v)) strings(x, out);
  return out;
}

const seconds = (d: string) => {
  const m = /^(\d+)(s|m|h)$/.exec(d);
  if (!m) throw new Error(`bad duration ${d}`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as 's' | 'm' | 'h'];
};

describe('generated files', () => {
  it('match the generator output (run node --import tsx dashboards/generate.ts)', () => {
    for (const a of buildArtifacts()) {
      const file = join(ROOT, a.path);
      expect(existsSync(file), a.path).toBe(true);
      expect(readFileSync(file, 'utf8'), `${a.path} is stale`).toBe(a.content);
    }
  });

  it('embed every panel query verbatim from dashboards/queries', () => {
    const known = new Set([...listQueries('overview'), ...listQueries('explorer')].map((q) => loadQuery(q)));
    const used = new Set<string>();
    for (const { d } of dashboards)
      for (const p of d.panels.filter((x) => x.type !== 'row'))
        for (const t of p.targets) {
          expect(known.has(t.rawSql), `${p.title}: SQL not from a query file`).toBe(true);
          used.add(t.rawSql);
        }
    expect(used.size, 'a query file no panel uses').toBe(known.size);
  });
});

describe.each(dashboards)('$path', ({ d }) => {
  const panels = d.panels;

  it('has a current schema, a uid and unique panel ids', () => {
    expect(d.schemaVersion).toBeGreaterThanOrEqual(39);
    expect(d.uid).toMatch(/^switchyard-/);
    const ids = panels.map((p) => p.id);
    expect(ids.every((i) => Number.isInteger(i) && i > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    const titles = panels.map((p) => p.title);
    expect(new Set(titles).size, 'panel titles identify panels').toBe(titles.length);
  });

  it('lays panels out inside 24 columns without overlap', () => {
    const cells = new Set<string>();
    for (const p of panels) {
      const { x, y, w, h } = p.gridPos;
      expect(x >= 0 && w > 0 && h > 0 && x + w <= 24, `${p.title} ${JSON.stringify(p.gridPos)}`).toBe(true);
      for (let i = x; i < x + w; i++)
        for (let j = y; j < y + h; j++) {
          expect(cells.has(`${i},${j}`), `${p.title} overlaps`).toBe(false);
          cells.add(`${i},${j}`);
        }
    }
  });

  it('reaches ClickHouse only through the ${datasource} variable', () => {
    const dsVar = d.templating.list.find((v) => v.name === 'datasource');
    expect(dsVar).toMatchObject({ type: 'datasource', query: 'grafana-clickhouse-datasource' });
    for (const p of panels.filter((x) => x.type !== 'row')) {
      expect(p.datasource, p.title).toEqual({ type: 'grafana-clickhouse-datasource', uid: '${datasource}' });
      for (const t of p.targets) {
        expect(t.datasource, p.title).toEqual({ type: 'grafana-clickhouse-datasource', uid: '${datasource}' });
        expect(t).toMatchObject({ editorType: 'sql' });
        expect([0, 1, 3]).toContain(t.format);
      }
    }
    for (const v of d.templating.list.filter((x) => x.type === 'query'))
      expect(v.datasource, v.name).toEqual({ type: 'grafana-clickhouse-datasource', uid: '${datasource}' });
  });

  it('defines every template variable its queries and links use', () => {
    const defined = new Set(d.templating.list.map((v) => v.name));
    const used = new Set(strings(d).flatMap((s) => referencedVariables(s)));
    expect(used.size).toBeGreaterThan(0);
    for (const name of used) expect(defined.has(name), `$${name} is not defined`).toBe(true);
  });

  it('has service and model filters as multi-value variables with All', () => {
    for (const name of ['service', 'model']) {
      const v = d.templating.list.find((x) => x.name === name);
      expect(v, name).toMatchObject({ type: 'query', multi: true, includeAll: true, refresh: 2 });
    }
  });
});

describe('alert rules file', () => {
  const group = rules.groups[0];
  const byUid = Object.fromEntries(group.rules.map((r) => [r.uid, r]));

  it('is Grafana file provisioning (apiVersion 1) evaluated every 30 s to 1 min', () => {
    expect(rules.apiVersion).toBe(1);
    expect(rules.groups).toHaveLength(1);
    expect(group).toMatchObject({ orgId: 1, folder: 'Switchyard' });
    expect(seconds(group.interval)).toBeGreaterThanOrEqual(30);
    expect(seconds(group.interval)).toBeLessThanOrEqual(60);
  });

  it('covers latency, errors, rescues, cost, budgets, feedback and missing data', () => {
    expect(Object.keys(byUid).sort()).toEqual(
      [
        'switchyard-budget-burn',
        'switchyard-cost-burn',
        'switchyard-error-rate',
        'switchyard-guardrail-denials',
        'switchyard-negative-feedback',
        'switchyard-no-data',
        'switchyard-p95-latency',
        'switchyard-rescue-rate',
      ].sort(),
    );
  });

  it('queries the provisioned datasource, then reduces and thresholds', () => {
    const uid = datasources.datasources[0].uid;
    expect(uid).toBe('switchyard-clickhouse');
    expect(datasources.datasources[0]).toMatchObject({
      type: 'grafana-clickhouse-datasource',
      jsonData: { protocol: 'http', host: '127.0.0.1', port: 8123, defaultDatabase: 'switchyard' },
    });
    const alertQueries = new Set(listQueries('alerts').map((q) => loadQuery(q)));
    for (const r of group.rules) {
      expect(r.condition).toBe('C');
      const [a, b, c] = r.data;
      expect(a).toMatchObject({
        refId: 'A',
        datasourceUid: uid,
        model: { datasource: { uid }, editorType: 'sql', format: 1 },
      });
      expect(alertQueries.has(a.model.rawSql), r.uid).toBe(true);
      expect(referencedVariables(a.model.rawSql), `${r.uid}: alerts have no template variables`).toEqual([]);
      expect(a.model.rawSql).not.toContain('$__conditionalAll');
      expect(b).toMatchObject({ refId: 'B', datasourceUid: '__expr__', model: { type: 'reduce', expression: 'A' } });
      expect(c).toMatchObject({ refId: 'C', datasourceUid: '__expr__', model: { type: 'threshold', expression: 'B' } });
      expect(c.model.conditions[0].evaluator.params).toHaveLength(1);
      for (const q of r.data) expect(q.relativeTimeRange).toEqual({ from: a.relativeTimeRange.from, to: 0 });
    }
  });

  it('catches a gray failure fast: 1-2 minute window, for at most 1 minute', () => {
    const p95 = byUid['switchyard-p95-latency'];
    expect(p95.data[0].relativeTimeRange.from).toBeGreaterThanOrEqual(60);
    expect(p95.data[0].relativeTimeRange.from).toBeLessThanOrEqual(120);
    expect(seconds(p95.for)).toBeLessThanOrEqual(60);
  });

  it('carries labels without $ (Grafana interpolates them) and a summary, description and runbook link', () => {
    const runbook = readFileSync(join(ROOT, 'docs/runbook.md'), 'utf8');
    const anchors = new Set(
      [...runbook.matchAll(/^#{2,3} (.+)$/gm)].map((m) =>
        m[1]
          .trim()
          .toLowerCase()
          .replace(/[^a-z0-9 -]/g, '')
          .replace(/ /g, '-'),
      ),
    );
    for (const r of group.rules) {
      expect(r.labels.severity).toMatch(/^(page|ticket)$/);
      expect(JSON.stringify(r.labels)).not.toContain('$');
      expect(r.annotations.summary.length).toBeGreaterThan(10);
      expect(r.annotations.description.length).toBeGreaterThan(20);
      const anchor = r.annotations.runbook_url.split('#')[1];
      expect(anchors.has(anchor), `docs/runbook.md has no section for #${anchor}`).toBe(true);
    }
  });
});

describe('dashboards provider', () => {
  it('loads the JSON folder into a Switchyard folder', () => {
    const p = readYaml<{ apiVersion: number; providers: Record<string, unknown>[] }>(
      'deploy/grafana/provisioning/dashboards/switchyard.yaml',
    );

    expect(p.apiVersion).toBe(1);
    expect(p.providers[0]).toMatchObject({ type: 'file', folder: 'Switchyard', options: { path: expect.any(String) } });
  });
});
