// Renders the migration templates. The placeholders are few and explicit:
//   {{database}}                 target database name
//   {{on_cluster}}               '' or " ON CLUSTER 'name'"
//   {{local:NAME}}               NAME on a single node, NAME_local on a cluster (the shard-local table)
//   {{engine:KIND}}              KIND() or ReplicatedKIND('/clickhouse/tables/{shard}/{database}/{table}', '{replica}')
//   {{engine_unsharded:KIND}}    like engine, but every node of the cluster is a replica of one copy
//   {{distributed:NAME:KEY}}     (a whole statement) nothing on a single node; on a cluster a Distributed
//                                table NAME over NAME_local sharded by KEY
//   {{drop_distributed:NAME}}    (a whole statement) nothing on a single node; on a cluster drops the
//                                Distributed table NAME (recreated by {{distributed}} after a change)
//   {{ttl:EXPR}}                 '' or 'TTL EXPR + toIntervalDay(N)' (the exporter's TTL form)
import { z } from 'zod';

const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a plain identifier [A-Za-z_][A-Za-z0-9_]*');

export const renderOptionsSchema = z.object({
  database: identifier.default('switchyard'),
  /** Cluster name (or a macro such as '{cluster}'); unset for a single node. */
  cluster: z
    .string()
    .regex(/^[A-Za-z0-9_{}.-]+$/, 'cluster name may hold letters, digits, _ . - and {macro} braces')
    .optional(),
  ttlDays: z.number().int().nonnegative().optional(),
});
export type RenderOptions = z.input<typeof renderOptionsSchema>;

const KINDS = new Set(['MergeTree', 'AggregatingMergeTree', 'ReplacingMergeTree', 'SummingMergeTree']);

export function render(template: string, input: RenderOptions = {}): string {
  const o = renderOptionsSchema.parse(input);
  const cluster = o.cluster;
  const out = template.replace(/\{\{([a-z_]+)(?::([^}]*))?\}\}/g, (whole, name: string, arg?: string) => {
    switch (name) {
      case 'database':
        return o.database;
      case 'on_cluster':
        return cluster ? ` ON CLUSTER '${cluster}'` : '';
      case 'local':
        return cluster ? `${need(arg, whole)}_local` : need(arg, whole);
      case 'engine':
      case 'engine_unsharded': {
        const kind = need(arg, whole);
        if (!KINDS.has(kind)) throw new Error(`template: unknown engine kind in ${whole}`);
        if (!cluster) return `${kind}()`;
        const path =
          name === 'engine'
            ? '/clickhouse/tables/{shard}/{database}/{table}'
            : '/clickhouse/tables/all/{database}/{table}';
        return `Replicated${kind}('${path}', '{replica}')`;
      }
      case 'distributed': {
        const [table, ...key] = need(arg, whole).split(':');
        if (!cluster) return '';
        const db = o.database;
        return (
          `CREATE TABLE IF NOT EXISTS ${db}.${table} ON CLUSTER '${cluster}' AS ${db}.${table}_local\n` +
          `ENGINE = Distributed('${cluster}', '${db}', '${table}_local', ${key.join(':')})`
        );
      }
      case 'drop_distributed':
        return cluster ? `DROP TABLE IF EXISTS ${o.database}.${need(arg, whole)} ON CLUSTER '${cluster}' SYNC` : '';
      case 'ttl':
        return o.ttlDays ? `TTL ${need(arg, whole)} + toIntervalDay(${o.ttlDays})` : '';
      default:
        throw new Error(`template: unknown placeholder ${whole}`);
    }
  });
  return out;
}

function need(arg: string | undefined, whole: string): string {
  if (!arg) throw new Error(`template: ${whole} needs an argument`);
  return arg;
}
