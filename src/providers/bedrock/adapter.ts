// Amazon Bedrock Runtime behind the provider interface: Converse / ConverseStream for chat,
// InvokeModel for embeddings; SigV4 (or a Bedrock API key) for auth; binary event streams.
import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import type {
  Operation,
  ParsedResponse,
  ProviderAdapter,
  ProviderError,
  ResolvedProvider,
  StreamDecoder,
  StreamTranslator,
  UpstreamRequest,
} from '../types.js';
import { UnsupportedRequestError } from '../types.js';
import { joinUrl } from '../openai/adapter.js';
import { providerOptions, required } from '../common/spec.js';
import { recall, remember } from '../common/request-context.js';
import { awsCredentials } from './credentials.js';
import { AwsEventStreamDecoder } from './eventstream.js';
import { toConverseRequest } from './request.js';
import { parseBedrockError, toOpenAIChat } from './response.js';
import { signRequest } from './sign.js';
import { BedrockStreamTranslator } from './stream.js';
import { fromInvokeEmbed, toInvokeEmbedBody } from './embeddings.js';
import { JSON_TOOL } from './request.js';

type Json = Record<string, unknown>;

const BedrockSpec = z
  .looseObject({
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region such as us-east-1')
      .optional(),
    access_key_id: z.string().min(16).optional(),
    secret_access_key: z.string().min(1).optional(),
    session_token: z.string().min(1).optional(),
    profile: z.string().min(1).optional(),
  })
  .refine((s) => !s.access_key_id === !s.secret_access_key, {
    message: 'access_key_id and secret_access_key go together',
    path: ['secret_access_key'],
  });

/** Placeholder default; the real host is regional. */
const DEFAULT_BASE = 'https://bedrock-runtime.amazonaws.com';

export class BedrockAdapter implements ProviderAdapter {
  checkConfig(p: ResolvedProvider): void {
    providerOptions(BedrockSpec, p);
  }

  readonly name = 'aws.bedrock';
  readonly defaultBaseUrl = DEFAULT_BASE;

  supports(op: Operation): boolean {
    return op === 'chat' || op === 'embeddings';
  }

  region(p: ResolvedProvider): string {
    const o = providerOptions(BedrockSpec, p);
    return required(o.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION, p, 'region', 'or AWS_REGION');
  }

  private url(p: ResolvedProvider, model: string, action: string): string {
    const base = p.baseUrl === DEFAULT_BASE ? `https://bedrock-runtime.${this.region(p)}.amazonaws.com` : p.baseUrl;
    // Model ids hold ':' and ARNs hold '/': one path segment, encoded as the AWS SDK does.
    return joinUrl(base, `/model/${encodeURIComponent(model)}/${action}`);
  }

  buildRequest(op: Operation, body: Json, p: ResolvedProvider): UpstreamRequest {
    this.region(p); // validate the entry before anything is sent
    const model = String(body.model ?? '');
    if (!model) throw new UnsupportedRequestError('model is required');
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
      ...p.headers,
    };
    if (op === 'embeddings') {
      remember(p, { model, encodingFormat: body.encoding_format });
      return {
        url: this.url(p, model, 'invoke'),
        method: 'POST',
        headers,
        body: JSON.stringify(toInvokeEmbedBody(body, model)),
      };
    }
    if (op !== 'chat') throw new UnsupportedRequestError(`bedrock does not support ${op}`);
    const { request, jsonTool } = toConverseRequest(body);
    remember(p, { model, jsonTool });
    const stream = body.stream === true;
    if (stream) headers.accept = 'application/vnd.amazon.eventstream';
    return {
      url: this.url(p, model, stream ? 'converse-stream' : 'converse'),
      method: 'POST',
      headers,
      body: JSON.stringify(request),
    };
  }

  /** A Bedrock API key (bearer) when given, else SigV4 with the resolved AWS credentials. */
  async authorize(req: UpstreamRequest, p: ResolvedProvider): Promise<UpstreamRequest> {
    const bearer = p.apiKey ?? process.env.AWS_BEARER_TOKEN_BEDROCK;
    if (bearer) return { ...req, headers: { ...req.headers, authorization: `Bearer ${bearer}` } };
    const o = providerOptions(BedrockSpec, p);
    const creds = await awsCredentials(o, p.slug);
    return signRequest(req, this.region(p), creds);
  }

  parseResponse(op: Operation, json: unknown, p: ResolvedProvider): ParsedResponse {
    if (!json || typeof json !== 'object' || Array.isArray(json)) throw new TypeError('response is not a JSON object');
    const ctx = recall(p);
    if (op === 'embeddings') return fromInvokeEmbed(json as Json, ctx.model, ctx.encodingFormat);
    const { body, usage, finishReason } = toOpenAIChat(json as Json, ctx.model, ctx.jsonTool);
    return {
      body,
      usage,
      responseModel: ctx.model || undefined,
      responseId: body.id as string,
      finishReasons: [finishReason],
    };
  }

  parseError(status: number, text: string, headers: IncomingHttpHeaders): ProviderError {
    return parseBedrockError(status, text, headers);
  }

  streamTranslator(_op: Operation, body: Json, includeUsage: boolean): StreamTranslator {
    const rf = (body.response_format as { type?: string } | undefined)?.type;
    const jsonTool = rf === 'json_object' || rf === 'json_schema' ? JSON_TOOL : undefined;
    return new BedrockStreamTranslator(String(body.model ?? ''), jsonTool, includeUsage);
  }

  streamDecoder(): StreamDecoder {
    return new AwsEventStreamDecoder();
  }
}
