// `switchyard report [--since 1h]`: terminal tables from the ClickHouse views, read through
// CLICKHOUSE_URL when set, else the embedded store's HTTP interface at http://127.0.0.1:8123.
import { createClient } from '@clickhouse/client';
import { flagString } from '../args.js';
import { COMMANDS } from './definitions.js';
import { parseArgs } from './options.js';
import { renderReport, type QueryRows } from '../store/report.js';

export { renderReport } from '../store/report.js';

export async function run(argv: string[]): Promise<void> {
  const { flags } = parseArgs(COMMANDS.report, argv);
  const since = flagString(flags, 'since') ?? '1h';
  const url = process.env.CLICKHOUSE_URL || 'http://127.0.0.1:8123';
  const client = createClient({
    url,
    username: process.env.CLICKHOUSE_USER || 'default',
    password: process.env.CLICKHOUSE_PASSWORD ?? '',
    database: process.env.CLICKHOUSE_DATABASE || 'switchyard',
  });
  const query: QueryRows = async (sql) => (await client.query({ query: sql, format: 'JSONEachRow' })).json();
  try {
    process.stdout.write(await renderReport(query, { since }));
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new Error(
      process.env.CLICKHOUSE_URL
        ? `report: cannot read ClickHouse at ${url}: ${msg}`
        : `report: cannot read the embedded store at ${url} (is \`switchyard dev\` or \`collector\` running?): ${msg}`,
      { cause: err },
    );
  } finally {
    await client.close();
  }
}
