// The simulated provider's script: healthy, degraded from degrade_after_ms for degraded_for_ms,
// then healthy again (the gray-failure demo's provider that slows down for a while).
import { describe, expect, it } from 'vitest';
import { SimulatedSpec } from '../../src/config/schema.js';
import { decide } from '../../src/providers/simulated/behaviour.js';

const spec = SimulatedSpec.parse({
  latency_ms: 2000,
  degrade_after_ms: 10_000,
  degraded_for_ms: 120_000,
  degraded_latency_ms: 12_000,
});
const latency = (elapsedMs: number) => {
  const f = decide(spec, elapsedMs, () => 0.5);
  return f.kind === 'ok' ? f.latencyMs : f.kind;
};

describe('simulated degradation window', () => {
  it('answers in 2 s before, 12 s during and 2 s again after the window', () => {
    expect(latency(9_999)).toBe(2000);
    expect(latency(10_000)).toBe(12_000);
    expect(latency(129_999)).toBe(12_000);
    expect(latency(130_000)).toBe(2000);
  });

  it('without degraded_for_ms the degradation lasts', () => {
    const forGood = SimulatedSpec.parse({ ...spec, degraded_for_ms: undefined });
    expect(decide(forGood, 1e9, () => 0.5)).toEqual({ kind: 'ok', latencyMs: 12_000 });
  });
});
