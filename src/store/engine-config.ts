// The embedded engine's server configuration (a file: chdb takes server-level settings only
// from a config file, not as arguments). Rewritten on every open, so a change here applies to
// existing data folders.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * 'default': the collector's own process, tuned for ingest throughput.
 * 'small': `switchyard dev`, where the engine shares one process with the sidecar and a
 * developer's data is small: caches and background pools sized for that (peak RSS under load).
 */
export type EngineProfile = 'default' | 'small';

// merge_selector_base 12 instead of 5: merges wait for more parts of a size, so each row is
// rewritten fewer times; bench/ingest.ts measured ~12 % less CPU per span, which two
// concurrent inserts turn into throughput. The part count stays far below the insert limits.
const MERGE_TREE = `  <merge_tree>
    <merge_selector_base>12</merge_selector_base>
  </merge_tree>
`;

// Caches default to gigabytes (mark cache 5 GiB, compiled expressions 128 MiB, query cache
// 1 GiB) and fill as they are used; a dev data set needs a few MB of each. Fewer background
// threads: each one's stack and allocator arena stay resident once used.
const SMALL = `  <mark_cache_size>16777216</mark_cache_size>
  <index_mark_cache_size>0</index_mark_cache_size>
  <uncompressed_cache_size>0</uncompressed_cache_size>
  <index_uncompressed_cache_size>0</index_uncompressed_cache_size>
  <mmap_cache_size>64</mmap_cache_size>
  <compiled_expression_cache_size>8388608</compiled_expression_cache_size>
  <compiled_expression_cache_elements_size>1000</compiled_expression_cache_elements_size>
  <query_cache><max_size_in_bytes>0</max_size_in_bytes></query_cache>
  <background_pool_size>4</background_pool_size>
  <background_merges_mutations_concurrency_ratio>2</background_merges_mutations_concurrency_ratio>
  <background_move_pool_size>1</background_move_pool_size>
  <background_fetches_pool_size>1</background_fetches_pool_size>
  <background_common_pool_size>2</background_common_pool_size>
  <background_schedule_pool_size>4</background_schedule_pool_size>
  <background_message_broker_schedule_pool_size>1</background_message_broker_schedule_pool_size>
  <background_distributed_schedule_pool_size>1</background_distributed_schedule_pool_size>
  <profiles>
    <default>
      <max_threads>2</max_threads>
      <compile_expressions>0</compile_expressions>
      <compile_aggregate_expressions>0</compile_aggregate_expressions>
      <compile_sort_description>0</compile_sort_description>
    </default>
  </profiles>
`;

export function engineConfig(profile: EngineProfile): string {
  return `<clickhouse>\n${MERGE_TREE}${profile === 'small' ? SMALL : ''}</clickhouse>\n`;
}

/** Writes the engine's config file into the data folder; returns its path. */
export function writeEngineConfig(dir: string, profile: EngineProfile): string {
  const file = join(dir, 'switchyard-engine.xml');
  writeFileSync(file, engineConfig(profile));
  return file;
}
