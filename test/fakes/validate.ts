// zod validation of request bodies, reduced to one provider-neutral problem that each fake
// words in its provider's own error style.
import type { z } from 'zod';

export interface Problem {
  path: (string | number)[];
  kind: 'missing' | 'type' | 'enum' | 'min' | 'max' | 'other';
  expected?: string;
  input: unknown;
  limit?: number | bigint;
  options?: unknown[];
  origin?: string; // 'array' | 'number' | 'string' for min/max
}

function at(body: unknown, path: PropertyKey[]): unknown {
  let v: unknown = body;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/** Validates `body`; returns the first problem, or the parsed value. */
export function check<T>(
  schema: z.ZodType<T>,
  body: unknown,
): { ok: true; value: T } | { ok: false; problem: Problem } {
  const r = schema.safeParse(body);
  if (r.success) return { ok: true, value: r.data };
  const iss = r.error.issues[0];
  const path = iss.path.filter((p) => typeof p !== 'symbol');

  const input = at(body, path);
  const base = { path, input };
  switch (iss.code) {
    case 'invalid_type':
      return {
        ok: false,
        problem: { ...base, kind: input === undefined ? 'missing' : 'type', expected: iss.expected },
      };
    case 'invalid_value':
      return { ok: false, problem: { ...base, kind: 'enum', options: iss.values } };
    case 'too_small':
      return { ok: false, problem: { ...base, kind: 'min', limit: iss.minimum, origin: iss.origin } };
    case 'too_big':
      return { ok: false, problem: { ...base, kind: 'max', limit: iss.maximum, origin: iss.origin } };
    default:
      return { ok: false, problem: { ...base, kind: 'other' } };
  }
}

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'decimal';
  return typeof v;
}
