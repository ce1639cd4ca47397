// bench/collector-batch: the collector's CPU per span at the sidecar's export batch size
// (DEFAULT_EXPORT_BATCH spans per OTLP/protobuf request) and a moderate, fixed rate, where per-request and per-insert
// fixed costs dominate (bench/ingest.ts measures saturation instead). Each measurement starts a
// fresh `switchyard collector` child (embedded store), measures its idle CPU, sends at the rate
// for --seconds, waits until every acknowledged span is stored, and reports the child's CPU
// (/proc, all threads) per span net of its idle CPU over the same time, and stored == acknowledged.
// --roots alternates builds (e.g. a git worktree of an older commit) in the same run.
//
//   node --import tsx bench/collector-batch.ts [--rates 1500,5000] [--seconds 10] [--rounds 3]
//     [--roots .,/tmp/wt-old] [--spans 512] [--senders 4] [--threads] [--prof DIR] [-- extra collector flags]
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Pool } from 'undici';
import { flagString, parseFlags } from '../src/args.js';
import { encodeTraceRequestProto } from '../src/collector/otlp-proto.js';
import { DEFAULT_EXPORT_BATCH } from '../src/telemetry/pipeline.js';
import { buildDist, chCount, peakRssMb, scrape, sleep } from './procs.js';
import { loadavg, median, procCpuUs } from './stats.js';

const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const flags = parseFlags(dash >= 0 ? argv.slice(0, dash) : argv);
const extra = dash >= 0 ? argv.slice(dash + 1) : [];
const RATES = (flagString(flags, 'rates') ?? '1500,5000').split(',').map(Number);
const SECONDS = Number(flagString(flags, 'seconds') ?? 10);
const ROUNDS = Number(flagString(flags, 'rounds') ?? 3);
const SPANS = Number(flagString(flags, 'spans') ?? DEFAULT_EXPORT_BATCH);
const SENDERS = Number(flagString(flags, 'senders') ?? 4);
const IDLE_S = Number(flagString(flags, 'idle-seconds') ?? 4);
const ROOTS = (flagString(flags, 'roots') ?? '.').split(',').map((r) => resolve(r));
const THREADS = flags.threads !== undefined;
// --prof DIR: the collector runs with --cpu-prof into DIR (one profile per thread).
const PROF = flagString(flags, 'prof');

function hex(n: number, width: number): Buffer {
  return Buffer.from(n.toString(16).padStart(width, '0'), 'hex');
}

/** One export request of SPANS sidecar-like spans (the attributes the sidecar sets). */
function makeBody(seed: number): Uint8Array {
  const base = BigInt(Date.now()) * 1_000_000n + BigInt(seed) * 1_000_000n;
  const spans = Array.from({ length: SPANS }, (_, i) => {
    const start = base + BigInt(i) * 1_000n;
    return {
      traceId: hex(seed * 10_000 + i, 32),
      spanId: hex(seed * 10_000 + i + 1, 16),
      parentSpanId: hex(seed * 10_000 + i + 2, 16),
      name: i % 2 ? 'chat gpt-4o' : 'POST /v1/chat/completions',
      kind: i % 2 ? 3 : 2,
      startTimeUnixNano: start.toString(),
      endTimeUnixNano: (start + 850_000_000n).toString(),
      attributes: [
        { key: 'gen_ai.operation.name', value: { stringValue: 'chat' } },
        { key: 'gen_ai.provider.name', value: { stringValue: 'openai' } },
        { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o' } },
        { key: 'gen_ai.response.model', value: { stringValue: 'gpt-4o-2024-08-06' } },
        { key: 'gen_ai.response.id', value: { stringValue: `chatcmpl-${seed}-${i}` } },
        { key: 'gen_ai.usage.input_tokens', value: { intValue: 200 + i } },
        { key: 'gen_ai.usage.output_tokens', value: { intValue: 50 + (i % 97) } },
        { key: 'server.address', value: { stringValue: 'api.openai.com' } },
        { key: 'http.response.status_code', value: { intValue: 200 } },
        { key: 'switchyard.attempt', value: { intValue: 0 } },
        { key: 'switchyard.outcome', value: { stringValue: 'ok' } },
        { key: 'switchyard.cost_usd', value: { doubleValue: 0.00125 } },
      ],
      status: { code: 1 },
    };
  });
  return encodeTraceRequestProto({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bench-svc' } }] },
        scopeSpans: [{ scope: { name: 'switchyard', version: '0.3.0' }, spans }],
      },
    ],
  });
}

/** CPU µs per thread name of `pid` (/proc/<pid>/task/*). */
function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const s = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const comm = s.slice(s.indexOf('(') + 1, s.lastIndexOf(')')).replace(/\d+$/, '#');
      const name = tid === String(pid) ? 'main' : comm;
      const f = s.slice(s.lastIndexOf(') ') + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + ((Number(f[11]) + Number(f[12])) / 100) * 1e6);
    } catch {
      // thread ended
    }
  }
  return out;
}

interface Proc {
  child: ChildProcess;
  pid: number;
  port: number;
  chPort: number;
}

/** `<root>/bin/switchyard.js collector` on free ports (run as compiled, no loader hooks). */
async function spawnCollector(root: string, dataDir: string): Promise<Proc> {
  const args = [join(root, 'bin/switchyard.js'), 'collector', '--data-dir', dataDir, '--host', '127.0.0.1'];
  const nodeFlags = PROF ? ['--cpu-prof', '--cpu-prof-dir', resolve(PROF)] : [];
  const child = spawn(process.execPath, [...nodeFlags, ...args, '--port', '0', ...extra], {
    env: { ...process.env, SWITCHYARD_CLICKHOUSE_HTTP_PORT: '0', SWITCHYARD_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise<Proc>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`collector did not start within 60 s: ${out}`)), 60_000);
    const onData = (d: Buffer) => {
      out = (out + d.toString()).slice(-100_000);
      const m = /"collector ready".*"otlp":"127\.0\.0\.1:(\d+)".*"clickhouseHttp":"127\.0\.0\.1:(\d+)"/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      ok({ child, pid: child.pid ?? 0, port: Number(m[1]), chPort: Number(m[2]) });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (c) => fail(new Error(`collector exited ${c}: ${out}`)));
  });
}

async function stop(p: Proc): Promise<void> {
  if (p.child.exitCode !== null) return;
  const exited = new Promise((r) => p.child.once('exit', r));
  p.child.kill('SIGTERM');
  const t = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(t);
}

async function measure(root: string, rate: number) {
  const dir = mkdtempSync(join(tmpdir(), 'sy-col-batch-'));
  const proc = await spawnCollector(root, dir);
  try {
    const chPort = proc.chPort;
    const origin = `http://127.0.0.1:${proc.port}`;
    await sleep(3000); // startup (migrations, first merges) out of the idle figure
    const i0 = procCpuUs(proc.pid);
    const it0 = Date.now();
    await sleep(IDLE_S * 1000);
    const idlePerMs = (procCpuUs(proc.pid) - i0) / (Date.now() - it0);

    const bodies = Array.from({ length: 16 }, (_, i) => makeBody(i + 1));
    const pool = new Pool(origin, { connections: SENDERS });
    const interval = (1000 * SPANS) / rate;
    let acked = 0;
    let failed = 0;
    const c0 = procCpuUs(proc.pid);
    const th0 = THREADS ? threadCpu(proc.pid) : undefined;
    const t0 = Date.now();
    const inflight: Promise<void>[] = [];
    for (let n = 0; Date.now() - t0 < SECONDS * 1000; n++) {
      const due = t0 + n * interval;
      if (due > Date.now()) await sleep(due - Date.now());
      inflight.push(
        pool
          .request({
            path: '/v1/traces',
            method: 'POST',
            body: bodies[n % bodies.length],
            headers: { 'content-type': 'application/x-protobuf' },
          })
          .then(async (r) => {
            await r.body.arrayBuffer();
            if (r.statusCode === 200) acked += SPANS;
            else failed++;
          }),
      );
    }
    await Promise.all(inflight);
    await pool.close();
    // Until every acknowledged span is stored (bounded).
    for (let i = 0; i < 200 && (await scrape(`${origin}/metrics`, 'switchyard_collector_spans_queued')) > 0; i++)
      await sleep(100);
    const used = procCpuUs(proc.pid) - c0;
    const elapsed = Date.now() - t0;
    const th1 = THREADS ? threadCpu(proc.pid) : undefined;
    const stored = await chCount(chPort, 'SELECT count() FROM otel_traces');
    const net = (used - idlePerMs * elapsed) / acked;
    let threads = '';
    if (th0 && th1) {
      threads = [...th1]
        .map(([k, v]) => [k, (v - (th0.get(k) ?? 0)) / acked] as const)
        .filter(([, v]) => v > 0.5)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v.toFixed(1)}`)
        .join(', ');
    }
    return {
      gross: used / acked,
      net,
      idlePct: idlePerMs / 10,
      acked,
      stored,
      failed,
      rss: peakRssMb(proc.pid),
      threads,
    };
  } finally {
    await stop(proc);
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const root of ROOTS) if (root === resolve('.')) buildDist();
console.log(
  `bench/collector-batch: ${SPANS}-span OTLP/protobuf requests at ${RATES.join(', ')} spans/s for ${SECONDS} s, ${ROUNDS} rounds, roots ${ROOTS.join(' | ')}; load ${loadavg()}`,
);
const results = new Map<string, { net: number[]; gross: number[]; idle: number[]; rss: number[] }>();
for (let round = 0; round < ROUNDS; round++) {
  for (const rate of RATES) {
    const order = round % 2 ? [...ROOTS].reverse() : ROOTS;
    for (const root of order) {
      const r = await measure(root, rate);
      const key = `${root} @ ${rate}/s`;
      const acc = results.get(key) ?? { net: [], gross: [], idle: [], rss: [] };
      acc.net.push(r.net);
      acc.gross.push(r.gross);
      acc.idle.push(r.idlePct);
      acc.rss.push(r.rss);
      results.set(key, acc);
      console.log(
        `  round ${round + 1} ${key}: ${r.net.toFixed(1)} µs/span net (${r.gross.toFixed(1)} gross, idle ${r.idlePct.toFixed(1)} % of a core); acknowledged ${r.acked}, stored ${r.stored}${r.stored === r.acked ? '' : ' DIFFERENT'}, failed requests ${r.failed}; peak RSS ${r.rss.toFixed(0)} MB${r.threads ? `\n    per thread µs/span: ${r.threads}` : ''}`,
      );
    }
  }
}
const mm = (xs: number[], d = 1) =>
  `${median(xs).toFixed(d)} (${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)})`;
console.log(`\nmedians (min–max) over ${ROUNDS} rounds; load ${loadavg()}`);
for (const [k, v] of results)
  console.log(
    `  ${k}: ${mm(v.net)} µs/span net, ${mm(v.gross)} gross; idle ${mm(v.idle)} % of a core; peak RSS ${mm(v.rss, 0)} MB`,
  );
process.exit(0);
