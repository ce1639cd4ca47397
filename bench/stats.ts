// What every benchmark reports with: medians, percentiles, this process's CPU, another
// process's CPU from /proc, and the machine's load average (figures mean little without it).
import { readFileSync } from 'node:fs';

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

/** CPU µs of another process (utime + stime, in 100 Hz ticks). */
export const procCpuUs = (pid: number): number => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) / 100) * 1e6;
};

export const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
