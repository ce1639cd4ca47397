// Load balancers: pure choices among a group's candidate children given weights, a score per
// child (lower is better) and a random source.
// `latency` is "power of two choices": two distinct weighted draws, the lower score wins. Two
// draws, not the best of all: every balancer that reads the same slightly stale scores would
// otherwise send its whole burst to the one target that looked best, and weights keep their say.

export function weightedPick(candidates: readonly number[], weights: readonly number[], rng: () => number): number {
  const total = candidates.reduce((s, i) => s + weights[i], 0);
  let r = rng() * total;
  for (const i of candidates) {
    r -= weights[i];
    if (r < 0) return i;
  }
  return candidates[candidates.length - 1];
}

export function latencyPick(
  candidates: readonly number[],
  weights: readonly number[],
  score: (i: number) => number,
  rng: () => number,
): number {
  const a = weightedPick(candidates, weights, rng);
  if (candidates.length < 2) return a;
  const rest = candidates.filter((i) => i !== a);
  const b = weightedPick(rest, weights, rng);
  return score(b) < score(a) ? b : a;
}

/** The whole order (hedging needs a next target): the balancer's pick, then the others by successive picks. */
export function rankAll(candidates: readonly number[], pick: (candidates: readonly number[]) => number): number[] {
  const out: number[] = [];
  let left = [...candidates];
  while (left.length > 0) {
    const i = pick(left);
    out.push(i);
    left = left.filter((c) => c !== i);
  }
  return out;
}
