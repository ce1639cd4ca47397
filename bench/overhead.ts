// bench/overhead: what the sidecar costs beside what Node itself allows. Alternated in one run,
// each round in a rotated order, on the fake OpenAI upstream (its own process, loopback):
//   direct                      the upstream itself
//   REFERENCE minimal proxy     bench/reference-proxy.mjs, ~40 lines of node:http + undici
//   sidecar, telemetry off
//   sidecar, telemetry on       spans to a discarding OTLP receiver (a thread of this process)
//   sidecar → collector         spans to the real `switchyard collector` (another process)
// Every figure is printed as a ratio to the reference and to direct: req/s at c=50, CPU µs per
// request (the whole process, all threads, /proc/<pid>/stat; also split by thread), added
// p50/p99 at c=1, stream first byte and total (c=1), idle and peak RSS; then the collector's CPU per span at the sidecar's
// export batch size, spans dropped by the sidecar, and spans acknowledged vs stored.
//   node --import tsx bench/overhead.ts [--rounds 3] [--seconds 4] [--latency-requests 1000]
//     [--stream-requests 300] [--no-collector] [--only ref,off,on,col]
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { parseFlags } from '../src/args.js';
import { DEFAULT_EXPORT_BATCH } from '../src/telemetry/pipeline.js';
import {
  buildDist,
  CHAT,
  CHAT_STREAM,
  chCount,
  load,
  oneAtATime,
  peakRssMb,
  type Proc,
  rssMb,
  scrape,
  sleep,
  spawnWithPort,
  stop,
} from './procs.js';
import { loadavg, median, pct, procCpuUs, threadCpuUs, threadShares } from './stats.js';

const flags = parseFlags(process.argv.slice(2));
const ROUNDS = Number(flags.rounds ?? 3);
const SECONDS = Number(flags.seconds ?? 4);
const LAT_N = Number(flags['latency-requests'] ?? 1000);
const STREAM_N = Number(flags['stream-requests'] ?? 300);
const only = typeof flags.only === 'string' ? flags.only.split(',') : ['ref', 'off', 'on', 'col'];
if (flags['no-collector'] !== undefined && only.includes('col')) only.splice(only.indexOf('col'), 1);

buildDist();
const dir = mkdtempSync(join(tmpdir(), 'sy-overhead-'));
const procs: Proc[] = [];
const started = async (p: Promise<Proc>) => {
  const proc = await p;
  procs.push(proc);
  return proc;
};

// The discarding receiver runs in its own thread: on this event loop it would slow the load
// generator during "on" runs only.
const sinkWorker = new Worker(
  `const http = require('node:http'); const { parentPort } = require('node:worker_threads');
   const s = http.createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}')); });
   s.listen(0, '127.0.0.1', () => parentPort.postMessage(s.address().port));`,
  { eval: true },
);
const [sinkPort] = (await once(sinkWorker, 'message')) as [number];
const upstream = await started(spawnWithPort(['bench/fake-upstream.ts']));
const direct = `http://127.0.0.1:${upstream.port}`;

async function sidecar(name: string, telemetry: boolean, otlp: string): Promise<Proc> {
  const cfg = join(dir, `${name}.yaml`);
  writeFileSync(
    cfg,
    `providers: {up: {type: openai, api_key: sk-bench, base_url: "${direct}/v1"}}\nconfigs: {d: {provider: "@up"}}\ndefault_config: d\ntelemetry: {enabled: ${telemetry}}\n`,
  );
  return started(
    spawnWithPort(['bin/switchyard.js', 'sidecar', '--config', cfg, '--port', '0'], {
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp,
      SWITCHYARD_LOG_LEVEL: 'info',
    }),
  );
}

let collector: { proc: Proc; chPort: number; metrics: string } | undefined;
if (only.includes('col')) {
  const proc = await started(
    spawnWithPort(
      ['bin/switchyard.js', 'collector', '--data-dir', join(dir, 'collector'), '--host', '127.0.0.1', '--port', '0'],
      { SWITCHYARD_CLICKHOUSE_HTTP_PORT: '0' },
      /"collector ready".*"otlp":"127\.0\.0\.1:(\d+)"/,
    ),
  );
  const chPort = Number(/"clickhouseHttp":"127\.0\.0\.1:(\d+)"/.exec(proc.output())?.[1]);
  collector = { proc, chPort, metrics: `http://127.0.0.1:${proc.port}/metrics` };
}

interface Target {
  label: string;
  origin: string;
  proc?: Proc;
}
const targets: Target[] = [{ label: 'direct (fake upstream)', origin: direct }];
const add = async (label: string, p: Promise<Proc>) => {
  const proc = await p;
  targets.push({ label, origin: `http://127.0.0.1:${proc.port}`, proc });
};
if (only.includes('ref'))
  await add('REFERENCE minimal proxy', started(spawnWithPort(['bench/reference-proxy.mjs', direct])));
if (only.includes('off')) await add('sidecar, telemetry off', sidecar('off', false, `http://127.0.0.1:${sinkPort}`));
if (only.includes('on')) await add('sidecar, telemetry on', sidecar('on', true, `http://127.0.0.1:${sinkPort}`));
if (collector) await add('sidecar → collector', sidecar('col', true, `http://127.0.0.1:${collector.proc.port}`));

// Idle RSS: after start and a few requests (so what loads on first use is counted), at rest.
const idle = new Map<Target, number>();
for (const t of targets) {
  await oneAtATime(t.origin, 20);
  await oneAtATime(t.origin, 5, CHAT_STREAM);
}
await sleep(1500);
for (const t of targets) if (t.proc) idle.set(t, rssMb(t.proc.pid));

type Series = Map<Target, number[]>;
const series = (): Series => new Map(targets.map((t) => [t, []]));
const rps = series();
const cpu = series();
const p50 = series();
const p99 = series();
const fb = series();
const total = series();
const colCpu: number[] = [];
const colNet: number[] = [];
/** CPU µs per request at c=50 by thread (threadShares of the whole process's figure). */
const byThread = new Map<Target, { main: number; busiest: number; rest: number }[]>(targets.map((t) => [t, []]));
let colIdleUsPerMs = 0;
if (collector) {
  const c0 = procCpuUs(collector.proc.pid);
  const t0 = Date.now();
  await sleep(3000);
  colIdleUsPerMs = (procCpuUs(collector.proc.pid) - c0) / (Date.now() - t0);
}
const batchSize = Number(process.env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE ?? DEFAULT_EXPORT_BATCH);

/** Waits (bounded) until the collector has stored every span it received; returns the spans. */
async function collectorSettled(): Promise<number> {
  if (!collector) return 0;
  let last = -1;
  for (let i = 0; i < 60; i++) {
    const received = await scrape(collector.metrics, 'switchyard_collector_spans_received_total');
    const queued = await scrape(collector.metrics, 'switchyard_collector_spans_queued');
    if (received === last && queued === 0) return received;
    last = received;
    await sleep(1000);
  }
  return last;
}

console.log(
  `bench/overhead: ${ROUNDS} rounds × (c=50 ${SECONDS}s, c=1 ${LAT_N} requests, ${STREAM_N} streams) per target, rotated order; load ${loadavg()}`,
);
for (let round = 0; round < ROUNDS; round++) {
  const order = targets.map((_, i) => targets[(i + round) % targets.length]);
  for (const t of order) {
    const isCol = t.label.includes('collector') && collector;
    const spans0 = isCol ? await collectorSettled() : 0;
    const col0 = isCol ? procCpuUs(collector!.proc.pid) : 0;
    const colT0 = Date.now();
    const threads0 = t.proc ? threadCpuUs(t.proc.pid) : undefined;
    const l = await load(t.origin, 50, SECONDS, t.proc?.pid);
    if (t.proc && threads0) {
      const s = threadShares(t.proc.pid, threads0, threadCpuUs(t.proc.pid));
      byThread
        .get(t)!
        .push({ main: s.main * l.cpuUsPerReq, busiest: s.busiest * l.cpuUsPerReq, rest: s.rest * l.cpuUsPerReq });
    }
    if (isCol) {
      const spans = (await collectorSettled()) - spans0;
      const used = procCpuUs(collector!.proc.pid) - col0;
      colCpu.push(used / spans);
      // Net of what the collector burns idle (the embedded store's background threads).
      colNet.push((used - colIdleUsPerMs * (Date.now() - colT0)) / spans);
    }
    rps.get(t)!.push(l.rps);
    cpu.get(t)!.push(l.cpuUsPerReq);
    const lat = await oneAtATime(t.origin, LAT_N, CHAT);
    const st = await oneAtATime(t.origin, STREAM_N, CHAT_STREAM);
    p50.get(t)!.push(pct(lat.total, 50));
    p99.get(t)!.push(pct(lat.total, 99));
    fb.get(t)!.push(pct(st.firstByte, 50));
    total.get(t)!.push(pct(st.total, 50));
  }
  console.log(`  round ${round + 1}/${ROUNDS} done (load ${loadavg()})`);
}

const [dT] = targets;
const ref = targets.find((t) => t.label.startsWith('REFERENCE'));
/** Per-round added latency over direct (paired within a round). */
const added = (s: Series, t: Target) => s.get(t)!.map((v, i) => v - s.get(dT)![i]);
const fmt = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : '—');
const span = (xs: number[], d: number) =>
  `${fmt(median(xs), d)} (${fmt(Math.min(...xs), d)}–${fmt(Math.max(...xs), d)})`;
const ratio = (a: number, b: number | undefined) => (b && Number.isFinite(a) ? `${(a / b).toFixed(2)}×` : '—');

function block(title: string, value: (t: Target) => number[], d: number, vsDirect: boolean, diffRef = false) {
  console.log(`\n${title}`);
  const r = ref ? median(value(ref)) : undefined;
  for (const t of targets) {
    const xs = value(t);
    if (xs.length === 0 || xs.every((x) => !Number.isFinite(x))) continue;
    const m = median(xs);
    const extra = diffRef && r !== undefined ? `  ref ${m - r >= 0 ? '+' : ''}${(m - r).toFixed(3)} ms` : '';
    console.log(
      `  ${t.label.padEnd(26)} ${span(xs, d).padStart(28)}   ×ref ${ratio(m, r).padStart(6)}${vsDirect ? `   ×direct ${ratio(m, median(value(dT))).padStart(6)}` : ''}${extra}`,
    );
  }
}
console.log(`\nmedian of ${ROUNDS} rounds (min–max); ×ref = ratio to the reference proxy, ×direct = to direct`);
block('req/s at c=50', (t) => rps.get(t)!, 0, true);
block('CPU µs per request at c=50 (process, all threads)', (t) => (t === dT ? [] : cpu.get(t)!), 0, false);
block('added p50 ms at c=1 (over direct, paired per round)', (t) => (t === dT ? [] : added(p50, t)), 3, false, true);
block('added p99 ms at c=1', (t) => (t === dT ? [] : added(p99, t)), 3, false, true);
block('stream first byte, added p50 ms at c=1', (t) => (t === dT ? [] : added(fb, t)), 3, false, true);
block('stream total, added p50 ms at c=1', (t) => (t === dT ? [] : added(total, t)), 3, false, true);
console.log(
  '\nCPU µs per request at c=50 by thread: the event loop / the busiest other thread (the export worker when telemetry is on) / the rest (V8 GC helpers, libuv pool); medians',
);
for (const t of targets) {
  const xs = byThread.get(t)!;
  if (xs.length === 0) continue;
  const m = (k: 'main' | 'busiest' | 'rest') => fmt(median(xs.map((x) => x[k])), 0).padStart(5);
  console.log(`  ${t.label.padEnd(26)} ${m('main')} / ${m('busiest')} / ${m('rest')}`);
}
console.log('\nRSS MB (one process each; idle after start + 140 requests, peak = VmHWM over the run)');
const refIdle = ref ? idle.get(ref) : undefined;
const refPeak = ref?.proc ? peakRssMb(ref.proc.pid) : undefined;
for (const t of targets) {
  if (!t.proc) continue;
  const i = idle.get(t)!;
  const p = peakRssMb(t.proc.pid);
  console.log(
    `  ${t.label.padEnd(26)} idle ${fmt(i, 1).padStart(6)} (×ref ${ratio(i, refIdle)})   peak ${fmt(p, 1).padStart(6)} (×ref ${ratio(p, refPeak)})`,
  );
}

for (const t of targets.filter((x) => x.label.includes('telemetry on') || x.label.includes('collector'))) {
  const dropped = await scrape(`${t.origin}/metrics`, 'switchyard_telemetry_dropped_spans_total');
  console.log(`\n${t.label}: spans dropped by the sidecar ${dropped}`);
}
if (collector) {
  await collectorSettled();
  const received = await scrape(collector.metrics, 'switchyard_collector_spans_received_total');
  const stored = await chCount(collector.chPort, 'SELECT count() FROM otel_traces');
  const refused = await scrape(collector.metrics, 'switchyard_collector_spans_refused_total');
  console.log(
    `collector: CPU per span ${span(colCpu, 1)} µs, net of its idle CPU (${(colIdleUsPerMs / 10).toFixed(1)} % of a core) ${span(colNet, 1)} µs, at the sidecar's export batch of ${batchSize} spans (2 spans a request), over each c=50 run until stored; spans acknowledged ${received}, stored ${stored}, refused (429) ${refused}; peak RSS ${peakRssMb(collector.proc.pid).toFixed(1)} MB`,
  );
}

for (const p of procs.reverse()) await stop(p);
await sinkWorker.terminate();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
