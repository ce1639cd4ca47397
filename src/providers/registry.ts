// Provider types → adapters, and target → resolved provider (endpoint + credentials).
import type { FileConfig, TargetSpec } from '../config/schema.js';
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
import type { ProviderAdapter, ResolvedProvider } from './types.js';

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
  ...Object.entries(PRESETS).map(([type, preset]): [string, ProviderAdapter] => [type, new PresetAdapter(type, preset)]),
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
 */
export function resolveProvider(target: TargetSpec, file: FileConfig, simulatedUrls: ReadonlyMap<string, string>): { adapter: ProviderAdapter; provider: ResolvedProvider } {
  const ref = providerRef(target);
  if (!ref) throw new UnknownProviderError('target has no provider');
  const spec = ref.slug !== undefined ? file.providers[ref.slug] : undefined;
  const type = spec?.type ?? ref.type;
  if (!type) throw new UnknownProviderError(`unknown provider "@${ref.slug}"`);
  const adapter = adapters.get(type);
  if (!adapter) throw new UnknownProviderError(`unknown provider "${ref.type ?? ref.slug}" (known types: ${knownProviderTypes().join(', ')})`);
  const slug = spec ? ref.slug! : type;
  const baseUrl = target.custom_host ?? spec?.base_url ?? (type === 'simulated' ? simulatedUrls.get(slug) : undefined) ?? adapter.defaultBaseUrl;
  if (!baseUrl) throw new UnknownProviderError(`provider "${slug}" (${type}) needs a base_url`);
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

/**
 * Load-time check of every provider entry: a known type, and the adapter's own fields (region,
 * deployment, project…). Throws ConfigError naming the field, so a bad file fails at start-up
 * (or is refused on reload) instead of on the first request.
 */
export function checkProviders(file: FileConfig): void {
  for (const [slug, spec] of Object.entries(file.providers)) {
    const adapter = adapters.get(spec.type);
    if (!adapter) throw new ConfigError(`providers.${slug}.type: unknown provider type "${spec.type}" (known: ${knownProviderTypes().join(', ')})`);
    try {
      adapter.checkConfig?.({ slug, type: spec.type, baseUrl: spec.base_url ?? adapter.defaultBaseUrl, apiKey: spec.api_key, headers: spec.headers ?? {}, spec });
    } catch (e) {
      throw new ConfigError((e as Error).message);
    }
  }
}
