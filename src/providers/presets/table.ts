// OpenAI-compatible providers: base URLs, gen_ai.provider.name values and the ways each one
// departs from OpenAI's API (from their API references). The adapter applies these quirks so a
// request that works against OpenAI works against them, or fails with a clear 400 first.
type Json = Record<string, unknown>;

export interface Preset {
  /** gen_ai.provider.name (semconv well-known value where one exists). */
  name: string;
  baseUrl: string;
  /** Accepts stream_options.include_usage; without it usage comes on the last chunk anyway, or not at all. */
  streamOptions: boolean;
  /** Which output-limit field it takes; the other one is renamed to it. */
  maxTokensField: 'max_tokens' | 'max_completion_tokens';
  /** Accepts the "developer" role; else developer messages are sent as system messages. */
  developerRole: boolean;
  /** Parameters it rejects (unknown-field errors) that can be dropped without changing the answer. */
  drop?: string[];
  /** Parameters it spells differently. */
  rename?: Record<string, string>;
  /** Requests it cannot serve: a 400 before any upstream call. */
  reject?: Array<{ when: (body: Json) => boolean; message: string }>;
}

const has = (k: string) => (b: Json) => b[k] !== undefined && b[k] !== null;
const nAbove1 = (b: Json) => typeof b.n === 'number' && b.n > 1;
// xAI reasoning models error on these parameters (xAI docs: "not supported by reasoning models").
const xaiReasoning = (b: Json) => /^grok-(4|3-mini|code)/.test(String(b.model ?? ''));

export const PRESETS: Record<string, Preset> = {
  groq: {
    name: 'groq',
    baseUrl: 'https://api.groq.com/openai/v1',
    streamOptions: true,
    maxTokensField: 'max_completion_tokens',
    developerRole: false,
    drop: ['store', 'metadata', 'service_tier'],
    reject: [
      { when: nAbove1, message: 'groq supports only n = 1' },
      { when: (b) => has('logprobs')(b) && b.logprobs !== false, message: 'groq does not support logprobs' },
      { when: has('logit_bias'), message: 'groq does not support logit_bias' },
    ],
  },
  mistral: {
    name: 'mistral_ai',
    baseUrl: 'https://api.mistral.ai/v1',
    streamOptions: false,
    maxTokensField: 'max_tokens',
    developerRole: false,
    // Mistral answers 422 "Extra inputs are not permitted" for fields it does not know.
    drop: [
      'user',
      'store',
      'metadata',
      'service_tier',
      'logprobs',
      'top_logprobs',
      'reasoning_effort',
      'modalities',
      'audio',
    ],
    rename: { seed: 'random_seed' },
    reject: [{ when: has('logit_bias'), message: 'mistral does not support logit_bias' }],
  },
  together: {
    name: 'together_ai',
    baseUrl: 'https://api.together.xyz/v1',
    streamOptions: false,
    maxTokensField: 'max_tokens',
    developerRole: false,
    drop: ['store', 'metadata', 'service_tier'],
  },
  fireworks: {
    name: 'fireworks_ai',
    baseUrl: 'https://api.fireworks.ai/inference/v1',
    streamOptions: false,
    maxTokensField: 'max_tokens',
    developerRole: false,
    drop: ['store', 'metadata', 'service_tier'],
  },
  deepseek: {
    name: 'deepseek',
    baseUrl: 'https://api.deepseek.com/v1',
    streamOptions: true,
    maxTokensField: 'max_tokens',
    developerRole: false,
    drop: ['store', 'metadata', 'service_tier', 'seed', 'user'],
    reject: [
      { when: nAbove1, message: 'deepseek supports only n = 1' },
      { when: has('logit_bias'), message: 'deepseek does not support logit_bias' },
      { when: hasImages, message: 'deepseek chat models do not take images' },
    ],
  },
  openrouter: {
    name: 'openrouter',
    baseUrl: 'https://openrouter.ai/api/v1',
    streamOptions: true,
    maxTokensField: 'max_tokens',
    developerRole: false,
  },
  perplexity: {
    name: 'perplexity',
    baseUrl: 'https://api.perplexity.ai',
    streamOptions: false,
    maxTokensField: 'max_tokens',
    developerRole: false,
    drop: [
      'user',
      'store',
      'metadata',
      'service_tier',
      'seed',
      'stop',
      'logprobs',
      'top_logprobs',
      'parallel_tool_calls',
    ],
    reject: [
      { when: (b) => Array.isArray(b.tools) && b.tools.length > 0, message: 'perplexity does not support tools' },
      { when: has('tool_choice'), message: 'perplexity does not support tool_choice' },
      { when: nAbove1, message: 'perplexity supports only n = 1' },
    ],
  },
  xai: {
    name: 'x_ai',
    baseUrl: 'https://api.x.ai/v1',
    streamOptions: true,
    maxTokensField: 'max_completion_tokens',
    developerRole: true,
    drop: ['store', 'metadata', 'service_tier'],
    reject: [
      {
        when: (b) => xaiReasoning(b) && (has('stop')(b) || has('presence_penalty')(b) || has('frequency_penalty')(b)),
        message: 'xai reasoning models do not support stop, presence_penalty or frequency_penalty',
      },
      {
        when: (b) => /^grok-4/.test(String(b.model ?? '')) && has('reasoning_effort')(b),
        message: 'xai grok-4 models do not support reasoning_effort',
      },
    ],
  },
  ollama: {
    name: 'ollama',
    baseUrl: 'http://127.0.0.1:11434/v1',
    streamOptions: true,
    maxTokensField: 'max_tokens',
    developerRole: false,
  },
  vllm: {
    name: 'vllm',
    baseUrl: 'http://127.0.0.1:8000/v1',
    streamOptions: true,
    maxTokensField: 'max_completion_tokens',
    developerRole: false,
  },
  lmstudio: {
    name: 'lm_studio',
    baseUrl: 'http://127.0.0.1:1234/v1',
    streamOptions: false,
    maxTokensField: 'max_tokens',
    developerRole: false,
    drop: ['store', 'metadata', 'service_tier'],
  },
};

function hasImages(b: Json): boolean {
  const messages = b.messages as Array<{ content?: unknown }> | undefined;
  return !!messages?.some((m) => Array.isArray(m.content) && m.content.some((p) => (p as Json)?.type === 'image_url'));
}
