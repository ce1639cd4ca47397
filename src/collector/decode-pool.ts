// Runs decodeExport on worker threads (or inline with 0 threads). Tasks go to the thread with
// the fewest in flight; a thread that dies fails its tasks (answered 500, the sender retries)
// and is replaced after a pause that grows while replacements keep dying; with no thread
// alive, requests decode inline rather than fail. A body the caller owns outright moves to the
// worker and the encoded payload moves back (transferred, not copied): a few hundred KB per
// request each way, which as copies also kept the garbage collector busy.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { logger } from '../logger.js';
import { type DecodeResult, type Encoding, decodeExport } from './decode-job.js';

const RESPAWN_MIN_MS = 100;
const RESPAWN_MAX_MS = 10_000;

export interface DecodeTask {
  id: number;
  enc: Encoding;
  body: Uint8Array;
}
/** Sent once by a worker when it takes tasks (its modules can take a while to load under load). */
export interface DecodeReady {
  ready: true;
}
export type DecodeReply =
  | { id: number; result: DecodeResult; failure?: undefined }
  | { id: number; failure: string; result?: undefined };

interface Pending {
  resolve(r: DecodeResult): void;
  reject(err: Error): void;
}

interface Thread {
  worker: Worker;
  pending: Map<number, Pending>;
  ready: boolean;
}

function startWorker(): Worker {
  const compiled = new URL('./decode-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(compiled))) return new Worker(compiled);
  // Running from TypeScript sources (tests, tsx): load the worker through tsx as well.
  const source = new URL('./decode-worker.ts', import.meta.url).href;
  return new Worker(
    `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(source)}); })`,
    { eval: true },
  );
}

export class DecodePool {
  private readonly threads: Thread[] = [];
  private nextId = 1;
  private closed = false;
  private respawnDelayMs = RESPAWN_MIN_MS;

  constructor(threads: number) {
    for (let i = 0; i < threads; i++) this.threads.push(this.spawn());
  }

  /** Threads alive and taking tasks now. */
  get size(): number {
    return this.threads.filter((t) => t.ready).length;
  }

  /** Resolves once every thread takes tasks (or `timeoutMs` passed); true when all do. */
  async ready(timeoutMs = 10_000): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (this.threads.some((t) => !t.ready) && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    return this.threads.every((t) => t.ready);
  }

  /**
   * `transfer`: the caller hands `body` over (it owns its whole ArrayBuffer and will not read it
   * again); it is moved to the worker instead of copied.
   */
  decode(enc: Encoding, body: Uint8Array, { transfer = false } = {}): Promise<DecodeResult> {
    let t: Thread | undefined;
    if (!this.closed) for (const o of this.threads) if (o.ready && (!t || o.pending.size < t.pending.size)) t = o;
    // No worker ready (starting, replaced, or closed): decode here rather than wait for one.
    if (!t) return Promise.resolve().then(() => decodeExport(enc, body));
    const id = this.nextId++;
    const thread = t;
    return new Promise<DecodeResult>((resolve, reject) => {
      thread.pending.set(id, { resolve, reject });
      const movable =
        transfer && body.byteOffset === 0 && body.byteLength === body.buffer.byteLength && body.byteLength > 0;
      thread.worker.postMessage({ id, enc, body } satisfies DecodeTask, movable ? [body.buffer as ArrayBuffer] : []);
    });
  }

  /** Stops the workers; waits at most `boundMs` (a worker still loading its modules may not stop at once). */
  async close(boundMs = 1000): Promise<void> {
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((r) => (timer = setTimeout(r, boundMs).unref()));
    // They are unref'd: one that outlives the bound does not keep the process alive.
    await Promise.race([Promise.all(this.threads.map((t) => t.worker.terminate().catch(() => 0))), bound]);
    clearTimeout(timer);
  }

  private spawn(): Thread {
    const thread: Thread = { worker: startWorker(), pending: new Map(), ready: false };
    const started = Date.now();
    thread.worker.unref();
    thread.worker.on('message', (m: DecodeReply | DecodeReady) => {
      if ('ready' in m) return void (thread.ready = true);
      const p = thread.pending.get(m.id);
      if (!p) return;
      thread.pending.delete(m.id);
      if (m.result) p.resolve(m.result);
      else p.reject(new Error(`decode worker failed: ${m.failure}`));
    });
    thread.worker.on('error', (err) => logger.error('decode worker crashed', { error: err.message }));
    thread.worker.on('exit', (code) => {
      for (const p of thread.pending.values()) p.reject(new Error(`decode worker exited (code ${code})`));
      thread.pending.clear();
      const i = this.threads.indexOf(thread);
      if (i < 0 || this.closed) return;
      this.threads.splice(i, 1);
      this.respawnDelayMs =
        Date.now() - started < 10_000 ? Math.min(this.respawnDelayMs * 2, RESPAWN_MAX_MS) : RESPAWN_MIN_MS;
      setTimeout(() => {
        if (!this.closed) this.threads.push(this.spawn());
      }, this.respawnDelayMs).unref();
    });
    return thread;
  }
}
