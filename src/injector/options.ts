// Injector settings: the names of the annotations it reads and the knobs of the sidecar it
// injects. Every knob comes from a flag or an env var of the injector Deployment, checked by zod.
import { createRequire } from 'node:module';
import { z } from 'zod';

export const ANNOTATION = {
  inject: 'switchyard.dev/inject',
  mode: 'switchyard.dev/sidecar-mode',
  config: 'switchyard.dev/config',
  configKey: 'switchyard.dev/config-key',
  secret: 'switchyard.dev/secret',
  serviceName: 'switchyard.dev/service-name',
  baseUrls: 'switchyard.dev/inject-base-urls',
  status: 'switchyard.dev/status',
} as const;

export const SIDECAR_NAME = 'switchyard-sidecar';
export const CONFIG_VOLUME = 'switchyard-config';
export const TMP_VOLUME = 'switchyard-tmp';
export const CONFIG_MOUNT_PATH = '/etc/switchyard/config';

// Kubernetes quantities: "100m", "0.5", "128Mi", "1G".
const quantity = z.string().regex(/^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/, 'not a Kubernetes quantity');
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'not an env var name');

export const injectorOptionsSchema = z.object({
  image: z.string().min(1),
  imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']),
  port: z.number().int().min(1).max(65535),
  collectorEndpoint: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
  cpuRequest: quantity,
  memoryRequest: quantity,
  cpuLimit: quantity.optional(),
  memoryLimit: quantity,
  secretKeys: z.array(envName).min(1),
});
export type InjectorOptions = z.infer<typeof injectorOptionsSchema>;

export const DEFAULT_SECRET_KEYS = [
  'OPENAI_API_KEY',
  'ANTHROPIC_API_KEY',
  'GEMINI_API_KEY',
  'AZURE_OPENAI_API_KEY',
  'MISTRAL_API_KEY',
  'GROQ_API_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
];

/** This release's version: the injector injects the sidecar of its own release unless told otherwise. */
const RELEASE = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

export const DEFAULT_OPTIONS: InjectorOptions = {
  image: `ghcr.io/switchyard/switchyard-sidecar:${RELEASE}`,
  imagePullPolicy: 'IfNotPresent',
  port: 8790,
  collectorEndpoint: 'http://switchyard-collector.switchyard-system.svc:4318',
  cpuRequest: '50m',
  memoryRequest: '128Mi',
  cpuLimit: '1',
  memoryLimit: '384Mi',
  secretKeys: DEFAULT_SECRET_KEYS,
};

type Flags = Record<string, string | true>;

/** Flag wins over env, env over default. `--cpu-limit none` (or env "none") drops the CPU limit. */
export function loadInjectorOptions(flags: Flags, env: NodeJS.ProcessEnv): InjectorOptions {
  const pick = (flag: string, envName: string): string | undefined => {
    const f = flags[flag];
    if (typeof f === 'string') return f;
    const e = env[envName];
    return e === undefined || e === '' ? undefined : e;
  };
  const cpuLimit = pick('cpu-limit', 'SWITCHYARD_SIDECAR_CPU_LIMIT');
  const port = pick('sidecar-port', 'SWITCHYARD_SIDECAR_PORT');
  const keys = pick('secret-keys', 'SWITCHYARD_SIDECAR_SECRET_KEYS');
  const raw = {
    image: pick('image', 'SWITCHYARD_SIDECAR_IMAGE') ?? DEFAULT_OPTIONS.image,
    imagePullPolicy:
      pick('image-pull-policy', 'SWITCHYARD_SIDECAR_IMAGE_PULL_POLICY') ?? DEFAULT_OPTIONS.imagePullPolicy,
    port: port === undefined ? DEFAULT_OPTIONS.port : Number(port),
    collectorEndpoint: pick('collector-endpoint', 'SWITCHYARD_COLLECTOR_ENDPOINT') ?? DEFAULT_OPTIONS.collectorEndpoint,
    cpuRequest: pick('cpu-request', 'SWITCHYARD_SIDECAR_CPU_REQUEST') ?? DEFAULT_OPTIONS.cpuRequest,
    memoryRequest: pick('memory-request', 'SWITCHYARD_SIDECAR_MEMORY_REQUEST') ?? DEFAULT_OPTIONS.memoryRequest,
    cpuLimit: cpuLimit === 'none' ? undefined : (cpuLimit ?? DEFAULT_OPTIONS.cpuLimit),
    memoryLimit: pick('memory-limit', 'SWITCHYARD_SIDECAR_MEMORY_LIMIT') ?? DEFAULT_OPTIONS.memoryLimit,
    secretKeys:
      keys === undefined
        ? DEFAULT_OPTIONS.secretKeys
        : keys
            .split(',')
            .map((k) => k.trim())
            .filter(Boolean),
  };
  const parsed = injectorOptionsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`invalid injector option ${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}
