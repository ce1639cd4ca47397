// bench/no-loss: every request served at full load reaches llm_requests. Drives c=50 for
// --seconds through `switchyard dev` (sidecar + collector + embedded store in one process, what
// `npm start` runs) or, with --topology split, a sidecar and a separate `switchyard collector`;
// counts the requests answered (the load loop finishes every request it starts, so served is
// exact), waits (bounded) until the store holds them, and prints served, stored, spans dropped
// by the sidecar, the largest disk queue seen and peak RSS.
//   node --import tsx bench/no-loss.ts [--seconds 60] [--topology dev|split]
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { parseFlags } from '../src/args.js';
import { buildDist, CHAT, chCount, peakRssMb, type Proc, rssMb, scrape, sleep, spawnWithPort, stop } from './procs.js';
import { loadavg } from './stats.js';

const flags = parseFlags(process.argv.slice(2));
const SECONDS = Number(flags.seconds ?? 60);
const SPLIT = flags.topology === 'split';
const C = 50;

buildDist();
const dir = mkdtempSync(join(tmpdir(), 'sy-no-loss-'));
const spoolDir = join(dir, 'telemetry-spool');
const procs: Proc[] = [];
const upstream = await spawnWithPort(['bench/fake-upstream.ts']);
procs.push(upstream);
const cfg = join(dir, 'switchyard.yaml');
writeFileSync(
  cfg,
  `providers: {up: {type: openai, api_key: sk-bench, base_url: "http://127.0.0.1:${upstream.port}/v1"}}\nconfigs: {d: {provider: "@up"}}\ndefault_config: d\ntelemetry: {enabled: true}\n`,
);
const env = { SWITCHYARD_LOG_LEVEL: 'info', SWITCHYARD_TELEMETRY_SPOOL_DIR: spoolDir };
let sidecar: Proc;
let chPort: number;
let collector: Proc | undefined;
if (SPLIT) {
  collector = await spawnWithPort(
    ['bin/switchyard.js', 'collector', '--data-dir', join(dir, 'data'), '--host', '127.0.0.1', '--port', '0'],
    { SWITCHYARD_CLICKHOUSE_HTTP_PORT: '0' },
    /"collector ready".*"otlp":"127\.0\.0\.1:(\d+)"/,
  );
  procs.push(collector);
  chPort = Number(/"clickhouseHttp":"127\.0\.0\.1:(\d+)"/.exec(collector.output())?.[1]);
  sidecar = await spawnWithPort(['bin/switchyard.js', 'sidecar', '--config', cfg, '--port', '0'], {
    ...env,
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector.port}`,
  });
} else {
  sidecar = await spawnWithPort(
    ['bin/switchyard.js', 'dev', '--config', cfg, '--port', '0', '--otlp-port', '0', '--clickhouse-http-port', '0'],
    { ...env, SWITCHYARD_DATA_DIR: join(dir, 'data') },
    /"openai_base_url":"http:\/\/127\.0\.0\.1:(\d+)/,
  );
  chPort = Number(/"clickhouse_http":"http:\/\/127\.0\.0\.1:(\d+)"/.exec(sidecar.output())?.[1]);
}
procs.push(sidecar);
const origin = `http://127.0.0.1:${sidecar.port}`;

function spoolBytes(): number {
  let n = 0;
  try {
    for (const f of readdirSync(spoolDir)) n += statSync(join(spoolDir, f)).size;
  } catch {
    // not created yet
  }
  return n;
}

// Idle RSS: after startup has settled (migrations, first merges), before any load.
await sleep(3000);
const idleRss = rssMb(sidecar.pid);
console.log(
  `bench/no-loss: ${SPLIT ? 'sidecar + separate collector' : 'switchyard dev'}, c=${C} for ${SECONDS} s; idle RSS ${idleRss.toFixed(0)} MB; load ${loadavg()}`,
);
const pool = new Pool(origin, { connections: C });
let served = 0;
let failed = 0;
let maxSpool = 0;
const until = Date.now() + SECONDS * 1000;
const watch = setInterval(() => (maxSpool = Math.max(maxSpool, spoolBytes())), 250);
await Promise.all(
  Array.from({ length: C }, async () => {
    while (Date.now() < until) {
      const r = await pool.request({ path: CHAT.path, method: 'POST', body: CHAT.body, headers: CHAT.headers });
      await r.body.text();
      if (r.statusCode === 200) served++;
      else failed++;
    }
  }),
);
await pool.close();
console.log(
  `  load done: ${served} served (${(served / SECONDS).toFixed(0)} req/s), ${failed} failed; load ${loadavg()}`,
);

// Bounded: until the store holds every request, or it stops growing for 30 s (then it is a loss).
let stored = 0;
let last = -1;
let still = 0;
const t0 = Date.now();
for (let i = 0; i < 600 && stored < served && still < 30; i++) {
  await sleep(1000);
  maxSpool = Math.max(maxSpool, spoolBytes());
  stored = await chCount(chPort, 'SELECT count() FROM llm_requests');
  still = stored === last ? still + 1 : 0;
  last = stored;
}
clearInterval(watch);
const dropped = await scrape(`${origin}/metrics`, 'switchyard_telemetry_dropped_spans_total');
console.log(
  `served ${served}, stored in llm_requests ${stored} (${stored === served ? 'equal' : `DIFFERENT by ${served - stored}`}) ${((Date.now() - t0) / 1000).toFixed(0)} s after the load; spans dropped by the sidecar ${dropped}; largest disk queue ${(maxSpool / 1024 / 1024).toFixed(1)} MB; peak RSS ${SPLIT ? 'sidecar' : 'dev'} ${peakRssMb(sidecar.pid).toFixed(0)} MB${collector ? `, collector ${peakRssMb(collector.pid).toFixed(0)} MB` : ''}`,
);
for (const p of procs.reverse()) await stop(p);
rmSync(dir, { recursive: true, force: true });
process.exit(0);
