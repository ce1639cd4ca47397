// generateContent / streamGenerateContent / batchEmbedContents of the Gemini API (shared by the
// fake Vertex AI): validation as strict as the real API (unknown fields are errors), deterministic
// answers, usage with cached and thinking tokens, SSE framing with "\r\n\r\n".
import { z } from 'zod';
import type { Reply } from './faults.js';
import { applyStop, argsFromSchema, countTokens, embed, nextId, splitDeltas, truncateToTokens } from './text.js';

/** A prompt containing this marker reports half its prompt tokens as cached (implicit caching). */
export const GEMINI_CACHE_MARKER = '[cache]';
/** Thinking models (2.5, 3) report this many thoughts tokens unless the thinking budget is 0. */
export const GEMINI_THOUGHTS_TOKENS = 16;

export function googleError(code: number, status: string, message: string, details?: unknown[]): Reply {
  return { status: code, json: { error: { code, message, status, ...(details ? { details } : {}) } } };
}

const Blob = z.strictObject({ mimeType: z.string().min(1), data: z.string().min(1) });
const FileData = z.strictObject({ mimeType: z.string().optional(), fileUri: z.string().min(1) });
const Part = z
  .strictObject({
    text: z.string().optional(),
    inlineData: Blob.optional(),
    fileData: FileData.optional(),
    functionCall: z
      .strictObject({
        name: z.string().min(1),
        args: z.record(z.string(), z.unknown()).optional(),
        id: z.string().optional(),
      })
      .optional(),
    functionResponse: z
      .strictObject({ name: z.string().min(1), response: z.record(z.string(), z.unknown()), id: z.string().optional() })
      .optional(),
    thought: z.boolean().optional(),
    thoughtSignature: z.string().optional(),
  })
  .refine(
    (p) =>
      ['text', 'inlineData', 'fileData', 'functionCall', 'functionResponse'].filter(
        (k) => (p as Record<string, unknown>)[k] !== undefined,
      ).length === 1,
    'a part must set exactly one of text, inlineData, fileData, functionCall, functionResponse',
  );
const Content = z.strictObject({ role: z.enum(['user', 'model']).optional(), parts: z.array(Part).min(1) });
const GenerationConfig = z.strictObject({
  stopSequences: z.array(z.string()).max(5).optional(),
  maxOutputTokens: z.number().int().min(1).optional(),
  temperature: z.number().min(0).max(2).optional(),
  topP: z.number().min(0).max(1).optional(),
  topK: z.number().int().optional(),
  candidateCount: z.number().int().min(1).max(8).optional(),
  seed: z.number().int().optional(),
  presencePenalty: z.number().optional(),
  frequencyPenalty: z.number().optional(),
  responseMimeType: z.enum(['text/plain', 'application/json', 'text/x.enum']).optional(),
  responseSchema: z.record(z.string(), z.unknown()).optional(),
  responseJsonSchema: z.record(z.string(), z.unknown()).optional(),
  thinkingConfig: z
    .strictObject({ thinkingBudget: z.number().int().optional(), includeThoughts: z.boolean().optional() })
    .optional(),
});
const FunctionDeclaration = z.strictObject({
  name: z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}$/),
  description: z.string().optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  parametersJsonSchema: z.record(z.string(), z.unknown()).optional(),
});
export const GenerateBody = z.strictObject({
  contents: z.array(Content).min(1),
  systemInstruction: z.strictObject({ role: z.string().optional(), parts: z.array(Part).min(1) }).optional(),
  generationConfig: GenerationConfig.optional(),
  tools: z.array(z.strictObject({ functionDeclarations: z.array(FunctionDeclaration).optional() })).optional(),
  toolConfig: z
    .strictObject({
      functionCallingConfig: z.strictObject({
        mode: z.enum(['AUTO', 'ANY', 'NONE', 'VALIDATED']),
        allowedFunctionNames: z.array(z.string()).optional(),
      }),
    })
    .optional(),
  safetySettings: z.array(z.unknown()).optional(),
  cachedContent: z.string().optional(),
});
export type GenerateBody = z.infer<typeof GenerateBody>;

/** Google's wording for a JSON field the API does not know, or a bad value. */
export function invalidPayload(err: z.ZodError): Reply {
  const i = err.issues[0];
  const path = i.path.map(String).join('.');
  if (i.code === 'unrecognized_keys') {
    const name = i.keys[0];
    return googleError(
      400,
      'INVALID_ARGUMENT',
      `Invalid JSON payload received. Unknown name "${name}" at '${path}': Cannot find field.`,
      [
        {
          '@type': 'type.googleapis.com/google.rpc.BadRequest',
          fieldViolations: [
            {
              field: path,
              description: `Invalid JSON payload received. Unknown name "${name}" at '${path}': Cannot find field.`,
            },
          ],
        },
      ],
    );
  }
  return googleError(400, 'INVALID_ARGUMENT', `Invalid value at '${path}': ${i.message}`);
}

function textOfParts(parts: Array<z.infer<typeof Part>>): string {
  return parts
    .map(
      (p) =>
        p.text ??
        (p.functionCall
          ? `${p.functionCall.name} ${JSON.stringify(p.functionCall.args ?? {})}`
          : p.functionResponse
            ? JSON.stringify(p.functionResponse.response)
            : 'media'),
    )
    .join('\n');
}

function checkTurns(b: GenerateBody): Reply | undefined {
  for (let i = 0; i < b.contents.length; i++) {
    const c = b.contents[i];
    const calls = c.parts.filter((p) => p.functionCall).length;
    if (calls === 0) continue;
    const next = b.contents[i + 1];
    if (!next) continue;
    const answers = next.parts.filter((p) => p.functionResponse).length;
    if (answers !== calls) {
      return googleError(
        400,
        'INVALID_ARGUMENT',
        'Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.',
      );
    }
  }
  return undefined;
}

interface Cand {
  text: string;
  calls: Array<{ name: string; args: Record<string, unknown> }>;
  finish: string;
}

function answer(b: GenerateBody, model: string): { cands: Cand[]; usage: Record<string, number> } {
  const last = b.contents[b.contents.length - 1];
  const lastText = last.parts.map((p) => p.text ?? '').join('');
  const decls = (b.tools ?? []).flatMap((t) => t.functionDeclarations ?? []);
  const mode = b.toolConfig?.functionCallingConfig.mode ?? 'AUTO';
  const allowed = b.toolConfig?.functionCallingConfig.allowedFunctionNames;
  const usable = decls.filter((d) => !allowed || allowed.includes(d.name));
  const lastIsUserText = last.role !== 'model' && last.parts.some((p) => p.text !== undefined);
  const wantsTool =
    usable.length > 0 && mode !== 'NONE' && (mode === 'ANY' || (lastIsUserText && /use (a|all) tools?/.test(lastText)));
  const g = b.generationConfig ?? {};
  const n = g.candidateCount ?? 1;
  const promptText = [
    ...(b.systemInstruction ? [textOfParts(b.systemInstruction.parts)] : []),
    ...b.contents.map((c) => textOfParts(c.parts)),
    ...(decls.length ? [JSON.stringify(decls)] : []),
  ].join('\n');
  const prompt = Math.max(1, countTokens(promptText));
  const cands: Cand[] = [];
  for (let i = 0; i < n; i++) {
    if (wantsTool) {
      const chosen = /use all tools/.test(lastText) ? usable : [usable[0]];
      cands.push({
        text: '',
        calls: chosen.map((d) => ({ name: d.name, args: argsFromSchema(d.parametersJsonSchema ?? d.parameters) })),
        finish: 'STOP',
      });
      continue;
    }
    let text: string;
    if (g.responseMimeType === 'application/json') {
      const schema = g.responseJsonSchema ?? g.responseSchema;
      text = JSON.stringify(schema ? argsFromSchema(schema) : { answer: `fake-gemini: ${lastText}` });
    } else text = `Hello from fake-gemini${n > 1 ? ` #${i}` : ''}: ${lastText}`;
    let finish = 'STOP';
    text = applyStop(text, g.stopSequences).text;
    if (g.maxOutputTokens !== undefined && countTokens(text) > g.maxOutputTokens) {
      text = truncateToTokens(text, g.maxOutputTokens);
      finish = 'MAX_TOKENS';
    }
    cands.push({ text, calls: [], finish });
  }
  const out = cands.reduce(
    (s, c) => s + countTokens(c.text) + c.calls.reduce((a, x) => a + countTokens(JSON.stringify(x.args)), 0),
    0,
  );
  const thinking = /gemini-(2\.5|3)/.test(model) && g.thinkingConfig?.thinkingBudget !== 0;
  const usage: Record<string, number> = { promptTokenCount: prompt, candidatesTokenCount: out };
  if (promptText.includes(GEMINI_CACHE_MARKER)) usage.cachedContentTokenCount = Math.floor(prompt / 2);
  if (thinking) usage.thoughtsTokenCount = GEMINI_THOUGHTS_TOKENS;
  usage.totalTokenCount = prompt + out + (usage.thoughtsTokenCount ?? 0);
  if (usage.cachedContentTokenCount !== undefined)
    usage.promptTokensDetails = [{ modality: 'TEXT', tokenCount: prompt }] as never;
  return { cands, usage };
}

function candidateJson(
  c: Cand,
  index: number,
  text: string,
  calls: Cand['calls'],
  finish?: string,
): Record<string, unknown> {
  const parts: Record<string, unknown>[] = [];
  if (text) parts.push({ text });
  for (const call of calls) parts.push({ functionCall: { name: call.name, args: call.args } });
  return { content: { parts, role: 'model' }, ...(finish ? { finishReason: finish } : {}), index };
}

export function generate(body: unknown, model: string, stream: boolean): Reply {
  const v = GenerateBody.safeParse(body);
  if (!v.success) return invalidPayload(v.error);
  const b = v.data;
  const bad = checkTurns(b);
  if (bad) return bad;
  const { cands, usage } = answer(b, model);
  const responseId = nextId('');
  const modelVersion = model;
  if (!stream) {
    return {
      status: 200,
      json: {
        candidates: cands.map((c, i) => candidateJson(c, i, c.text, c.calls, c.finish)),
        usageMetadata: usage,
        modelVersion,
        responseId,
      },
    };
  }
  // Word deltas for every candidate; function calls arrive whole with the last slice.
  const frames: string[] = [];
  const deltas = cands.map((c) => splitDeltas(c.text));
  const steps = Math.max(1, ...deltas.map((d) => d.length));
  const early = { promptTokenCount: usage.promptTokenCount, totalTokenCount: usage.promptTokenCount };
  for (let s = 0; s < steps; s++) {
    const lastStep = s === steps - 1;
    const candidates = cands.map((c, i) =>
      candidateJson(c, i, deltas[i][s] ?? '', lastStep ? c.calls : [], lastStep ? c.finish : undefined),
    );
    frames.push(
      `data: ${JSON.stringify({ candidates, usageMetadata: lastStep ? usage : early, modelVersion, responseId })}\r\n\r\n`,
    );
  }
  return { status: 200, sse: frames };
}

const EmbedBody = z.strictObject({
  requests: z
    .array(
      z.strictObject({
        model: z.string().regex(/^models\//),
        content: z.strictObject({ parts: z.array(z.strictObject({ text: z.string() })).min(1) }),
        outputDimensionality: z.number().int().min(1).max(3072).optional(),
        taskType: z.string().optional(),
      }),
    )
    .min(1)
    .max(100),
});

export function batchEmbed(body: unknown, model: string): Reply {
  const v = EmbedBody.safeParse(body);
  if (!v.success) return invalidPayload(v.error);
  for (const r of v.data.requests) {
    if (r.model !== `models/${model}`)
      return googleError(
        400,
        'INVALID_ARGUMENT',
        `Model in the request (${r.model}) does not match the model in the URL (models/${model}).`,
      );
  }
  return {
    status: 200,
    json: {
      embeddings: v.data.requests.map((r) => ({
        values: Array.from(embed(r.content.parts.map((p) => p.text).join(' '), r.outputDimensionality ?? 3072)),
      })),
    },
  };
}

/** Vertex's :predict for text embeddings (instances → predictions with token statistics). */
export function predictEmbed(body: unknown): Reply {
  const v = z
    .strictObject({
      instances: z.array(z.strictObject({ content: z.string(), task_type: z.string().optional() })).min(1),
      parameters: z
        .strictObject({ outputDimensionality: z.number().int().optional(), autoTruncate: z.boolean().optional() })
        .optional(),
    })
    .safeParse(body);
  if (!v.success) return invalidPayload(v.error);
  const dims = v.data.parameters?.outputDimensionality ?? 768;
  return {
    status: 200,
    json: {
      predictions: v.data.instances.map((i) => ({
        embeddings: {
          values: Array.from(embed(i.content, dims)),
          statistics: { token_count: countTokens(i.content), truncated: false },
        },
      })),
      metadata: { billableCharacterCount: v.data.instances.reduce((s, i) => s + i.content.length, 0) },
    },
  };
}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};
const MESSAGES: Record<number, string> = {
  429: 'You exceeded your current quota, please check your plan and billing details.',
  500: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  503: 'The model is overloaded. Please try again later.',
  504: 'Deadline expired before operation could complete.',
};

export function googleFault(status: number, errorType?: string, message?: string): Reply {
  return googleError(
    status,
    errorType ?? STATUS_NAMES[status] ?? 'UNKNOWN',
    message ?? MESSAGES[status] ?? `Injected fault ${status}`,
  );
}

export function googleStreamError(status: number, errorType?: string, message?: string): string {
  return `data: ${JSON.stringify(googleFault(status, errorType, message).json)}\r\n\r\n`;
}
