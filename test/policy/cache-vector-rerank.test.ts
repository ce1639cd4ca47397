// The semantic index's graph compares i8 copies; the threshold decision must use exact cosine.
// A stored vector whose i8 copy equals the query's (i8 cosine 1) but whose exact cosine is just
// below the threshold must MISS, and the similarity reported must be the exact one.
import { describe, expect, it } from 'vitest';
import { normalise } from '../../src/policy/cache/semantic.js';
import { dotProduct, EXACT_MAX, VectorIndex } from '../../src/policy/cache/vector-index.js';

const DIMS = 256;

/** usearch's f32 → i8 cast: scaled to norm 127, truncated. */
function toI8(v: Float32Array): Int8Array {
  let n = 0;
  for (const x of v) n += x * x;
  return Int8Array.from(v, (x) => Math.trunc((x * 127) / Math.sqrt(n)));
}

function cosine8(a: Int8Array, b: Int8Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

describe('semantic index: exact re-rank of the graph candidates', () => {
  it('a near-threshold vector that i8 scores above the threshold but exact cosine below misses', () => {
    // e1 plus small components that all round to 0 in i8 (0.0039 x 127 < 0.5).
    const near = new Float32Array(DIMS).fill(0.0039);
    near[0] = 1;
    normalise(near);
    const query = new Float32Array(DIMS);
    query[0] = 1;
    const exact = dotProduct(near, query);
    const threshold = 0.999;
    expect(exact).toBeLessThan(threshold);
    expect(exact).toBeGreaterThan(0.998);
    // The premise: quantised, the two are the same vector.
    expect(cosine8(toI8(near), toI8(query))).toBeCloseTo(1, 6);

    let seed = 3;
    const rnd = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed / 2 ** 32 - 0.5;
    };
    const ix = new VectorIndex({ maxBytes: 1e9 });
    for (let i = 0; i < EXACT_MAX * 2; i++)
      ix.add('p', normalise(Float32Array.from({ length: DIMS }, rnd)) as Float32Array, `r${i}`, 60_000);
    ix.add('p', near, 'near', 60_000);
    expect(ix.usesGraph('p')).toBe(true);

    expect(ix.search('p', query, threshold)).toBeUndefined();
    const m = ix.search('p', query, 0.99);
    expect(m?.key).toBe('near');
    expect(m?.similarity).toBeCloseTo(exact, 6);
    // At or above the exact similarity it hits (>=, not >).
    expect(ix.search('p', query, exact)?.key).toBe('near');
  });
});
