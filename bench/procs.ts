// Processes and load for the end-to-end benchmarks (overhead, no-loss): spawn a program and
// read the port it prints, its RSS and CPU from /proc, load with autocannon, time requests one
// at a time (c=1, hrtime), read a Prometheus counter, query the ClickHouse HTTP interface.
import autocannon from 'autocannon';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import { procCpuUs } from './stats.js';

/** Compiles dist/ (the sidecar runs compiled, as in production). Type errors elsewhere in the tree
 *  (other work in progress) do not stop the emit, so they only warn here. */
export function buildDist(): void {
  try {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'pipe' });
  } catch (err) {
    console.warn(
      `tsc reported errors (dist/ emitted anyway): ${String((err as { stdout?: Buffer }).stdout ?? err).slice(0, 400)}`,
    );
  }
}

export interface Proc {
  child: ChildProcess;
  pid: number;
  port: number;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
}

/**
 * Starts `args` (bin/… runs compiled, as in production, and .mjs as is; anything else through tsx) and waits
 * for the port it announces: a bare number on a line, or `portPattern` (first group).
 */
export async function spawnWithPort(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  portPattern = /"url":"http:\/\/127\.0\.0\.1:(\d+)/,
  nodeFlags: string[] = [],
): Promise<Proc> {
  const plain = args[0].startsWith('bin/') || args[0].endsWith('.mjs');
  const nodeArgs = plain ? [...nodeFlags, ...args] : [...nodeFlags, '--import', 'tsx', ...args];
  const child = spawn(process.execPath, nodeArgs, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')}: no port within 60 s: ${out}`)), 60_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.length > 1_000_000) out = out.slice(-100_000); // keep a long run's log bounded
      const m = /^(\d+)$/m.exec(out) ?? portPattern.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (c) => reject(new Error(`${args.join(' ')} exited ${c}: ${out}`)));
  });
  return { child, pid: child.pid ?? 0, port, output: () => out };
}

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : Number.NaN;
}
export const rssMb = (pid: number): number => statusKb(pid, 'VmRSS') / 1024;
export const peakRssMb = (pid: number): number => statusKb(pid, 'VmHWM') / 1024;

export interface Payload {
  path: string;
  body: string;
  headers: Record<string, string>;
}

export const CHAT: Payload = {
  path: '/v1/chat/completions',
  body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'benchmark me' }] }),
  headers: { 'content-type': 'application/json' },
};
export const CHAT_STREAM: Payload = {
  ...CHAT,
  body: JSON.stringify({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'benchmark me' }] }),
};

/** autocannon at `connections` for `seconds`; CPU µs per request of `pid` (all its threads, /proc). */
export async function load(
  origin: string,
  connections: number,
  seconds: number,
  pid?: number,
  payload: Payload = CHAT,
): Promise<{ rps: number; ok: number; cpuUsPerReq: number }> {
  const cpu0 = pid ? procCpuUs(pid) : 0;
  const r = await autocannon({
    url: origin + payload.path,
    method: 'POST',
    body: payload.body,
    headers: payload.headers,
    connections,
    duration: seconds,
    pipelining: 1,
  });
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${origin}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  const ok = r['2xx'];
  return { rps: ok / seconds, ok, cpuUsPerReq: pid ? (procCpuUs(pid) - cpu0) / ok : Number.NaN };
}

/** `n` requests one after another (after 50 to warm up): latency ms, and with a stream the first body byte ms. */
export async function oneAtATime(
  origin: string,
  n: number,
  payload: Payload = CHAT,
): Promise<{ total: number[]; firstByte: number[] }> {
  const pool = new Pool(origin, { connections: 1 });
  const total: number[] = [];
  const firstByte: number[] = [];
  try {
    for (let i = 0; i < n + 50; i++) {
      const t0 = process.hrtime.bigint();
      const r = await pool.request({
        path: payload.path,
        method: 'POST',
        body: payload.body,
        headers: payload.headers,
      });
      let first = 0n;
      for await (const _ of r.body) first ||= process.hrtime.bigint();
      if (r.statusCode !== 200) throw new Error(`${origin}: status ${r.statusCode}`);
      if (i < 50) continue;
      total.push(Number(process.hrtime.bigint() - t0) / 1e6);
      firstByte.push(Number(first - t0) / 1e6);
    }
  } finally {
    await pool.close();
  }
  return { total, firstByte };
}

/** A Prometheus sample's value (summed over label sets), 0 when absent. */
export async function scrape(url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text();
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'gm'))) sum += Number(m[1]);
  return sum;
}

/** One number from the ClickHouse HTTP interface. */
export async function chCount(port: number, sql: string): Promise<number> {
  const r = await fetch(`http://127.0.0.1:${port}/?query=${encodeURIComponent(sql)}`);
  if (!r.ok) throw new Error(`clickhouse ${r.status}: ${await r.text()}`);
  return Number((await r.text()).trim());
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Stops a child and waits for it (bounded: SIGKILL after 15 s). */
export async function stop(p: Proc): Promise<void> {
  if (p.child.exitCode !== null) return;
  const exited = new Promise((r) => p.child.once('exit', r));
  p.child.kill('SIGTERM');
  const t = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(t);
}
