// Azure OpenAI: OpenAI's wire format at deployment URLs with an api-version query, and either an
// api-key header or a Microsoft Entra ID bearer token (static, or client credentials → cached token).
import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import type { Operation, ProviderError, ResolvedProvider, UpstreamRequest } from '../types.js';
import { joinUrl, OpenAIAdapter, parseOpenAIError } from '../openai/adapter.js';
import { ProviderConfigError, providerOptions, required } from '../common/spec.js';
import { errorTypeForStatus } from '../common/openai-shapes.js';
import { fetchToken, TokenCache } from '../common/oauth.js';

type Json = Record<string, unknown>;

export const AZURE_DEFAULT_API_VERSION = '2024-10-21';
export const COGNITIVE_SERVICES_SCOPE = 'https://cognitiveservices.azure.com/.default';

const Entra = z.looseObject({
  tenant_id: z.string().min(1).optional(),
  client_id: z.string().min(1).optional(),
  client_secret: z.string().min(1).optional(),
  authority_host: z.string().url().default('https://login.microsoftonline.com'),
  scope: z.string().default(COGNITIVE_SERVICES_SCOPE),
});

const AzureSpec = z.looseObject({
  resource_name: z
    .string()
    .regex(/^[a-zA-Z0-9-]+$/, 'must be the resource name only (the part before .openai.azure.com)')
    .optional(),
  deployment: z.string().min(1).optional(),
  /** model name → deployment name, for configs that route several models to one resource. */
  deployments: z.record(z.string(), z.string().min(1)).optional(),
  api_version: z.string().min(1).default(AZURE_DEFAULT_API_VERSION),
  azure_ad_token: z.string().min(1).optional(),
  entra: Entra.optional(),
});
type AzureSpec = z.infer<typeof AzureSpec>;

const PATHS: Record<Operation, string> = {
  chat: '/chat/completions',
  text_completion: '/completions',
  embeddings: '/embeddings',
};

/** Placeholder default; the real endpoint comes from base_url or resource_name. */
const NO_BASE = 'https://resource-name-required.openai.azure.com';

const tokens = new TokenCache();
export const azureTokenCache = tokens;

export class AzureOpenAIAdapter extends OpenAIAdapter {
  checkConfig(p: ResolvedProvider): void {
    providerOptions(AzureSpec, p);
  }

  constructor() {
    super('azure.ai.openai', NO_BASE);
  }

  private endpoint(p: ResolvedProvider, o: AzureSpec): string {
    if (p.baseUrl !== NO_BASE) return p.baseUrl.replace(/\/openai\/?$/, '');
    return `https://${required(o.resource_name, p, 'resource_name', 'or base_url: https://NAME.openai.azure.com')}.openai.azure.com`;
  }

  override buildRequest(op: Operation, body: Json, p: ResolvedProvider): UpstreamRequest {
    const o = providerOptions(AzureSpec, p);
    const base = super.buildRequest(op, body, p);
    const endpoint = this.endpoint(p, o);
    let url: string;
    if (o.api_version === 'v1') {
      // The v1 API: OpenAI's paths under /openai/v1, model in the body, no api-version.
      url = joinUrl(endpoint, `/openai/v1${PATHS[op]}`);
    } else {
      const model = String(body.model ?? '');
      const deployment = o.deployments?.[model] ?? o.deployment ?? model;
      if (!deployment)
        throw new ProviderConfigError(
          `providers.${p.slug}.deployment: is required for type ${p.type} when the request names no model`,
        );
      url = joinUrl(
        endpoint,
        `/openai/deployments/${encodeURIComponent(deployment)}${PATHS[op]}?api-version=${encodeURIComponent(o.api_version)}`,
      );
    }
    const headers: Record<string, string> = { 'content-type': 'application/json', ...p.headers };
    if (p.apiKey) headers['api-key'] = p.apiKey;
    else if (o.azure_ad_token) headers.authorization = `Bearer ${o.azure_ad_token}`;
    return { ...base, url, headers };
  }

  async authorize(req: UpstreamRequest, p: ResolvedProvider, signal: AbortSignal): Promise<UpstreamRequest> {
    const o = providerOptions(AzureSpec, p);
    if (req.headers['api-key'] || req.headers.authorization || !o.entra) {
      if (!req.headers['api-key'] && !req.headers.authorization) {
        throw new ProviderConfigError(
          `providers.${p.slug}.api_key: is required for type ${p.type} (or azure_ad_token, or entra client credentials)`,
        );
      }
      return req;
    }
    const e = o.entra;
    const tenant = required(e.tenant_id ?? process.env.AZURE_TENANT_ID, p, 'entra.tenant_id', 'or AZURE_TENANT_ID');
    const clientId = required(e.client_id ?? process.env.AZURE_CLIENT_ID, p, 'entra.client_id', 'or AZURE_CLIENT_ID');
    const secret = required(
      e.client_secret ?? process.env.AZURE_CLIENT_SECRET,
      p,
      'entra.client_secret',
      'or AZURE_CLIENT_SECRET',
    );
    const url = joinUrl(e.authority_host, `/${encodeURIComponent(tenant)}/oauth2/v2.0/token`);
    const token = await tokens.get(
      `${url}|${clientId}|${e.scope}`,
      () =>
        fetchToken(url, {
          grant_type: 'client_credentials',
          client_id: clientId,
          client_secret: secret,
          scope: e.scope,
        }),
      signal,
    );
    return { ...req, headers: { ...req.headers, authorization: `Bearer ${token}` } };
  }

  /** Azure's errors are OpenAI-shaped but often carry only `code` (e.g. "429", "DeploymentNotFound", "content_filter"). */
  override parseError(status: number, text: string, _headers?: IncomingHttpHeaders): ProviderError {
    const e = parseOpenAIError(status, text);
    let type = e.type;
    try {
      const j = JSON.parse(text) as { error?: { type?: string } };
      if (!j?.error?.type) type = errorTypeForStatus(status);
    } catch {
      type = errorTypeForStatus(status);
    }
    return { ...e, type };
  }

  override modelsRequest(p: ResolvedProvider): UpstreamRequest {
    const o = providerOptions(AzureSpec, p);
    const base = this.buildRequest('chat', { model: 'x' }, p);
    const v =
      o.api_version === 'v1' ? '/openai/v1/models' : `/openai/models?api-version=${encodeURIComponent(o.api_version)}`;
    return { url: joinUrl(this.endpoint(p, o), v), method: 'GET', headers: base.headers };
  }
}
