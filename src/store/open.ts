// Picks the store: a ClickHouse server when a URL is given (or CLICKHOUSE_URL is set), else the
// embedded engine in SWITCHYARD_DATA_DIR (default ./.switchyard). The embedded store always
// migrates itself; a server is migrated only on request (`switchyard migrate` is the explicit path).
import { z } from 'zod';
import { EmbeddedStore } from './embedded.js';
import { RemoteStore } from './remote.js';
import type { SpanStore } from './types.js';

export const openStoreOptionsSchema = z.object({
  url: z.string().url().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  dataDir: z.string().min(1).optional(),
  database: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
    .optional(),
  cluster: z.string().optional(),
  /** Remote only: apply migrations before returning. */
  migrate: z.boolean().optional(),
  ttlDays: z.number().int().nonnegative().optional(),
  /** Embedded only: engine caches and pools (src/store/engine-config.ts). */
  engineProfile: z.enum(['default', 'small']).optional(),
});
export type OpenStoreOptions = z.input<typeof openStoreOptionsSchema>;

export async function openStore(input: OpenStoreOptions = {}): Promise<SpanStore> {
  const env = process.env;
  const o = openStoreOptionsSchema.parse({
    ...input,
    url: input.url ?? (env.CLICKHOUSE_URL || undefined),
    username: input.username ?? (env.CLICKHOUSE_USER || undefined),
    password: input.password ?? env.CLICKHOUSE_PASSWORD,
    database: input.database ?? (env.CLICKHOUSE_DATABASE || undefined),
  });
  const database = o.database ?? 'switchyard';
  if (o.url) {
    const store = new RemoteStore({ url: o.url, username: o.username, password: o.password, database });
    if (o.migrate) await store.migrate({ cluster: o.cluster, ttlDays: o.ttlDays });
    return store;
  }
  return EmbeddedStore.open({
    dataDir: o.dataDir ?? (env.SWITCHYARD_DATA_DIR || './.switchyard'),
    database,
    ttlDays: o.ttlDays,
    engineProfile: o.engineProfile,
  });
}
