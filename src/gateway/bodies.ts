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

export const bodySchemas: Record<Operation, z.ZodTypeAny> = {
  chat: Chat,
  text_completion: Completion,
  embeddings: Embeddings,
};

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isName = (v: unknown) => typeof v === 'string' && v.length > 0;
const isBoolish = (v: unknown) => v === undefined || v === null || typeof v === 'boolean';
const isStrings = (v: unknown[]) => v.every((x) => typeof x === 'string');
const isNumbers = (v: unknown[]) => v.every((x) => typeof x === 'number' && Number.isFinite(x));

/**
 * The schemas' rules for the common case, checked in place. A body that passes is used as it came
 * (the schema's parse copies every message: several µs a request on the hot path); one that does
 * not goes to the schema, which is the authority and names what is wrong. Never looser than the
 * schema: test/gateway/bodies.test.ts holds the two side by side on generated bodies.
 */
export const acceptsInPlace: Record<Operation, (b: Json) => boolean> = {
  chat: (b) => {
    const m = b.messages;
    const so = b.stream_options;
    return (
      isName(b.model) &&
      Array.isArray(m) &&
      m.length > 0 &&
      m.every((x) => isObject(x) && isName(x.role)) &&
      isBoolish(b.stream) &&
      (so === undefined ||
        so === null ||
        (isObject(so) && (so.include_usage === undefined || typeof so.include_usage === 'boolean')))
    );
  },
  text_completion: (b) => {
    const p = b.prompt;
    return (
      isName(b.model) &&
      isBoolish(b.stream) &&
      (typeof p === 'string' || (Array.isArray(p) && (isStrings(p) || isNumbers(p))))
    );
  },
  embeddings: (b) => {
    const i = b.input;
    return (
      isName(b.model) && (typeof i === 'string' || (Array.isArray(i) && i.length > 0 && (isStrings(i) || isNumbers(i))))
    );
  },
};

export function parseBody(op: Operation, body: unknown): Record<string, unknown> {
  if (!isObject(body)) {
    throw new HttpError(400, 'request body must be a JSON object', 'invalid_body');
  }
  if (acceptsInPlace[op](body)) return body;
  const r = bodySchemas[op].safeParse(body);
  if (!r.success) {
    const i = r.error.issues[0];
    const path = formatPath(i.path);
    const msg = i.code === 'invalid_type' && i.input === undefined ? `${path} is required` : `${path}: ${i.message}`;
    throw new HttpError(400, msg, 'invalid_body');
  }
  return r.data as Record<string, unknown>;
}
