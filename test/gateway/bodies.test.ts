// The hot path's in-place body check against the zod schemas it stands in for: on generated
// bodies it must never accept what the schema rejects, and an accepted body must be what the
// schema would have produced.
import { describe, expect, it } from 'vitest';
import { acceptsInPlace, bodySchemas, parseBody } from '../../src/gateway/bodies.js';
import type { Operation } from '../../src/providers/types.js';

// A small deterministic PRNG so a failure names a reproducible case.
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const scalars: unknown[] = ['', 'gpt-4o', 'user', 0, 1.5, -1, true, false, null, undefined];
function value(r: () => number, depth: number): unknown {
  const k = r();
  if (depth <= 0 || k < 0.55) return scalars[Math.floor(r() * scalars.length)];
  if (k < 0.8) return Array.from({ length: Math.floor(r() * 3) }, () => value(r, depth - 1));
  if (k < 0.9) return [1, 2, 3].map(() => (r() < 0.9 ? Math.floor(r() * 100) : 'x'));
  return { role: value(r, depth - 1), content: 'hi', include_usage: value(r, 0) };
}

const fields: Record<Operation, string[]> = {
  chat: ['model', 'messages', 'stream', 'stream_options', 'temperature'],
  text_completion: ['model', 'prompt', 'stream', 'max_tokens'],
  embeddings: ['model', 'input', 'dimensions'],
};

function body(op: Operation, r: () => number): Record<string, unknown> {
  const b: Record<string, unknown> = {};
  for (const f of fields[op]) if (r() < 0.85) b[f] = value(r, 3);
  // Mostly valid bodies too, so both verdicts are exercised.
  if (r() < 0.5) {
    b.model = 'gpt-4o';
    if (op === 'chat') b.messages = [{ role: 'user', content: 'hi' }, ...(r() < 0.3 ? [value(r, 2)] : [])];
    if (op === 'text_completion') b.prompt = r() < 0.5 ? 'hi' : ['a', 'b'];
    if (op === 'embeddings') b.input = r() < 0.5 ? 'hi' : [1, 2];
    if (r() < 0.5) b.stream = r() < 0.8 ? r() < 0.5 : 'yes';
    if (r() < 0.3) b.stream_options = r() < 0.7 ? { include_usage: r() < 0.5 } : [];
  }
  return b;
}

describe('request bodies: the in-place check never accepts what the schema rejects', () => {
  for (const op of ['chat', 'text_completion', 'embeddings'] as Operation[]) {
    it(op, () => {
      const r = rng(20261202);
      let accepted = 0;
      let rejected = 0;
      for (let i = 0; i < 20_000; i++) {
        const b = body(op, r);
        const schema = bodySchemas[op].safeParse(b);
        if (acceptsInPlace[op](b)) {
          accepted++;
          expect(schema.success, JSON.stringify(b)).toBe(true);
          // Used in place, and equal to what the schema's parse makes of it.
          expect(parseBody(op, b)).toBe(b);
          expect(b).toEqual(schema.data);
        } else if (!schema.success) {
          rejected++;
          expect(() => parseBody(op, b)).toThrow();
        }
      }
      expect(accepted).toBeGreaterThan(1000);
      expect(rejected).toBeGreaterThan(1000);
    });
  }
});
