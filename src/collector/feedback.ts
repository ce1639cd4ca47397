// POST /v1/feedback body: validated with zod and turned into an `llm_feedback` row. Feedback
// is accepted whether or not the trace's spans have arrived yet (the join happens in SQL).
import { z } from 'zod';
import type { FeedbackRow } from '../store/types.js';
import { bearerAuthorized } from './ingest-auth.js';

export const feedbackBody = z.object({
  trace_id: z
    .string({ error: 'trace_id is required and must be a string' })
    .min(1, 'trace_id must not be empty')
    .max(256, 'trace_id must be at most 256 characters'),
  value: z
    .number({ error: 'value is required and must be a number' })
    .min(-10, 'value must be between -10 and 10')
    .max(10, 'value must be between -10 and 10'),
  weight: z
    .number({ error: 'weight must be a number' })
    .min(0, 'weight must be between 0 and 1')
    .max(1, 'weight must be between 0 and 1')
    .default(1),
  metadata: z.record(z.string(), z.string({ error: 'metadata values must be strings' })).default({}),
});

export type FeedbackBody = z.infer<typeof feedbackBody>;

export type FeedbackParse =
  | { ok: true; row: FeedbackRow }
  | { ok: false; param: string; message: string; code: string };

export function parseFeedback(text: string, now = Date.now()): FeedbackParse {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, param: 'body', code: 'invalid_json', message: 'request body must be a JSON object' };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, param: 'body', code: 'invalid_json', message: 'request body must be a JSON object' };
  }
  const parsed = feedbackBody.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const param = issue.path.length > 0 ? issue.path.map(String).join('.') : 'body';
    return { ok: false, param, code: 'invalid_value', message: `${param}: ${issue.message}` };
  }
  const b = parsed.data;
  return {
    ok: true,
    row: { Timestamp: now, TraceId: b.trace_id, Value: b.value, Weight: b.weight, Metadata: b.metadata },
  };
}

/** Bearer-token check in constant time; true when no token is configured. */
export function feedbackAuthorized(expected: string | undefined, authorization: string | undefined): boolean {
  return bearerAuthorized(expected, authorization);
}
