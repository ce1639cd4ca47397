// Every command's flags and environment in one light module (no imports that load code): the
// CLI lists and helps from it without loading a command, and each command parses with its entry.
import { BUDGET_PERIODS } from '../policy/limits/windows.js';
import type { CommandDef, EnvDef, FlagDef } from './options.js';

const config: FlagDef = {
  name: 'config',
  arg: 'FILE',
  env: 'SWITCHYARD_CONFIG',
  default: './switchyard.yaml if present, else examples/simulated.yaml',
  help: 'routing config (YAML or JSON)',
};

const telemetryEnv: EnvDef[] = [
  { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', help: 'where spans go (default http://127.0.0.1:4318)' },
  {
    name: 'OTEL_EXPORTER_OTLP_PROTOCOL',
    help: 'http/protobuf (default) or http/json; the other standard OTEL_* variables apply too',
  },
  { name: 'OTEL_EXPORTER_OTLP_HEADERS', help: 'headers on every export, e.g. authorization=Bearer%20<token>' },
  { name: 'OTEL_SERVICE_NAME', help: 'service.name of the spans' },
  { name: 'OTEL_TRACES_SAMPLER', help: 'the SDK samplers (parentbased_always_on by default)' },
  {
    name: 'SWITCHYARD_TELEMETRY_SPOOL_DIR',
    help: 'where spans wait on disk while the receiver is slower (replayed by the next run; default a per-process tmp dir, dev: <data-dir>/telemetry-spool)',
  },
  {
    name: 'SWITCHYARD_TELEMETRY_SPOOL_BYTES',
    help: 'disk budget of that queue; past it spans are dropped and counted (default 256 MiB)',
  },
  { name: 'SWITCHYARD_LOG_LEVEL', help: 'debug | info | warn | error (default info)' },
];

const clickhouseEnv: EnvDef[] = [
  { name: 'CLICKHOUSE_URL', help: 'a ClickHouse server, e.g. http://localhost:8123' },
  { name: 'CLICKHOUSE_USER', help: 'default "default"' },
  { name: 'CLICKHOUSE_PASSWORD', help: 'default empty' },
  { name: 'CLICKHOUSE_DATABASE', help: 'default switchyard' },
];

const sidecarFlags: FlagDef[] = [
  config,
  { name: 'port', arg: 'N', env: 'SWITCHYARD_PORT', default: '8790', help: 'OpenAI-compatible API port' },
  {
    name: 'host',
    arg: 'HOST',
    env: 'SWITCHYARD_HOST',
    default: '127.0.0.1',
    help: 'listen address; beyond loopback anyone who reaches it calls providers with its keys',
  },
];

const c = (name: string, env: string, help: string, dflt: string, arg = 'N'): FlagDef => ({
  name,
  arg,
  env,
  default: dflt,
  help,
});

export const COLLECTOR_FLAGS: readonly FlagDef[] = [
  c('host', 'SWITCHYARD_COLLECTOR_HOST', 'listen address', '0.0.0.0', 'HOST'),
  c('port', 'SWITCHYARD_COLLECTOR_PORT', 'OTLP/HTTP port', '4318'),
  c('data-dir', 'SWITCHYARD_DATA_DIR', 'embedded store folder', './.switchyard', 'DIR'),
  c('spool-dir', 'SWITCHYARD_SPOOL_DIR', 'outage spool', '<data-dir>/spool', 'DIR'),
  c('max-body-bytes', 'SWITCHYARD_COLLECTOR_MAX_BODY_BYTES', 'request size limit', '20 MiB'),
  c('batch-size', 'SWITCHYARD_COLLECTOR_BATCH_SIZE', 'most rows per store insert', '65536'),
  c('flush-interval-ms', 'SWITCHYARD_COLLECTOR_FLUSH_INTERVAL_MS', "longest wait before a row's insert starts", '2000'),
  c('eager-flush-rows', 'SWITCHYARD_COLLECTOR_EAGER_FLUSH_ROWS', 'rows that start an insert without waiting', '16384'),
  c(
    'max-concurrent-writes',
    'SWITCHYARD_COLLECTOR_MAX_CONCURRENT_WRITES',
    'store inserts in flight while healthy',
    '2',
  ),
  c(
    'concurrent-write-rows',
    'SWITCHYARD_COLLECTOR_CONCURRENT_WRITE_ROWS',
    'rows waiting before an extra insert starts',
    '16384',
  ),
  c(
    'decode-threads',
    'SWITCHYARD_COLLECTOR_DECODE_THREADS',
    'worker threads decoding OTLP bodies, 0 = in the request thread',
    'one per core, at most 4',
  ),
  c(
    'max-buffered-rows',
    'SWITCHYARD_COLLECTOR_MAX_BUFFERED_ROWS',
    'acknowledged rows not yet stored before 429',
    '100000',
  ),
  c('max-spool-bytes', 'SWITCHYARD_COLLECTOR_MAX_SPOOL_BYTES', 'write-ahead spool bound before 503', '1 GiB'),
  c('close-timeout-ms', 'SWITCHYARD_COLLECTOR_CLOSE_TIMEOUT_MS', 'flush bound on shutdown, then spool', '10000'),
  c(
    'headers-timeout-ms',
    'SWITCHYARD_COLLECTOR_HEADERS_TIMEOUT_MS',
    "a request's head must arrive within this",
    '10000',
  ),
  c(
    'request-timeout-ms',
    'SWITCHYARD_COLLECTOR_REQUEST_TIMEOUT_MS',
    'a whole request must arrive within this',
    '30000',
  ),
  c(
    'keep-alive-timeout-ms',
    'SWITCHYARD_COLLECTOR_KEEP_ALIVE_TIMEOUT_MS',
    'idle keep-alive connections close after this',
    '65000',
  ),
  c('max-header-bytes', 'SWITCHYARD_COLLECTOR_MAX_HEADER_BYTES', 'larger request heads get 431', '16384'),
  c(
    'clickhouse-http-host',
    'SWITCHYARD_CLICKHOUSE_HTTP_HOST',
    'embedded mode: ClickHouse HTTP interface address',
    '127.0.0.1',
    'HOST',
  ),
  c('clickhouse-http-port', 'SWITCHYARD_CLICKHOUSE_HTTP_PORT', 'embedded mode: ClickHouse HTTP interface port', '8123'),
  {
    name: 'token-file',
    arg: 'FILE',
    help: 'read the ingest token from FILE (a mounted Secret) instead of SWITCHYARD_COLLECTOR_TOKEN',
  },
];

const injectorFlag = (name: string, env: string, help: string, dflt: string, arg = 'Q'): FlagDef => ({
  name,
  arg,
  env,
  default: dflt,
  help,
});

export const COMMANDS = {
  dev: {
    name: 'dev',
    summary: 'The sidecar, the collector and the embedded ClickHouse in one process (what `npm start` runs).',
    usage: '[flags]',
    flags: [
      ...sidecarFlags.filter((f) => f.name !== 'host'),
      { name: 'host', arg: 'HOST', default: '127.0.0.1', help: 'sidecar listen address' },
      {
        name: 'data-dir',
        arg: 'DIR',
        env: 'SWITCHYARD_DATA_DIR',
        default: './.switchyard',
        help: 'embedded store folder',
      },
      { name: 'otlp-port', arg: 'N', default: '4318', help: "the collector's OTLP/HTTP port (127.0.0.1)" },
      { name: 'clickhouse-http-port', arg: 'N', default: '8123', help: 'ClickHouse HTTP interface port (127.0.0.1)' },
    ],
    env: [...telemetryEnv, ...clickhouseEnv],
  },
  sidecar: {
    name: 'sidecar',
    summary: 'The routing sidecar alone: the OpenAI and Anthropic APIs on 127.0.0.1:8790, spans out over OTLP.',
    usage: '[flags]',
    flags: sidecarFlags,
    env: telemetryEnv,
  },
  collector: {
    name: 'collector',
    summary:
      'OTLP/HTTP receiver, feedback intake and ClickHouse writer. Without CLICKHOUSE_URL it writes the embedded store and serves it on the ClickHouse HTTP interface.',
    usage: '[flags]',
    flags: COLLECTOR_FLAGS,
    env: [
      { name: 'SWITCHYARD_COLLECTOR_TOKEN', help: 'bearer token required on POST /v1/traces (and feedback)' },
      { name: 'SWITCHYARD_FEEDBACK_TOKEN', help: 'bearer token required on POST /v1/feedback' },
      ...clickhouseEnv,
      {
        name: 'SWITCHYARD_CH_<SETTING>',
        help: 'limits of the ClickHouse interface, e.g. SWITCHYARD_CH_MAX_EXECUTION_TIME',
      },
    ],
  },
  demo: {
    name: 'demo',
    summary: 'Simulated providers with injected faults, traffic through the sidecar, then the report.',
    usage: '[flags]',
    flags: [
      { name: 'requests', arg: 'N', default: '300', help: 'requests to send' },
      { name: 'data-dir', arg: 'DIR', default: 'a new temporary folder', help: 'embedded store folder' },
      { ...config, env: undefined, default: 'examples/demo.yaml' },
      {
        name: 'scenario',
        arg: 'NAME',
        default: 'fallback',
        help: 'gray-failure: one provider goes from ~2 s to ~12 s; latency with and without the new routing',
      },
      { name: 'seconds', arg: 'N', default: '60', help: 'gray-failure: seconds of traffic' },
      { name: 'rate', arg: 'N', default: '4', help: 'gray-failure: requests per second to each sidecar' },
    ],
  },
  report: {
    name: 'report',
    summary: 'A terminal summary from the ClickHouse views: latency, rescued requests, cost, feedback.',
    usage: '[flags]',
    flags: [{ name: 'since', arg: 'DURATION', default: '1h', help: 'window, e.g. 15m, 6h, 7d' }],
    env: [
      { ...clickhouseEnv[0], help: 'ClickHouse to read (default http://127.0.0.1:8123)' },
      ...clickhouseEnv.slice(1),
    ],
  },
  migrate: {
    name: 'migrate',
    summary: 'Applies the ClickHouse schema to CLICKHOUSE_URL (the embedded store migrates itself on open).',
    usage: '[flags]',
    flags: [
      { name: 'cluster', arg: 'NAME', help: 'ON CLUSTER and Replicated/Distributed tables' },
      { name: 'ttl-days', arg: 'N', help: 'row TTL of the span tables' },
      { name: 'print', help: 'print the rendered DDL instead of applying it' },
    ],
    env: clickhouseEnv,
  },
  injector: {
    name: 'injector',
    summary:
      'The Kubernetes mutating admission webhook that injects the sidecar. `switchyard injector certs --out DIR` writes a self-signed CA and serving cert.',
    usage: '[certs] [flags]',
    flags: [
      { name: 'tls-cert', arg: 'FILE', env: 'SWITCHYARD_TLS_CERT', help: 'serving certificate (required)' },
      { name: 'tls-key', arg: 'FILE', env: 'SWITCHYARD_TLS_KEY', help: 'its private key (required)' },
      { name: 'port', arg: 'N', env: 'SWITCHYARD_PORT', default: '8443', help: 'HTTPS port' },
      { name: 'host', arg: 'HOST', default: '0.0.0.0', help: 'listen address' },
      injectorFlag(
        'image',
        'SWITCHYARD_SIDECAR_IMAGE',
        'sidecar image',
        'ghcr.io/switchyard/switchyard-sidecar:0.1.0',
        'IMG',
      ),
      injectorFlag(
        'image-pull-policy',
        'SWITCHYARD_SIDECAR_IMAGE_PULL_POLICY',
        'Always | IfNotPresent | Never',
        'IfNotPresent',
        'P',
      ),
      injectorFlag(
        'collector-endpoint',
        'SWITCHYARD_COLLECTOR_ENDPOINT',
        'OTLP endpoint the sidecars export to',
        'http://switchyard-collector.switchyard-system.svc:4318',
        'URL',
      ),
      injectorFlag('sidecar-port', 'SWITCHYARD_SIDECAR_PORT', "the injected sidecar's port", '8790', 'N'),
      injectorFlag('cpu-request', 'SWITCHYARD_SIDECAR_CPU_REQUEST', 'sidecar CPU request', '50m'),
      injectorFlag('memory-request', 'SWITCHYARD_SIDECAR_MEMORY_REQUEST', 'sidecar memory request', '128Mi'),
      injectorFlag('cpu-limit', 'SWITCHYARD_SIDECAR_CPU_LIMIT', 'sidecar CPU limit, or none', '1'),
      injectorFlag('memory-limit', 'SWITCHYARD_SIDECAR_MEMORY_LIMIT', 'sidecar memory limit', '384Mi'),
      injectorFlag(
        'secret-keys',
        'SWITCHYARD_SIDECAR_SECRET_KEYS',
        'env vars the sidecar takes from the secret',
        'OPENAI_API_KEY,ANTHROPIC_API_KEY,…',
        'A,B',
      ),
      { name: 'out', arg: 'DIR', help: 'certs: where to write ca.crt, tls.crt, tls.key and the patch (required)' },
      { name: 'service', arg: 'NAME', default: 'switchyard-injector', help: "certs: the webhook Service's name" },
      { name: 'namespace', arg: 'NS', default: 'switchyard-system', help: "certs: the Service's namespace" },
      { name: 'days', arg: 'N', default: '365', help: 'certs: validity' },
    ],
  },
  keys: {
    name: 'keys',
    summary:
      "Mints a virtual key: prints the key once, then the entry to paste under virtual_keys: (it holds only the key's SHA-256, never the key).",
    usage: 'create NAME [flags]',
    flags: [
      { name: 'providers', arg: 'LIST', default: 'all', help: 'provider allowlist, e.g. @openai-prod,@anthropic-prod' },
      { name: 'models', arg: 'LIST', default: 'all', help: "model globs, e.g. 'gpt-4o*,claude-*'" },
      { name: 'rpm', arg: 'N', help: 'requests per minute' },
      { name: 'tpm', arg: 'N', help: 'tokens per minute' },
      { name: 'budget-usd', arg: 'X', help: 'spending limit in USD per --period' },
      { name: 'period', arg: 'P', help: `${BUDGET_PERIODS.join(' | ')} (with --budget-usd)` },
      { name: 'expires-at', arg: 'ISO', help: 'e.g. 2027-01-01T00:00:00Z' },
    ],
    notes: 'NAME: letters, digits, . _ -',
  },
} satisfies Record<string, CommandDef>;

export type CommandName = keyof typeof COMMANDS;

export function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}
