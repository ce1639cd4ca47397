// Fake Azure OpenAI: /openai/deployments/{deployment}/{chat/completions|completions|embeddings}?api-version=…
// and the v1 API (/openai/v1/…), api-key header or Entra ID bearer tokens from a fake token
// endpoint (/{tenant}/oauth2/v2.0/token, client credentials). Answers are the fake OpenAI's,
// under the deployment's model name, with Azure's content-filter annotations and error bodies.
import { randomBytes } from 'node:crypto';
import type { Reply } from './faults.js';
import { chatCompletion } from './openai-chat.js';
import {
  bodyField,
  startFakeServer,
  type FakeOptions,
  type FakeServer,
  type Fault,
  type ProviderImpl,
  type RecordedRequest,
} from './server.js';
import { countTokens, embed, nextId } from './text.js';

export const AZURE_API_VERSIONS = ['2024-06-01', '2024-10-21', '2025-01-01-preview', '2025-04-01-preview'];

export interface FakeAzureOptions extends FakeOptions {
  /** deployment name → model it serves. */
  deployments: Record<string, string>;
  entra?: { tenantId: string; clientId: string; clientSecret: string };
}

export interface FakeAzure extends FakeServer {
  tokensIssued: number;
}

const azureError = (status: number, code: string, message: string): Reply => ({
  status,
  json: { error: { code, message } },
});
const FILTER_OK = {
  hate: { filtered: false, severity: 'safe' },
  self_harm: { filtered: false, severity: 'safe' },
  sexual: { filtered: false, severity: 'safe' },
  violence: { filtered: false, severity: 'safe' },
};

/** Azure's additions to OpenAI's answer: the served model's name and content-filter results. */
function azureize(reply: Reply, model: string): Reply {
  if (reply.status >= 400) return reply;
  if (reply.sse) {
    const frames = reply.sse.map((f) => {
      if (!f.startsWith('data: {')) return f;
      const c = JSON.parse(f.slice(6));
      c.model = model;
      for (const ch of c.choices ?? []) ch.content_filter_results = {};
      return `data: ${JSON.stringify(c)}\n\n`;
    });
    const pre = `data: ${JSON.stringify({ choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: [{ prompt_index: 0, content_filter_results: FILTER_OK }] })}\n\n`;
    return { ...reply, sse: [pre, ...frames] };
  }
  const j = reply.json as {
    model?: string;
    prompt_filter_results?: unknown;
    choices?: { content_filter_results?: unknown }[];
  };
  j.model = model;
  j.prompt_filter_results = [{ prompt_index: 0, content_filter_results: FILTER_OK }];
  for (const ch of j.choices ?? []) ch.content_filter_results = FILTER_OK;
  return reply;
}

export async function startFakeAzure(opts: FakeAzureOptions): Promise<FakeAzure> {
  const tokens = new Set<string>();

  const tokenEndpoint = (req: RecordedRequest, tenant: string): Reply => {
    const f = new URLSearchParams(typeof req.body === 'string' ? req.body : '');
    const e = opts.entra;
    if (!e || tenant !== e.tenantId)
      return {
        status: 400,
        json: { error: 'invalid_request', error_description: `AADSTS90002: Tenant '${tenant}' not found.` },
      };
    if (f.get('grant_type') !== 'client_credentials')
      return {
        status: 400,
        json: {
          error: 'unsupported_grant_type',
          error_description: 'AADSTS70003: The app requested an unsupported grant type.',
        },
      };
    if (f.get('client_id') !== e.clientId || f.get('client_secret') !== e.clientSecret) {
      return {
        status: 401,
        json: {
          error: 'invalid_client',
          error_description: `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${f.get('client_id')}'.`,
        },
      };
    }
    if (f.get('scope') !== 'https://cognitiveservices.azure.com/.default')
      return {
        status: 400,
        json: {
          error: 'invalid_scope',
          error_description: 'AADSTS70011: The provided value for the input parameter scope is not valid.',
        },
      };
    const token = `eyJ0eXAi.fake-${randomBytes(10).toString('hex')}`;
    tokens.add(token);
    fake.tokensIssued++;
    return { status: 200, json: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token } };
  };

  const embeddings = (body: { input: string | string[]; dimensions?: number }, model: string): Reply => {
    const inputs: string[] = typeof body.input === 'string' ? [body.input] : body.input;
    const data = inputs.map((s, index) => ({
      object: 'embedding',
      index,
      embedding: Array.from(embed(s, body.dimensions ?? 1536)),
    }));
    const tokens = inputs.reduce((n, s) => n + countTokens(s), 0);
    return {
      status: 200,
      json: { object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } },
    };
  };

  const route = (req: RecordedRequest): Reply => {
    const url = new URL(req.path, 'http://x');
    const t = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(url.pathname);
    if (req.method === 'POST' && t) return tokenEndpoint(req, t[1]);
    let model: string | undefined;
    let op: string;
    const d = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|completions|embeddings)$/.exec(url.pathname);
    const v1 = /^\/openai\/v1\/(chat\/completions|completions|embeddings)$/.exec(url.pathname);
    if (d) {
      const version = url.searchParams.get('api-version');
      if (!version) return azureError(404, '404', 'Resource not found');
      if (!AZURE_API_VERSIONS.includes(version)) return azureError(400, 'BadRequest', 'API version not supported');
      model = opts.deployments[decodeURIComponent(d[1])];
      if (!model)
        return azureError(
          404,
          'DeploymentNotFound',
          'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.',
        );
      op = d[2];
    } else if (v1) {
      op = v1[1];
      const asked = String(bodyField(req.body, 'model'));
      model = Object.values(opts.deployments).includes(asked) ? asked : opts.deployments[asked];
      if (!model) return azureError(404, 'DeploymentNotFound', 'The API deployment for this resource does not exist.');
    } else return azureError(404, '404', 'Resource not found');
    if (typeof req.body !== 'object' || req.body === null)
      return azureError(400, 'BadRequest', 'Could not parse the JSON body of your request.');
    if (op === 'embeddings') return embeddings(req.body as { input: string | string[]; dimensions?: number }, model);

    if (op !== 'chat/completions')
      return azureError(
        400,
        'OperationNotSupported',
        `The completions operation does not work with the specified model, ${model}.`,
      );
    return azureize(chatCompletion({ ...req.body, model }), model);
  };

  const impl: ProviderImpl = {
    precheck: (rec, raw) => {
      if (/\/oauth2\/v2\.0\/token/.test(rec.path)) return undefined;
      const key = raw['api-key'] as string | undefined;
      const bearer = /^Bearer\s+(.+)$/.exec((raw.authorization as string | undefined) ?? '')?.[1];
      if ((key !== undefined && key === opts.apiKey) || (bearer && tokens.has(bearer))) return undefined;
      return azureError(
        401,
        '401',
        'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
      );
    },
    handle: route,
    faultReply: (f: Fault) =>
      f.status === 429
        ? azureError(
            429,
            '429',
            f.message ??
              'Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 1 second.',
          )
        : azureError(
            f.status!,
            f.errorType ?? String(f.status),
            f.message ?? 'The server had an error while processing your request. Sorry about that!',
          ),
    malformedFrame:
      'data: {"id":"chatcmpl-broken","object":"chat.completion.chunk","choices":[{"delta":{"content":\n\n',
    malformedBody:
      '{"id":"chatcmpl-broken","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hel',
    streamErrorFrame: (f: Fault) =>
      `data: ${JSON.stringify({ error: { code: f.errorType ?? '500', message: f.message ?? 'The server had an error while processing your request.' } })}\n\n`,
    commonHeaders: () => ({
      'apim-request-id': nextId(''),
      'x-ms-region': 'Sweden Central',
      'x-ratelimit-remaining-requests': '999',
    }),
  };
  const base = await startFakeServer(impl, opts);
  const fake = Object.assign(base, { tokensIssued: 0 }) as FakeAzure;
  return fake;
}
