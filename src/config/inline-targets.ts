// Rules for routing configs that arrive with a request (x-switchyard-config / x-portkey-config
// JSON): they may name the operator's providers, but never move them. A configured provider's
// credentials go only to the endpoint the operator configured.
import type { FileConfig, TargetSpec } from './schema.js';
import { ConfigError, formatPath } from './errors.js';

/**
 * Target fields that decide where a request, and so the provider's credentials, go: the host
 * (custom_host, base_url), the pieces adapters build it from (Azure resource_name, deployment,
 * api_version; Bedrock region; Vertex project, location), where token exchanges go (Azure entra,
 * Vertex credentials), extra headers, and Portkey's spellings of the same. Keep in step with the
 * provider spec fields read in src/providers/<type>/adapter.ts.
 */
export const ENDPOINT_FIELDS = [
  'custom_host',
  'base_url',
  'endpoint',
  'headers',
  // Azure OpenAI
  'resource_name',
  'deployment',
  'deployments',
  'api_version',
  'entra',
  'azure_resource_name',
  'deployment_id',
  'azure_deployment_id',
  'azure_api_version',
  'azure_endpoint_name',
  'azure_foundry_url',
  // Bedrock
  'region',
  'aws_region',
  // Vertex
  'project',
  'location',
  'credentials',
  'vertex_project_id',
  'vertex_region',
  'vertex_service_account_json',
] as const;

/** The configured provider a target names, by "@slug", a bare slug, or virtual_key (either spelling). */
export function configuredSlug(t: TargetSpec, file: FileConfig): string | undefined {
  for (const name of [t.provider, t.virtual_key]) {
    if (typeof name !== 'string') continue;
    const slug = name.startsWith('@') ? name.slice(1) : name;
    if (Object.hasOwn(file.providers, slug)) return slug;
  }
  return undefined;
}

/**
 * Throws a ConfigError naming the first target (at any depth) that names a configured provider
 * and also sets a field that would change its endpoint. Targets with their own endpoint (an
 * inline provider type + custom_host) pass: resolveProvider gives them only their own api_key.
 */
export function checkInlineEndpoints(t: TargetSpec, file: FileConfig, path: PropertyKey[]): void {
  const slug = configuredSlug(t, file);
  if (slug !== undefined) {
    const field = ENDPOINT_FIELDS.find((f) => t[f] !== undefined);
    if (field) {
      throw new ConfigError(
        `${formatPath([...path, field])}: not allowed on a target that names the configured provider "@${slug}": a request's config cannot change where a configured provider's requests and credentials go (to use your own endpoint, name a provider type that is not a configured slug, with custom_host and your own api_key)`,
      );
    }
  }
  t.targets?.forEach((c, i) => {
    checkInlineEndpoints(c, file, [...path, 'targets', i]);
  });
}
