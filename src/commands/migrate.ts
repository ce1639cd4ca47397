// `switchyard migrate [--cluster NAME] [--ttl-days N] [--print]`: applies the ClickHouse schema
// to CLICKHOUSE_URL (the embedded store migrates itself on open). --print writes the rendered
// DDL instead of applying it.
import { flagString } from '../args.js';
import { COMMANDS } from './definitions.js';
import { parseArgs } from './options.js';
import { renderSchema } from '../store/migrate.js';
import { migrateRemote } from '../store/remote.js';

export async function run(argv: string[]): Promise<void> {
  const { flags } = parseArgs(COMMANDS.migrate, argv);
  const cluster = flagString(flags, 'cluster');
  const ttl = flagString(flags, 'ttl-days');
  const ttlDays = ttl === undefined ? undefined : Number(ttl);
  if (ttlDays !== undefined && (!Number.isInteger(ttlDays) || ttlDays < 0))
    throw new Error('--ttl-days must be a whole number of days');
  const database = process.env.CLICKHOUSE_DATABASE || 'switchyard';
  if (flags.print) {
    process.stdout.write(`${renderSchema({ database, cluster, ttlDays }).join(';\n\n')};\n`);
    return;
  }
  const url = process.env.CLICKHOUSE_URL;
  if (!url) {
    throw new Error(
      'CLICKHOUSE_URL is not set: `switchyard migrate` applies the schema to a ClickHouse server ' +
        '(e.g. CLICKHOUSE_URL=http://localhost:8123). The embedded store needs no migrate: it migrates itself on start.',
    );
  }
  const result = await migrateRemote(
    {
      url,
      username: process.env.CLICKHOUSE_USER || 'default',
      password: process.env.CLICKHOUSE_PASSWORD ?? '',
      database,
    },
    { database, cluster, ttlDays },
  );
  const names = (ms: { file: string }[]) => ms.map((m) => m.file).join(', ') || 'none';
  console.log(`migrate: database ${database}${cluster ? ` on cluster ${cluster}` : ''}`);
  console.log(`  applied: ${names(result.applied)}`);
  console.log(`  already applied: ${result.alreadyApplied.length}`);
}
