// bench/dev-latency: added latency of `switchyard dev` (sidecar + collector + embedded store in
// one process, telemetry on) at c=1 over calling the fake upstream directly, alternated in the
// same run; also dev's idle and peak RSS. Run from the checkout to measure (it runs bin/ there).
//   node --import tsx bench/dev-latency.ts [--requests 400] [--rounds 3]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFlags } from '../src/args.js';
import { buildDist, oneAtATime, peakRssMb, rssMb, sleep, spawnWithPort, stop } from './procs.js';
import { loadavg, median, pct } from './stats.js';

const flags = parseFlags(process.argv.slice(2));
const N = Number(flags.requests ?? 400);
const ROUNDS = Number(flags.rounds ?? 3);

buildDist();
const dir = mkdtempSync(join(tmpdir(), 'sy-dev-lat-'));
const upstream = await spawnWithPort(['bench/fake-upstream.ts']);
const cfg = join(dir, 'switchyard.yaml');
writeFileSync(
  cfg,
  `providers: {up: {type: openai, api_key: sk-bench, base_url: "http://127.0.0.1:${upstream.port}/v1"}}\nconfigs: {d: {provider: "@up"}}\ndefault_config: d\ntelemetry: {enabled: true}\n`,
);
const dev = await spawnWithPort(
  ['bin/switchyard.js', 'dev', '--config', cfg, '--port', '0', '--otlp-port', '0', '--clickhouse-http-port', '0'],
  { SWITCHYARD_LOG_LEVEL: 'info', SWITCHYARD_DATA_DIR: join(dir, 'data') },
  /"openai_base_url":"http:\/\/127\.0\.0\.1:(\d+)/,
);
await sleep(3000);
const idle = rssMb(dev.pid);
const direct = `http://127.0.0.1:${upstream.port}`;
const viaDev = `http://127.0.0.1:${dev.port}`;
const added: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 ? [viaDev, direct] : [direct, viaDev];
  const p50 = new Map<string, number>();
  for (const o of order) p50.set(o, pct((await oneAtATime(o, N)).total, 50));
  added.push(p50.get(viaDev)! - p50.get(direct)!);
  console.log(`  round ${r + 1}: direct p50 ${p50.get(direct)!.toFixed(3)} ms, dev ${p50.get(viaDev)!.toFixed(3)} ms`);
}
console.log(
  `dev added p50 at c=1: ${median(added).toFixed(3)} ms (${Math.min(...added).toFixed(3)}–${Math.max(...added).toFixed(3)}); idle RSS ${idle.toFixed(0)} MB, peak ${peakRssMb(dev.pid).toFixed(0)} MB; load ${loadavg()}`,
);
await stop(dev);
await stop(upstream);
rmSync(dir, { recursive: true, force: true });
process.exit(0);
