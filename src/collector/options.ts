// `switchyard collector` settings from flags and environment, validated with zod.
// Flags win over environment; everything has a default.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { flagString } from '../args.js';
import { COLLECTOR_FLAGS, COMMANDS } from '../commands/definitions.js';
import { helpText } from '../commands/options.js';
import { COLLECTOR_DEFAULTS } from './server.js';

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();

const schema = z
  .object({
    host: z.string().min(1),
    port,
    dataDir: z.string().min(1),
    spoolDir: z.string().min(1),
    maxBodyBytes: positiveInt,
    batchSize: positiveInt,
    flushIntervalMs: positiveInt,
    eagerFlushRows: positiveInt,
    maxConcurrentWrites: positiveInt,
    concurrentWriteRows: positiveInt,
    decodeThreads: z.coerce.number().int().min(0).max(64),
    maxBufferedRows: positiveInt,
    maxSpoolBytes: positiveInt,
    closeTimeoutMs: positiveInt,
    feedbackToken: z.string().min(1).optional(),
    ingestToken: z.string().min(1).optional(),
    headersTimeoutMs: positiveInt,
    requestTimeoutMs: positiveInt,
    keepAliveTimeoutMs: positiveInt,
    maxHeaderBytes: z.coerce.number().int().min(1024),
    clickhouseHttpHost: z.string().min(1),
    clickhouseHttpPort: port,
  })
  .refine((o) => o.headersTimeoutMs <= o.requestTimeoutMs, {
    path: ['headersTimeoutMs'],
    message: 'must not exceed --request-timeout-ms',
  });

// Each flag's environment variable as src/commands/definitions.ts documents it.
const ENV_OF = new Map(COLLECTOR_FLAGS.map((f) => [f.name, f.env]));

export type CollectorCliOptions = z.infer<typeof schema>;

export const collectorUsage = helpText(COMMANDS.collector);

export function resolveCollectorOptions(
  flags: Record<string, string | true>,
  env: NodeJS.ProcessEnv,
): CollectorCliOptions {
  const pick = (flag: string): string | undefined => {
    const envName = ENV_OF.get(flag);
    return flagString(flags, flag) ?? (envName ? env[envName] || undefined : undefined);
  };
  const dataDir = pick('data-dir') ?? './.switchyard';
  const raw = {
    host: pick('host') ?? COLLECTOR_DEFAULTS.host,
    port: pick('port') ?? COLLECTOR_DEFAULTS.port,
    dataDir,
    spoolDir: pick('spool-dir') ?? path.join(dataDir, 'spool'),
    maxBodyBytes: pick('max-body-bytes') ?? COLLECTOR_DEFAULTS.maxBodyBytes,
    batchSize: pick('batch-size') ?? COLLECTOR_DEFAULTS.batchSize,
    flushIntervalMs: pick('flush-interval-ms') ?? COLLECTOR_DEFAULTS.flushIntervalMs,
    eagerFlushRows: pick('eager-flush-rows') ?? COLLECTOR_DEFAULTS.eagerFlushRows,
    maxConcurrentWrites: pick('max-concurrent-writes') ?? COLLECTOR_DEFAULTS.maxConcurrentWrites,
    concurrentWriteRows: pick('concurrent-write-rows') ?? COLLECTOR_DEFAULTS.concurrentWriteRows,
    decodeThreads: pick('decode-threads') ?? COLLECTOR_DEFAULTS.decodeThreads,
    maxBufferedRows: pick('max-buffered-rows') ?? COLLECTOR_DEFAULTS.maxBufferedRows,
    maxSpoolBytes: pick('max-spool-bytes') ?? COLLECTOR_DEFAULTS.maxSpoolBytes,
    closeTimeoutMs: pick('close-timeout-ms') ?? COLLECTOR_DEFAULTS.closeTimeoutMs,
    // A secret on the command line shows in `ps`: the token comes from the environment only.
    feedbackToken: env.SWITCHYARD_FEEDBACK_TOKEN || undefined,
    ingestToken: ingestToken(flagString(flags, 'token-file'), env),
    headersTimeoutMs: pick('headers-timeout-ms') ?? COLLECTOR_DEFAULTS.headersTimeoutMs,
    requestTimeoutMs: pick('request-timeout-ms') ?? COLLECTOR_DEFAULTS.requestTimeoutMs,
    keepAliveTimeoutMs: pick('keep-alive-timeout-ms') ?? COLLECTOR_DEFAULTS.keepAliveTimeoutMs,
    maxHeaderBytes: pick('max-header-bytes') ?? COLLECTOR_DEFAULTS.maxHeaderBytes,
    clickhouseHttpHost: pick('clickhouse-http-host') ?? '127.0.0.1',
    clickhouseHttpPort: pick('clickhouse-http-port') ?? 8123,
  };
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = String(issue.path[0] ?? 'options').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    throw new Error(`invalid --${field}: ${issue.message}`);
  }
  return parsed.data;
}

/** The OTLP ingest token: a file (a mounted Secret; a flag naming the secret itself would show
 *  in `ps`) or SWITCHYARD_COLLECTOR_TOKEN. */
function ingestToken(file: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (file === undefined) return env.SWITCHYARD_COLLECTOR_TOKEN || undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`invalid --token-file: ${(err as Error).message}`);
  }
  const token = text.trim();
  if (!token) throw new Error(`invalid --token-file: ${file} is empty`);
  return token;
}
