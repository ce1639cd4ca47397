// Provider types → adapters, and target → resolved provider (endpoint + credentials).
import type { FileConfig, ProviderSpec, TargetSpec } from '../config/schema.js';
import { providerRef } from '../config/load.js';
import { ConfigError } from '../config/errors.js';
import { AnthropicAdapter } from './anthropic/adapter.js';
import { OpenAIAdapter } from './openai/adapter.js';
import { AzureOpenAIAdapter } from './azure/adapter.js';
import { BedrockAdapter } from './bedrock/adapter.js';
import { GeminiAdapter } from './gemini/adapter.js';
import { PresetAdapter } from './presets/adapter.js';
import { PRESETS } from './presets/table.js';
import { VertexAdapter } from './vertex/adapter.js';
import type { ProviderAdapter, ResolvedProvider, UpstreamRequest } from './types.js';

const adapters = new Map<string, ProviderAdapter>([
  ['openai', new OpenAIAdapter('openai', 'https://api.openai.com/v1')],
  ['openai-compatible', new OpenAIAdapter('openai-compatible', '')],
  ['anthropic', new AnthropicAdapter()],
  // Simulated upstreams speak OpenAI's wire format from an in-process server.
  ['simulated', new OpenAIAdapter('simulated', '')],
  ['bedrock', new BedrockAdapter()],
  ['gemini', new GeminiAdapter()],
  ['vertex', new VertexAdapter()],
  ['azure-openai', new AzureOpenAIAdapter()],
  ...Object.entries(PRESETS).map(([type, preset]): [string, ProviderAdapter] => [
    type,
    new PresetAdapter(type, preset),
  ]),
]);

/** Later provider modules add themselves here. */
export function registerProvider(type: string, adapter: ProviderAdapter): void {
  adapters.set(type, adapter);
}

export function adapterFor(type: string): ProviderAdapter | undefined {
  return adapters.get(type);
}

export function knownProviderTypes(): string[] {
  return [...adapters.keys()];
}

export class UnknownProviderError extends Error {
  readonly status = 400;
}

/**
 * Resolves a leaf target. `simulatedUrls` maps simulated provider slugs to their running servers.
 *
 * Credentials go only where the operator sent them: a target whose endpoint is its own (an inline
 * provider type with custom_host, or custom_host away from its provider entry's endpoint, wherever
 * the target came from) gets the target's own api_key and nothing else: not the entry's key,
 * headers or token settings, and not the host's ambient credentials (AWS chain, Google ADC).
 */
export function resolveProvider(
  target: TargetSpec,
  file: FileConfig,
  simulatedUrls: ReadonlyMap<string, string>,
): { adapter: ProviderAdapter; provider: ResolvedProvider } {
  const ref = providerRef(target);
  if (!ref) throw new UnknownProviderError('target has no provider');
  const spec = ref.slug !== undefined && Object.hasOwn(file.providers, ref.slug) ? file.providers[ref.slug] : undefined;
  const type = spec?.type ?? ref.type;
  if (!type) throw new UnknownProviderError(`unknown provider "@${ref.slug}"`);
  const adapter = adapters.get(type);
  if (!adapter)
    throw new UnknownProviderError(
      `unknown provider "${ref.type ?? ref.slug}" (known types: ${knownProviderTypes().join(', ')})`,
    );
  const slug = spec ? ref.slug! : type;
  const configured =
    spec?.base_url ?? (type === 'simulated' ? simulatedUrls.get(slug) : undefined) ?? adapter.defaultBaseUrl;
  const baseUrl = target.custom_host ?? configured;
  if (!baseUrl) throw new UnknownProviderError(`provider "${slug}" (${type}) needs a base_url`);
  const ownEndpoint = target.custom_host !== undefined && (!spec || !sameEndpoint(target.custom_host, configured));
  if (ownEndpoint) {
    return {
      adapter: ownCredentialsOnly(adapter),
      provider: {
        slug,
        type,
        baseUrl,
        apiKey: target.api_key,
        headers: {},
        spec: spec ? withoutCredentials(spec) : { type },
      },
    };
  }
  return {
    adapter,
    provider: {
      slug,
      type,
      baseUrl,
      apiKey: target.api_key ?? spec?.api_key,
      headers: spec?.headers ?? {},
      spec: spec ?? { type },
    },
  };
}

function sameEndpoint(a: string, b: string): boolean {
  const norm = (u: string) => {
    try {
      return new URL(u).href.replace(/\/+$/, '');
    } catch {
      return u.replace(/\/+$/, '');
    }
  };
  return b !== '' && norm(a) === norm(b);
}

/**
 * Provider entry fields that shape a request without being secrets; everything else (api_key,
 * headers, azure_ad_token, entra, AWS keys and profile, Vertex credentials and access_token, and
 * any field an adapter adds later) stays with the entry's own endpoint.
 */
const SHAPE_FIELDS = [
  'type',
  'base_url',
  'api_version',
  'resource_name',
  'deployment',
  'deployments',
  'region',
  'project',
  'location',
  'simulated',
];

// Same object per entry, so adapters' per-spec option cache keeps working.
const stripped = new WeakMap<ProviderSpec, ProviderSpec>();

function withoutCredentials(spec: ProviderSpec): ProviderSpec {
  let s = stripped.get(spec);
  if (!s) {
    s = Object.fromEntries(Object.entries(spec).filter(([k]) => SHAPE_FIELDS.includes(k))) as ProviderSpec;
    stripped.set(spec, s);
  }
  return s;
}

const guarded = new WeakMap<ProviderAdapter, ProviderAdapter>();

/**
 * The adapter with its async auth (SigV4, OAuth tokens) run only when the target brought its own
 * api_key: without one, adapters would fall back to the host's ambient credentials.
 */
function ownCredentialsOnly(adapter: ProviderAdapter): ProviderAdapter {
  const authorize = adapter.authorize;
  if (!authorize) return adapter;
  let g = guarded.get(adapter);
  if (!g) {
    g = Object.create(adapter, {
      authorize: {
        value: (req: UpstreamRequest, p: ResolvedProvider, signal: AbortSignal) =>
          p.apiKey ? authorize.call(adapter, req, p, signal) : Promise.resolve(req),
      },
    }) as ProviderAdapter;
    guarded.set(adapter, g);
  }
  return g;
}

/**
 * Load-time check of every provider entry: a known type, and the adapter's own fields (region,
 * deployment, project…). Throws ConfigError naming the field, so a bad file fails at start-up
 * (or is refused on reload) instead of on the first request.
 */
export function checkProviders(file: FileConfig): void {
  for (const [slug, spec] of Object.entries(file.providers)) {
    const adapter = adapters.get(spec.type);
    if (!adapter)
      throw new ConfigError(
        `providers.${slug}.type: unknown provider type "${spec.type}" (known: ${knownProviderTypes().join(', ')})`,
      );
    try {
      adapter.checkConfig?.({
        slug,
        type: spec.type,
        baseUrl: spec.base_url ?? adapter.defaultBaseUrl,
        apiKey: spec.api_key,
        headers: spec.headers ?? {},
        spec,
      });
    } catch (e) {
      throw new ConfigError((e as Error).message);
    }
  }
}
