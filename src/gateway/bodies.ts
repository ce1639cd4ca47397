// Request body schemas (OpenAI wire format). Only what routing needs is checked strictly;
// everything else passes through to the provider untouched.
import { z } from 'zod';
import type { Operation } from '../providers/types.js';
import { HttpError } from './errors.js';
import { formatPath } from '../config/errors.js';

const Message = z.object({ role: z.string().min(1) }).passthrough();

const Chat = z
  .object({
    model: z.string().min(1, 'model is required'),
    messages: z.array(Message).min(1, 'messages must be a non-empty array'),
    stream: z.boolean().nullish(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).passthrough().nullish(),
  })
  .passthrough();

const Completion = z
  .object({
    model: z.string().min(1, 'model is required'),
    prompt: z.union([z.string(), z.array(z.string()), z.array(z.number()), z.array(z.array(z.number()))]),
    stream: z.boolean().nullish(),
  })
  .passthrough();

const Embeddings = z
  .object({
    model: z.string().min(1, 'model is required'),
    input: z.union([
      z.string(),
      z.array(z.string()).min(1),
      z.array(z.number()).min(1),
      z.array(z.array(z.number())).min(1),
    ]),
  })
  .passthrough();

const schemas: Record<Operation, z.ZodTypeAny> = { chat: Chat, text_completion: Completion, embeddings: Embeddings };

export function parseBody(op: Operation, body: unknown): Record<string, unknown> {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'request body must be a JSON object', 'invalid_body');
  }
  const r = schemas[op].safeParse(body);
  if (!r.success) {
    const i = r.error.issues[0];
    const path = formatPath(i.path);
    const msg = i.code === 'invalid_type' && i.input === undefined ? `${path} is required` : `${path}: ${i.message}`;
    throw new HttpError(400, msg, 'invalid_body');
  }
  return r.data as Record<string, unknown>;
}
