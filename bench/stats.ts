// What every benchmark reports with: medians, percentiles, this process's CPU, another
// process's CPU from /proc, and the machine's load average (figures mean little without it).
import { readdirSync, readFileSync } from 'node:fs';

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The p-th percentile (nearest rank). */
export const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

/** This process's CPU so far, µs (user + system). */
export const cpuUs = (): number => {
  const c = process.cpuUsage();
  return c.user + c.system;
};

/** utime + stime of a /proc stat file (100 Hz ticks), in µs. */
const statCpuUs = (path: string): number => {
  const f = readFileSync(path, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) / 100) * 1e6;
};

/** CPU µs of another process (all its threads). */
export const procCpuUs = (pid: number): number => statCpuUs(`/proc/${pid}/stat`);

/** CPU µs of each thread of a process, by thread id (a thread that ended since is missing). */
export const threadCpuUs = (pid: number): Map<number, number> => {
  const out = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.set(Number(tid), statCpuUs(`/proc/${pid}/task/${tid}/stat`));
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
};

/**
 * A process's CPU between two threadCpuUs snapshots, as shares: the main thread (the event loop),
 * the busiest other thread (the export worker when telemetry is on) and the rest (V8's GC helpers,
 * libuv's pool).
 */
export function threadShares(
  pid: number,
  before: Map<number, number>,
  after: Map<number, number>,
): { main: number; busiest: number; rest: number } {
  let main = 0;
  let busiest = 0;
  let total = 0;
  for (const [tid, us] of after) {
    const d = us - (before.get(tid) ?? 0);
    total += d;
    if (tid === pid) main = d;
    else busiest = Math.max(busiest, d);
  }
  if (total <= 0) return { main: 0, busiest: 0, rest: 0 };
  return { main: main / total, busiest: busiest / total, rest: (total - main - busiest) / total };
}

export const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
