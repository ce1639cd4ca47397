// `switchyard demo`: simulated providers with a primary that degrades, a few hundred requests
// through a fallback config, then the report from the ClickHouse views. `--scenario
// gray-failure` runs the seed's slow-not-failing provider instead (demo-gray-failure.ts).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { flagString } from '../args.js';
import { COMMANDS } from './definitions.js';
import { parseArgs } from './options.js';
import { parseJsonEachRow } from '../store/embedded.js';
import { renderReport } from '../store/report.js';
import { loadOrExit } from './common.js';
import { runGrayFailure } from './demo-gray-failure.js';
import { startDevStack, type DevStack } from './dev-stack.js';

const DEMO_CONFIG = fileURLToPath(new URL('../../examples/demo.yaml', import.meta.url));
const users = ['alice', 'bob', 'carol', 'dave'];
const features = ['search', 'chat', 'summarise'];

async function sendTraffic(
  base: string,
  total: number,
  concurrency: number,
  ratePerSec: number,
  deadlineAt: number,
): Promise<{ ok: number; failed: number; traceIds: string[] }> {
  let next = 0;
  let ok = 0;
  let failed = 0;
  const traceIds: string[] = [];
  const t0 = Date.now();
  const worker = async () => {
    while (next < total && Date.now() < deadlineAt) {
      const i = next++;
      // Paced so the run spans the primary's degradation instead of finishing before it.
      const due = t0 + (i * 1000) / ratePerSec;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      const metadata = JSON.stringify({ user: users[i % users.length], feature: features[i % features.length] });
      try {
        const r = await request(`${base}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-switchyard-metadata': metadata },
          // Every fifth request asks one of three popular questions: cache hits after the first.
          body: JSON.stringify({
            model: 'demo',
            messages: [{ role: 'user', content: i % 5 === 0 ? `popular question ${(i / 5) % 3}` : `question ${i}` }],
            stream: i % 4 === 0,
          }),
        });
        await r.body.text();
        if (r.statusCode === 200) ok++;
        else failed++;
        const t = r.headers['x-switchyard-trace-id'];
        if (typeof t === 'string') traceIds.push(t);
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { ok, failed, traceIds };
}

async function waitForRows(stack: DevStack, want: number, ms: number): Promise<number> {
  const end = Date.now() + ms;
  let n = 0;
  while (Date.now() < end) {
    await stack.sidecar.telemetry.flush();
    const rows = parseJsonEachRow(await stack.store.query('SELECT count() AS n FROM llm_requests', 'JSONEachRow'));
    n = Number(rows[0]?.n ?? 0);
    if (n >= want) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return n;
}

export async function run(argv: string[]): Promise<void> {
  const { flags } = parseArgs(COMMANDS.demo, argv);
  const scenario = flagString(flags, 'scenario') ?? 'fallback';
  if (scenario === 'gray-failure')
    return runGrayFailure({
      seconds: Number(flagString(flags, 'seconds') ?? 60),
      rate: Number(flagString(flags, 'rate') ?? 4),
      config: flagString(flags, 'config'),
    });
  if (scenario !== 'fallback') throw new Error(`unknown scenario "${scenario}" (fallback or gray-failure)`);
  const total = Number(flagString(flags, 'requests') ?? 300);
  const dataDir = flagString(flags, 'data-dir') ?? mkdtempSync(path.join(tmpdir(), 'switchyard-demo-'));
  const config = await loadOrExit(flagString(flags, 'config') ?? DEMO_CONFIG);
  const stack = await startDevStack({ argv: [], config, dataDir, sidecarPort: 0, otlpPort: 0, clickhouseHttpPort: 0 });
  try {
    const base = `http://127.0.0.1:${stack.sidecarPort}`;
    console.log(`demo: sending ${total} requests through a fallback config; the primary degrades after 2.5 s…`);
    const t0 = Date.now();
    const sent = await sendTraffic(base, total, 16, 40, Date.now() + 120_000);
    console.log(
      `demo: ${sent.ok} answered, ${sent.failed} failed in ${((Date.now() - t0) / 1000).toFixed(1)} s; waiting for spans to land…`,
    );
    // A few users rate what they got; feedback joins the traces at query time.
    await Promise.all(
      sent.traceIds.slice(0, 40).map((t, i) =>
        request(`${base}/v1/feedback`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ trace_id: t, value: i % 5 === 0 ? -5 : 8 }),
        }).then((r) => r.body.text()),
      ),
    );
    const landed = await waitForRows(stack, sent.ok + sent.failed, 15_000);
    console.log(`demo: ${landed} requests stored in ClickHouse (${dataDir})\n`);
    const query = async (sql: string) => parseJsonEachRow(await stack.store.query(sql, 'JSONEachRow'));
    process.stdout.write(await renderReport(query, { since: '1h' }));
  } finally {
    await stack.close();
  }
}
