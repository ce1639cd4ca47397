// bench/overhead-messages: the Messages route. The fake Anthropic API directly vs POST
// /v1/messages through a sidecar (telemetry off, passed through as is), alternated with the
// chat route (fake OpenAI, directly vs through a sidecar) for comparison, in one run.
//   node --import tsx bench/overhead-messages.ts [--rounds 3] [--seconds 3] [--latency-requests 1000]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFlags } from '../src/args.js';
import { buildDist, CHAT, load, oneAtATime, type Payload, type Proc, spawnWithPort, stop } from './procs.js';
import { loadavg, median, pct } from './stats.js';

const flags = parseFlags(process.argv.slice(2));
const ROUNDS = Number(flags.rounds ?? 3);
const SECONDS = Number(flags.seconds ?? 3);
const LAT_N = Number(flags['latency-requests'] ?? 1000);
const MESSAGES: Payload = {
  path: '/v1/messages',
  body: JSON.stringify({
    model: 'claude-sonnet-4-6',
    max_tokens: 64,
    messages: [{ role: 'user', content: 'benchmark me' }],
  }),
  headers: { 'content-type': 'application/json', 'x-api-key': 'sk-bench', 'anthropic-version': '2023-06-01' },
};

buildDist();
const dir = mkdtempSync(join(tmpdir(), 'sy-messages-'));
const procs: Proc[] = [];
async function sidecar(name: string, provider: string): Promise<Proc> {
  const cfg = join(dir, `${name}.yaml`);
  writeFileSync(
    cfg,
    `providers: {p: ${provider}}\nconfigs: {d: {provider: "@p"}}\ndefault_config: d\ntelemetry: {enabled: false}\n`,
  );
  const p = await spawnWithPort(['bin/switchyard.js', 'sidecar', '--config', cfg, '--port', '0'], {
    SWITCHYARD_LOG_LEVEL: 'info',
  });
  procs.push(p);
  return p;
}
const ant = await spawnWithPort(['bench/fake-upstream.ts', 'anthropic']);
const oai = await spawnWithPort(['bench/fake-upstream.ts']);
procs.push(ant, oai);
const antSc = await sidecar('ant', `{type: anthropic, api_key: sk-bench, base_url: "http://127.0.0.1:${ant.port}/v1"}`);
const oaiSc = await sidecar('oai', `{type: openai, api_key: sk-bench, base_url: "http://127.0.0.1:${oai.port}/v1"}`);

const targets: Record<string, { origin: string; payload: Payload; pid?: number }> = {
  'messages direct': { origin: `http://127.0.0.1:${ant.port}`, payload: MESSAGES },
  'messages via sidecar': { origin: `http://127.0.0.1:${antSc.port}`, payload: MESSAGES, pid: antSc.pid },
  'chat direct': { origin: `http://127.0.0.1:${oai.port}`, payload: CHAT },
  'chat via sidecar': { origin: `http://127.0.0.1:${oaiSc.port}`, payload: CHAT, pid: oaiSc.pid },
};
const rps: Record<string, number[]> = {};
const cpu: Record<string, number[]> = {};
const p50: Record<string, number[]> = {};
const p99: Record<string, number[]> = {};
for (const n of Object.keys(targets)) [rps[n], cpu[n], p50[n], p99[n]] = [[], [], [], []];
console.log(`bench/overhead-messages: ${ROUNDS} rounds × ${SECONDS}s, alternating; load ${loadavg()}`);
for (let round = 0; round < ROUNDS; round++) {
  for (const [n, t] of Object.entries(targets)) {
    const l = await load(t.origin, 50, SECONDS, t.pid, t.payload);
    rps[n].push(l.rps);
    cpu[n].push(l.cpuUsPerReq);
    const lat = await oneAtATime(t.origin, LAT_N, t.payload);
    p50[n].push(pct(lat.total, 50));
    p99[n].push(pct(lat.total, 99));
  }
  console.log(`  round ${round + 1}/${ROUNDS} done (load ${loadavg()})`);
}
for (const route of ['messages', 'chat']) {
  const via = `${route} via sidecar`;
  const d = `${route} direct`;
  console.log(
    `${route.padEnd(8)} through the sidecar: c=50 ${((median(rps[via]) / median(rps[d])) * 100).toFixed(1)}% of direct, added p50 +${(median(p50[via]) - median(p50[d])).toFixed(3)} ms, p99 +${(median(p99[via]) - median(p99[d])).toFixed(3)} ms, CPU ${median(cpu[via]).toFixed(0)} µs/request`,
  );
}
for (const p of procs.reverse()) await stop(p);
rmSync(dir, { recursive: true, force: true });
process.exit(0);
