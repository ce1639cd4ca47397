// Starts a real redis-server for a test (or a benchmark): its own free port on 127.0.0.1, a
// temp dir, no persistence (--save '' --appendonly no). kill() simulates a crash (SIGKILL);
// restart() brings it back on the same port; stop() ends it and removes the dir.
// Tests skip with a clear message only when the redis-server binary is absent.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function findRedisServer(): string | undefined {
  // REDIS_SERVER_BIN names the binary (a path that does not exist: behave as if absent).
  const env = process.env.REDIS_SERVER_BIN;
  if (env !== undefined) return existsSync(env) ? env : undefined;
  const r = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const p = r.stdout.trim();
  return r.status === 0 && p ? p : undefined;
}

export const redisServerBin: string | undefined = findRedisServer();
export const hasRedisServer = redisServerBin !== undefined;
export const NO_REDIS_MESSAGE =
  'redis-server not found on PATH: the Redis state-store tests are SKIPPED (apt-get install -y redis-server; .ci/run installs it)';

export interface RedisServer {
  port: number;
  url: string;
  pid(): number | undefined;
  /** SIGKILL, as a crash: clients see the connection drop. Resolves when the process is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: nothing persisted). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolvePort(port));
    });
  });
}

/**
 * Asks INFO over a raw socket until the server answering on `port` is the process `pid` (not
 * some other redis that already held the port), for at most `ms`.
 */
async function waitOurs(port: number, pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const seen = await new Promise<number | undefined>((res) => {
      const sock = connect({ host: '127.0.0.1', port });
      let buf = '';
      const finish = (v: number | undefined) => {
        clearTimeout(t);
        sock.destroy();
        res(v);
      };
      const t = setTimeout(() => finish(undefined), 500);
      sock.once('connect', () => sock.write('INFO server\r\n'));
      sock.on('data', (d) => {
        buf += d.toString();
        const m = /process_id:(\d+)/.exec(buf);
        if (m) finish(Number(m[1]));
      });
      sock.once('error', () => finish(undefined));
    });
    if (seen !== undefined) return seen === pid;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((res) => child.once('exit', () => res()));
}

export async function startRedisServer(): Promise<RedisServer> {
  if (!redisServerBin) throw new Error(NO_REDIS_MESSAGE);
  const bin = redisServerBin;
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-redis-'));
  let child: ChildProcess | undefined;
  let port = 0;
  let log = '';

  const launch = async (p: number): Promise<boolean> => {
    log = '';
    const c = spawn(
      bin,
      [
        '--port',
        String(p),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--daemonize',
        'no',
        '--protected-mode',
        'yes',
        '--loglevel',
        'warning',
        '--databases',
        '1',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    c.stdout!.on('data', (d) => (log += d));
    c.stderr!.on('data', (d) => (log += d));
    child = c;
    const up = c.pid !== undefined && (await Promise.race([waitOurs(p, c.pid, 5000), exited(c).then(() => false)]));
    if (!up) {
      c.kill('SIGKILL');
      await exited(c);
    }
    return up;
  };

  // The free port may be taken between probing and binding: try a few.
  for (let i = 0; i < 5 && !port; i++) {
    const p = await freePort();
    if (await launch(p)) port = p;
  }
  if (!port) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`redis-server did not start: ${log.slice(-2000)}`);
  }

  const kill = async () => {
    if (!child) return;
    const c = child;
    child = undefined;
    c.kill('SIGKILL');
    await exited(c);
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: () => child?.pid,
    kill,
    async restart() {
      await kill();
      // The port was ours a moment ago; retry briefly if the kernel still holds it.
      for (let i = 0; i < 20; i++) {
        if (await launch(port)) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`redis-server did not restart on port ${port}: ${log.slice(-2000)}`);
    },
    async stop() {
      if (child) {
        const c = child;
        child = undefined;
        c.kill('SIGTERM');
        const t = setTimeout(() => c.kill('SIGKILL'), 3000);
        await exited(c);
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
