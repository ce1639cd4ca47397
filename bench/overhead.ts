// bench/overhead: the fake upstream called directly vs through the sidecar (telemetry off and
// on), alternated in one run. Prints req/s ratios at c=1 and c=50, added p50/p99 latency at
// c=1 (measured with hrtime, sub-millisecond), and the sidecar's peak RSS.
// Then the Messages route: the fake Anthropic API directly vs POST /v1/messages through the
// sidecar (telemetry off), alternated with the chat route the same way for comparison.
//   node --import tsx bench/overhead.ts [--rounds 3] [--seconds 5] [--messages-only]
import autocannon from 'autocannon';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { Pool } from 'undici';
import { Worker } from 'node:worker_threads';
import { parseFlags } from '../src/args.js';

const flags = parseFlags(process.argv.slice(2));
const ROUNDS = Number(flags.rounds ?? 3);
const SECONDS = Number(flags.seconds ?? 5);
const LAT_N = Number(flags['latency-requests'] ?? 2000);
const body = JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'benchmark me' }] });

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function spawnWithPort(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ child: ChildProcess; port: number }> {
  // The sidecar runs compiled (as in production); the fake upstream runs through tsx.
  const nodeArgs = args[0].startsWith('bin/') ? args : ['--import', 'tsx', ...args];
  const child = spawn(process.execPath, nodeArgs, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /^(\d+)$/m.exec(out) ?? /"url":"http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (c) => reject(new Error(`${args.join(' ')} exited ${c}: ${out}`)));
  });
  return { child, port };
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** CPU seconds (user + system) a process has used: steadier than req/s on a shared 2-core box. */
function cpuSeconds(pid: number, thread?: number): number {
  const f = readFileSync(thread ? `/proc/${pid}/task/${thread}/stat` : `/proc/${pid}/stat`, 'utf8')
    .split(') ')[1]
    .split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

interface Payload {
  body: string;
  headers: Record<string, string>;
}
const CHAT: Payload = { body, headers: { 'content-type': 'application/json' } };
const MESSAGES: Payload = {
  body: JSON.stringify({
    model: 'claude-sonnet-4-6',
    max_tokens: 64,
    messages: [{ role: 'user', content: 'benchmark me' }],
  }),
  headers: { 'content-type': 'application/json', 'x-api-key': 'sk-bench', 'anthropic-version': '2023-06-01' },
};

async function throughput(
  url: string,
  connections: number,
  pid?: number,
  payload: Payload = CHAT,
): Promise<{ rps: number; cpuUsPerReq?: number; mainUsPerReq?: number }> {
  const cpu0 = pid ? cpuSeconds(pid) : 0;
  const main0 = pid ? cpuSeconds(pid, pid) : 0; // the main thread's task id is the pid
  const r = await autocannon({
    url,
    method: 'POST',
    body: payload.body,
    headers: payload.headers,
    connections,
    duration: SECONDS,
    pipelining: 1,
  });
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  const cpuUsPerReq = pid ? ((cpuSeconds(pid) - cpu0) * 1e6) / r.requests.total : undefined;
  const mainUsPerReq = pid ? ((cpuSeconds(pid, pid) - main0) * 1e6) / r.requests.total : undefined;
  return { rps: r.requests.average, cpuUsPerReq, mainUsPerReq };
}

async function latencies(origin: string, path: string, n: number, payload: Payload = CHAT): Promise<number[]> {
  const pool = new Pool(origin, { connections: 1 });
  const out: number[] = [];
  try {
    for (let i = 0; i < n + 100; i++) {
      const t0 = process.hrtime.bigint();
      const r = await pool.request({ path, method: 'POST', body: payload.body, headers: payload.headers });
      await r.body.text();
      if (i >= 100) out.push(Number(process.hrtime.bigint() - t0) / 1e6); // first 100 warm up
    }
  } finally {
    await pool.close();
  }
  return out;
}

execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
const dir = mkdtempSync(join(tmpdir(), 'sy-bench-'));
// A discarding OTLP receiver, in its own thread: on this process's event loop it would slow the
// load generator and the latency client during "on" runs only.
const sinkWorker = new Worker(
  `const http = require('node:http'); const { parentPort } = require('node:worker_threads');
   const s = http.createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}')); });
   s.listen(0, '127.0.0.1', () => parentPort.postMessage(s.address().port));`,
  { eval: true },
);
const [sinkPort] = (await once(sinkWorker, 'message')) as [number];

const upstream = await spawnWithPort(['bench/fake-upstream.ts']);
const direct = `http://127.0.0.1:${upstream.port}`;
const sidecars: Record<string, { child: ChildProcess; port: number }> = {};
for (const tel of ['off', 'on'] as const) {
  const cfg = join(dir, `sidecar-${tel}.yaml`);
  writeFileSync(
    cfg,
    `providers: {up: {type: openai, api_key: sk-bench, base_url: "${direct}/v1"}}\nconfigs: {d: {provider: "@up"}}\ndefault_config: d\ntelemetry: {enabled: ${tel === 'on'}}\n`,
  );
  sidecars[tel] = await spawnWithPort(['bin/switchyard.js', 'sidecar', '--config', cfg, '--port', '0'], {
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${sinkPort}`,
    SWITCHYARD_LOG_LEVEL: 'info',
  });
}
const targets: Record<string, string> = {
  direct,
  'sidecar (telemetry off)': `http://127.0.0.1:${sidecars.off.port}`,
  'sidecar (telemetry on)': `http://127.0.0.1:${sidecars.on.port}`,
};

const MESSAGES_ONLY = flags['messages-only'] !== undefined;
const rps: Record<string, Record<number, number[]>> = {};
const cpu: Record<string, number[]> = {};
const mainCpu: Record<string, number[]> = {};
const pids: Record<string, number | undefined> = {
  direct: undefined,
  'sidecar (telemetry off)': sidecars.off.child.pid,
  'sidecar (telemetry on)': sidecars.on.child.pid,
};
const lat: Record<string, number[][]> = {};
for (const name of Object.keys(targets)) {
  rps[name] = { 1: [], 50: [] };
  cpu[name] = [];
  mainCpu[name] = [];
  lat[name] = [];
}
if (!MESSAGES_ONLY)
  console.log(`bench/overhead: ${ROUNDS} rounds × ${SECONDS}s per run, alternating direct / sidecar off / sidecar on`);
for (let round = 0; round < (MESSAGES_ONLY ? 0 : ROUNDS); round++) {
  for (const [name, origin] of Object.entries(targets)) {
    for (const c of [1, 50]) {
      const t = await throughput(`${origin}/v1/chat/completions`, c, pids[name]);
      rps[name][c].push(t.rps);
      if (c === 50 && t.cpuUsPerReq !== undefined) cpu[name].push(t.cpuUsPerReq);
      if (c === 50 && t.mainUsPerReq !== undefined) mainCpu[name].push(t.mainUsPerReq);
    }
    lat[name].push(await latencies(origin, '/v1/chat/completions', LAT_N));
  }
  console.log(`  round ${round + 1}/${ROUNDS} done`);
}

const p50 = (name: string) => median(lat[name].map((xs) => pct(xs, 50)));
const p99 = (name: string) => median(lat[name].map((xs) => pct(xs, 99)));
if (!MESSAGES_ONLY) {
  console.log('\nmedian of rounds       req/s c=1   req/s c=50   p50 ms c=1   p99 ms c=1');
  for (const name of Object.keys(targets)) {
    console.log(
      `${name.padEnd(24)} ${median(rps[name][1]).toFixed(0).padStart(9)} ${median(rps[name][50]).toFixed(0).padStart(12)} ${p50(name).toFixed(3).padStart(12)} ${p99(name).toFixed(3).padStart(12)}`,
    );
  }
  const d50 = median(rps.direct[50]);
  for (const name of ['sidecar (telemetry off)', 'sidecar (telemetry on)']) {
    console.log(`\n${name}:`);
    console.log(
      `  throughput vs direct   c=1: ${((median(rps[name][1]) / median(rps.direct[1])) * 100).toFixed(1)}%   c=50: ${((median(rps[name][50]) / d50) * 100).toFixed(1)}%`,
    );
    console.log(
      `  added latency at c=1   p50: +${(p50(name) - p50('direct')).toFixed(3)} ms   p99: +${(p99(name) - p99('direct')).toFixed(3)} ms`,
    );
  }
  const on50 = median(rps['sidecar (telemetry on)'][50]);
  const off50 = median(rps['sidecar (telemetry off)'][50]);
  console.log(
    `\ntelemetry on vs off at c=50: ${((on50 / off50) * 100).toFixed(1)}% of throughput (cost ${(100 - (on50 / off50) * 100).toFixed(1)}%)`,
  );
  const cOff = median(cpu['sidecar (telemetry off)']);
  const cOn = median(cpu['sidecar (telemetry on)']);
  console.log(
    `sidecar CPU per request at c=50: telemetry off ${cOff.toFixed(0)} µs, on ${cOn.toFixed(0)} µs (telemetry ${(((cOn - cOff) / cOn) * 100).toFixed(1)}% of the sidecar's CPU)`,
  );
  const mOff = median(mainCpu['sidecar (telemetry off)']);
  const mOn = median(mainCpu['sidecar (telemetry on)']);
  console.log(
    `  of which the request (main) thread: off ${mOff.toFixed(0)} µs, on ${mOn.toFixed(0)} µs (+${(mOn - mOff).toFixed(0)} µs; the rest is the export worker, GC and libuv threads)`,
  );
  console.log(
    `sidecar peak RSS: telemetry off ${peakRssMb(sidecars.off.child.pid!).toFixed(1)} MB, on ${peakRssMb(sidecars.on.child.pid!).toFixed(1)} MB`,
  );
}

// The Messages route: Anthropic's fake directly vs POST /v1/messages through a sidecar (telemetry
// off, passed through as is), alternated with the chat route (OpenAI fake) for comparison.
const antUpstream = await spawnWithPort(['bench/fake-upstream.ts', 'anthropic']);
const antDirect = `http://127.0.0.1:${antUpstream.port}`;
const msgCfg = join(dir, 'sidecar-messages.yaml');
writeFileSync(
  msgCfg,
  `providers: {ant: {type: anthropic, api_key: sk-bench, base_url: "${antDirect}/v1"}}\nconfigs: {m: {provider: "@ant"}}\ndefault_config: m\ntelemetry: {enabled: false}\n`,
);
const msgSidecar = await spawnWithPort(['bin/switchyard.js', 'sidecar', '--config', msgCfg, '--port', '0'], {
  SWITCHYARD_LOG_LEVEL: 'info',
});
const msgTargets: Record<string, { origin: string; path: string; payload: Payload; pid?: number }> = {
  'messages direct': { origin: antDirect, path: '/v1/messages', payload: MESSAGES },
  'messages via sidecar': {
    origin: `http://127.0.0.1:${msgSidecar.port}`,
    path: '/v1/messages',
    payload: MESSAGES,
    pid: msgSidecar.child.pid,
  },
  'chat direct': { origin: direct, path: '/v1/chat/completions', payload: CHAT },
  'chat via sidecar': {
    origin: `http://127.0.0.1:${sidecars.off.port}`,
    path: '/v1/chat/completions',
    payload: CHAT,
    pid: sidecars.off.child.pid,
  },
};
for (const name of Object.keys(msgTargets)) {
  rps[name] = { 1: [], 50: [] };
  cpu[name] = [];
  lat[name] = [];
}
console.log(
  `\nbench/overhead, /v1/messages: ${ROUNDS} rounds × ${SECONDS}s per run, alternating messages direct / via sidecar / chat direct / via sidecar (telemetry off)`,
);
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, t] of Object.entries(msgTargets)) {
    for (const c of [1, 50]) {
      const r = await throughput(`${t.origin}${t.path}`, c, t.pid, t.payload);
      rps[name][c].push(r.rps);
      if (c === 50 && r.cpuUsPerReq !== undefined) cpu[name].push(r.cpuUsPerReq);
    }
    lat[name].push(await latencies(t.origin, t.path, LAT_N, t.payload));
  }
  console.log(`  round ${round + 1}/${ROUNDS} done`);
}
console.log('\nmedian of rounds       req/s c=1   req/s c=50   p50 ms c=1   p99 ms c=1');
for (const name of Object.keys(msgTargets)) {
  console.log(
    `${name.padEnd(24)} ${median(rps[name][1]).toFixed(0).padStart(9)} ${median(rps[name][50]).toFixed(0).padStart(12)} ${p50(name).toFixed(3).padStart(12)} ${p99(name).toFixed(3).padStart(12)}`,
  );
}
for (const route of ['messages', 'chat']) {
  const via = `${route} via sidecar`;
  const dir = `${route} direct`;
  console.log(
    `${route.padEnd(8)} through the sidecar: c=50 ${((median(rps[via][50]) / median(rps[dir][50])) * 100).toFixed(1)}% of direct, added p50 +${(p50(via) - p50(dir)).toFixed(3)} ms, p99 +${(p99(via) - p99(dir)).toFixed(3)} ms, CPU ${median(cpu[via]).toFixed(0)} µs/request`,
  );
}
antUpstream.child.kill('SIGTERM');
msgSidecar.child.kill('SIGTERM');

for (const s of [upstream, sidecars.off, sidecars.on]) s.child.kill('SIGTERM');
await sinkWorker.terminate();
process.exit(0);
