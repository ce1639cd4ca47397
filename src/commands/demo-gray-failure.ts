// `switchyard demo --scenario gray-failure`: the seed's incident. Two simulated providers answer
// in about 2 s; one slows to about 12 s without failing (examples/gray-failure.yaml). The same
// open-loop traffic goes to two sidecars side by side: one balancing by weight with ejection
// off (before), one balancing by latency with ejection and hedging (after). Prints end-to-end
// p50/p95/p99 of each; real time, about `seconds` + 15 s.
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import type { LoadedConfig } from '../config/load.js';
import { Sidecar } from '../gateway/sidecar.js';
import { loadOrExit } from './common.js';

export const GRAY_FAILURE_CONFIG = fileURLToPath(new URL('../../examples/gray-failure.yaml', import.meta.url));

interface Result {
  sentAt: number;
  ms: number;
  status: number;
  provider: string;
  attempts: number;
}

/** p-th percentile, nearest rank. */
function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : Number.NaN;
}

async function send(base: string, config: string, i: number): Promise<Omit<Result, 'sentAt'>> {
  const t0 = performance.now();
  try {
    const r = await request(`${base}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-switchyard-config': config },
      body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: `question ${i}` }] }),
    });
    await r.body.text();
    return {
      ms: performance.now() - t0,
      status: r.statusCode,
      provider: String(r.headers['x-switchyard-provider'] ?? ''),
      attempts: Number(r.headers['x-switchyard-attempts'] ?? 0),
    };
  } catch {
    return { ms: performance.now() - t0, status: 0, provider: '', attempts: 0 };
  }
}

export async function runGrayFailure(opts: { seconds: number; rate: number; config?: string }): Promise<void> {
  const loaded = await loadOrExit(opts.config ?? GRAY_FAILURE_CONFIG);
  // "Before": the same file without the new routing's ejection (it is global to a sidecar).
  const before: LoadedConfig = {
    ...loaded,
    file: { ...loaded.file, ejection: { ...loaded.file.ejection, enabled: false } },
  };
  const arms = [
    { name: 'before (weights)', config: 'fixed', sc: new Sidecar({ config: before, port: 0 }) },
    { name: 'after (latency, ejection, hedging)', config: 'gray', sc: new Sidecar({ config: loaded, port: 0 }) },
  ];
  const bases = await Promise.all(arms.map(async (a) => `http://127.0.0.1:${await a.sc.listen()}`));
  const degradeAt = loaded.file.providers.flaky?.simulated?.degrade_after_ms;
  console.log(
    `demo: gray failure: ${opts.rate} requests/s to each of two sidecars for ${opts.seconds} s; ` +
      `one provider goes from ~2 s to ~12 s${degradeAt !== undefined ? ` after ${degradeAt / 1000} s` : ''} (timeout 15 s)…`,
  );
  const results: Result[][] = arms.map(() => []);
  const pending: Promise<void>[] = [];
  const t0 = Date.now();
  try {
    const total = Math.round(opts.rate * opts.seconds);
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / opts.rate;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      const sentAt = Date.now() - t0;
      arms.forEach((a, k) => {
        pending.push(send(bases[k], a.config, i).then((r) => void results[k].push({ sentAt, ...r })));
      });
    }
    await Promise.all(pending);
  } finally {
    await Promise.all(arms.map((a) => a.sc.close()));
  }
  const row = (cells: string[]) =>
    `  ${cells[0].padEnd(36)}${cells
      .slice(1)
      .map((c) => c.padStart(9))
      .join('')}`;
  console.log(`\n${row(['routing', 'requests', 'p50 s', 'p95 s', 'p99 s', 'slow', 'hedged', 'failed'])}`);
  arms.forEach((a, k) => {
    const rs = results[k];
    const ok = rs.filter((r) => r.status === 200).map((r) => r.ms / 1000);
    const share = (n: number) => `${((100 * n) / Math.max(1, rs.length)).toFixed(1)} %`;
    console.log(
      row([
        a.name,
        String(rs.length),
        pct(ok, 50).toFixed(2),
        pct(ok, 95).toFixed(2),
        pct(ok, 99).toFixed(2),
        share(rs.filter((r) => r.provider === 'flaky').length),
        share(rs.filter((r) => r.attempts > 1).length),
        share(rs.filter((r) => r.status !== 200).length),
      ]),
    );
  });
  const p99 = results.map((rs) =>
    pct(
      rs.filter((r) => r.status === 200).map((r) => r.ms),
      99,
    ),
  );
  console.log(
    `\n  p99 after / before: ${(p99[1] / p99[0]).toFixed(2)}  ("slow": answered by the provider that slowed down; "hedged": a second provider was asked)`,
  );
}
