// Vertex AI (Gemini models on Google Cloud): the Gemini wire format at regional, project-scoped
// URLs, with OAuth bearer tokens from a service account (or a given access token).
import { z } from 'zod';
import type { IncomingHttpHeaders } from 'node:http';
import type { Operation, ParsedResponse, ProviderError, ResolvedProvider, UpstreamRequest } from '../types.js';
import { UnsupportedRequestError } from '../types.js';
import { joinUrl } from '../openai/adapter.js';
import { providerOptions, required } from '../common/spec.js';
import { recall, remember } from '../common/request-context.js';
import { modelPath, modelSegment } from '../common/model-path.js';
import { embeddingInputs, num } from '../common/chat-input.js';
import { embeddingList } from '../common/openai-shapes.js';
import { bareModel, GeminiAdapter } from '../gemini/adapter.js';
import { toGeminiRequest } from '../gemini/request.js';
import { CLOUD_PLATFORM_SCOPE, loadServiceAccount, serviceAccountToken, vertexTokenCache } from './credentials.js';

type Json = Record<string, unknown>;

const VertexSpec = z.looseObject({
  project: z.string().min(1).optional(),
  location: z
    .string()
    .regex(/^[a-z0-9-]+$/, 'must be a region such as us-central1, or global')
    .default('us-central1'),
  credentials: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
  access_token: z.string().min(1).optional(),
  scope: z.string().default(CLOUD_PLATFORM_SCOPE),
});

/** Placeholder default; the real host depends on the location (global has no region prefix). */
const DEFAULT_BASE = 'https://aiplatform.googleapis.com/v1';

export class VertexAdapter extends GeminiAdapter {
  checkConfig(p: ResolvedProvider): void {
    providerOptions(VertexSpec, p);
  }

  override readonly name = 'gcp.vertex_ai';
  override readonly defaultBaseUrl = DEFAULT_BASE;

  private base(p: ResolvedProvider, location: string): string {
    if (p.baseUrl !== DEFAULT_BASE) return p.baseUrl;
    return location === 'global' ? DEFAULT_BASE : `https://${location}-aiplatform.googleapis.com/v1`;
  }

  private modelUrl(p: ResolvedProvider, model: string, method: string): string {
    const o = providerOptions(VertexSpec, p);
    const creds =
      o.credentials && typeof o.credentials === 'object' ? (o.credentials as { project_id?: string }) : undefined;
    const project = required(
      o.project ?? creds?.project_id ?? process.env.GOOGLE_CLOUD_PROJECT,
      p,
      'project',
      'or GOOGLE_CLOUD_PROJECT',
    );
    // A bare name is a Google model; "publishers/x/models/y" is passed as given.
    const path = model.startsWith('publishers/') ? modelPath(model) : `publishers/google/models/${modelSegment(model)}`;
    return joinUrl(this.base(p, o.location), `/projects/${project}/locations/${o.location}/${path}:${method}`);
  }

  protected override headers(p: ResolvedProvider): Record<string, string> {
    return { 'content-type': 'application/json', ...p.headers };
  }

  override buildRequest(op: Operation, body: Json, p: ResolvedProvider): UpstreamRequest {
    const model = bareModel(body.model);
    remember(p, { model, encodingFormat: body.encoding_format });
    if (op === 'embeddings') {
      const dims = num(body.dimensions);
      const req = {
        instances: embeddingInputs(body.input, 'vertex').map((content) => ({ content })),
        ...(dims !== undefined ? { parameters: { outputDimensionality: dims } } : {}),
      };
      return {
        url: this.modelUrl(p, model, 'predict'),
        method: 'POST',
        headers: this.headers(p),
        body: JSON.stringify(req),
      };
    }
    if (op !== 'chat') throw new UnsupportedRequestError(`${this.name} does not support ${op}`);
    const url =
      body.stream === true
        ? `${this.modelUrl(p, model, 'streamGenerateContent')}?alt=sse`
        : this.modelUrl(p, model, 'generateContent');
    return { url, method: 'POST', headers: this.headers(p), body: JSON.stringify(toGeminiRequest(body, 'vertex')) };
  }

  async authorize(req: UpstreamRequest, p: ResolvedProvider, signal: AbortSignal): Promise<UpstreamRequest> {
    const o = providerOptions(VertexSpec, p);
    let token = o.access_token ?? p.apiKey;
    if (!token) {
      const key = await loadServiceAccount(o.credentials, p.slug);
      token = await serviceAccountToken(key, o.scope, signal);
    }
    return { ...req, headers: { ...req.headers, authorization: `Bearer ${token}` } };
  }

  /** A 401 means the cached token was revoked or expired early: drop it so the next attempt fetches a new one. */
  override parseError(status: number, text: string, headers: IncomingHttpHeaders): ProviderError {
    if (status === 401) vertexTokenCache.clear();
    return super.parseError(status, text, headers);
  }

  override parseResponse(op: Operation, json: unknown, p: ResolvedProvider): ParsedResponse {
    if (op !== 'embeddings') return super.parseResponse(op, json, p);
    const ctx = recall(p);
    const preds = (
      json as { predictions?: Array<{ embeddings?: { values?: number[]; statistics?: { token_count?: number } } }> }
    )?.predictions;
    if (!Array.isArray(preds) || preds.some((x) => !Array.isArray(x?.embeddings?.values)))
      throw new TypeError('response has no "predictions[].embeddings.values"');
    const tokens = preds.reduce((s, x) => s + (x.embeddings?.statistics?.token_count ?? 0), 0);
    const usage = { input_tokens: tokens };
    return {
      body: embeddingList(
        preds.map((x) => x.embeddings!.values!),
        ctx.model,
        ctx.encodingFormat,
        usage,
      ),
      usage,
      responseModel: ctx.model,
    };
  }

  /** Google's publisher models (the listing lives on v1beta1); needs authorize() like every call. */
  override modelsRequest(p: ResolvedProvider): UpstreamRequest {
    const o = providerOptions(VertexSpec, p);
    return {
      url: joinUrl(this.base(p, o.location).replace(/\/v1$/, '/v1beta1'), '/publishers/google/models'),
      method: 'GET',
      headers: this.headers(p),
    };
  }
}
