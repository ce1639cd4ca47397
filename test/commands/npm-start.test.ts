// `npm start` runs `switchyard dev` through a shell; a SIGTERM to npm must stop the dev process
// too. npm forwards the signal to its child, the shell; without `exec` the shell dies and
// leaves node running with the ports and the store open.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'sy-npm-start-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every process below `pid` (from /proc), so the test can see what outlives npm. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // The process ended while we read.
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm start', () => {
  it('stops the dev process when npm gets SIGTERM (no orphan)', async () => {
    const args = ['start', '--', '--port', '0', '--otlp-port', '0', '--clickhouse-http-port', '0', '--data-dir', dir];
    const npm = spawn('npm', args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not ready in 60 s:\n${out}`)), 60_000);
      const onData = (d: Buffer) => {
        out += d.toString();
        if (out.includes('switchyard dev ready')) {
          clearTimeout(timer);
          resolve();
        }
      };
      npm.stdout.on('data', onData);
      npm.stderr.on('data', onData);
    });
    await ready;
    const below = descendants(npm.pid!);
    expect(below.length).toBeGreaterThan(0);
    const exited = new Promise<void>((resolve) => npm.once('exit', () => resolve()));
    npm.kill('SIGTERM');
    await exited;
    const deadline = Date.now() + 20_000;
    while (below.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const left = below.filter(alive);
    for (const p of left) process.kill(p, 'SIGKILL');
    expect(left, `still running after npm exited:\n${out}`).toEqual([]);
  }, 120_000);
});
