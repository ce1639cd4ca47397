// What a simulated upstream does for one request: a latency drawn from a log-normal fitted to
// p50/p95, and faults drawn from the configured rates (degrading after a delay, for a while or for
// good: game days and the gray-failure demo).
import type { SimulatedSpec } from '../../config/schema.js';

export type Fault =
  | { kind: 'ok'; latencyMs: number }
  | { kind: 'error'; status: number; latencyMs: number }
  | { kind: 'hang' };

type Latency = SimulatedSpec['latency_ms'];

function gaussian(rng: () => number): number {
  const u = 1 - rng();
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export function drawLatency(spec: Latency, rng: () => number = Math.random): number {
  if (typeof spec === 'number') return spec;
  const p50 = Math.max(spec.p50, 0.001);
  const p95 = Math.max(spec.p95 ?? spec.p50, p50);
  const sigma = (Math.log(p95) - Math.log(p50)) / 1.6449;
  return Math.exp(Math.log(p50) + sigma * gaussian(rng));
}

export function decide(spec: SimulatedSpec, elapsedMs: number, rng: () => number = Math.random): Fault {
  const degraded =
    spec.degrade_after_ms !== undefined &&
    elapsedMs >= spec.degrade_after_ms &&
    (spec.degraded_for_ms === undefined || elapsedMs < spec.degrade_after_ms + spec.degraded_for_ms);
  const latency = degraded && spec.degraded_latency_ms !== undefined ? spec.degraded_latency_ms : spec.latency_ms;
  const errorRate = degraded && spec.degraded_error_rate !== undefined ? spec.degraded_error_rate : spec.error_rate;
  if (rng() < spec.timeout_rate) return { kind: 'hang' };
  if (rng() < errorRate) return { kind: 'error', status: spec.error_status, latencyMs: drawLatency(latency, rng) / 4 };
  return { kind: 'ok', latencyMs: drawLatency(latency, rng) };
}
