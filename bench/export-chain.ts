// bench/export-chain: CPU per request of the export worker's whole production chain, paced as
// the sidecar feeds it: request records in batches every 20 ms (worker-sink.ts's BATCH_MS) at
// --rate requests/s, encoded and decoded as they cross to the worker, spans and metrics built,
// batched by the bounded processor, serialised by our OTLP writer and POSTed through the disk
// queue's sender to a receiver that discards them (another process, so its CPU is not counted).
// Unlike bench/export-worker (unpaced, no HTTP) this includes the export requests and the timers,
// and it compares export batch sizes (OTEL_BSP_MAX_EXPORT_BATCH_SIZE) alternated in one run.
//   node --import tsx bench/export-chain.ts [--batches 128,512] [--rate 5000] [--seconds 4] [--rounds 3]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { parseFlags } from '../src/args.js';
import { createPipeline } from '../src/telemetry/pipeline.js';
import { RecordDecoder, RecordEncoder } from '../src/telemetry/record-codec.js';
import { sampleRecord } from './sample-record.js';
import { loadavg, median } from './stats.js';

const flags = parseFlags(process.argv.slice(2));
const BATCHES = String(flags.batches ?? '128,512')
  .split(',')
  .map(Number);
const RATE = Number(flags.rate ?? 5000);
const SECONDS = Number(flags.seconds ?? 4);
const ROUNDS = Number(flags.rounds ?? 3);
const TICK_MS = 20;
const PER_TICK = Math.max(1, Math.round((RATE * TICK_MS) / 1000));

const receiver = spawn(
  process.execPath,
  [
    '-e',
    `const s = require('node:http').createServer((q, r) => { q.resume(); q.on('end', () => r.writeHead(200, { 'content-type': 'application/x-protobuf' }).end()); });
     s.listen(0, '127.0.0.1', () => console.log(s.address().port));`,
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const [chunk] = (await once(receiver.stdout!, 'data')) as [Buffer];
const endpoint = `http://127.0.0.1:${Number(chunk.toString())}`;

async function measure(batch: number): Promise<number> {
  const pipeline = createPipeline({
    otlpMetrics: false,
    env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_BSP_MAX_EXPORT_BATCH_SIZE: String(batch) },
  });
  const encoder = new RecordEncoder();
  const decoder = new RecordDecoder();
  const ticks = Math.round((SECONDS * 1000) / TICK_MS);
  const c0 = process.cpuUsage();
  let next = performance.now();
  for (let i = 0; i < ticks; i++) {
    const t = Date.now();
    for (let j = 0; j < PER_TICK; j++) encoder.add(sampleRecord(t));
    pipeline.build(decoder.decode(structuredClone(encoder.take())));
    next += TICK_MS;
    await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
  }
  await pipeline.flush();
  const c = process.cpuUsage(c0);
  await pipeline.shutdown();
  return (c.user + c.system) / (ticks * PER_TICK);
}

console.log(
  `bench/export-chain: ${RATE} requests/s (${PER_TICK} records every ${TICK_MS} ms) for ${SECONDS} s, batches ${BATCHES.join(' / ')}, ${ROUNDS} alternated rounds after a warm-up; load ${loadavg()}`,
);
for (const b of BATCHES) await measure(b); // warm-up: JIT, the writer's buffer, the sender's sockets
const results = new Map<number, number[]>(BATCHES.map((b) => [b, []]));
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 ? [...BATCHES].reverse() : BATCHES;
  for (const b of order) results.get(b)!.push(await measure(b));
  console.log(
    `  round ${r + 1}: ${BATCHES.map((b) => `${b} spans ${results.get(b)!.at(-1)!.toFixed(1)} µs`).join(', ')}`,
  );
}
console.log('\nCPU per request (this process, all threads), median (min–max):');
for (const [b, xs] of results)
  console.log(
    `  export batch ${String(b).padStart(4)}  ${median(xs).toFixed(1)} µs (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)})`,
  );
console.log(`load ${loadavg()}`);
receiver.kill();
