// Redis StateStore: a fleet of sidecars shares limits, budgets and cache entries through one
// redis-server. Each operation is ONE round trip: a Lua script (src/policy/state/lua/, sent
// with EVALSHA, falling back to EVAL on NOSCRIPT by ioredis' defineCommand) or one command.
// Scripts read the server's clock (TIME), so sidecars with skewed clocks agree.
//
// Keys (prefix default "switchyard:"; the caller's key in braces is a Redis Cluster hash tag,
// so every key one script touches sits in one slot):
//   <prefix>{<key>}:rl                 GCRA state "tat frac den"        (PX: until TAT)
//   <prefix>{<key>}:b:<windowId>       hash used, reserved, a:<id>       (PEXPIREAT: window end + 1 h)
//   <prefix>{<key>}:b:<windowId>:z     zset r:<id> -> expiry, d:<id> -> forget time (same expiry)
//   <prefix>c:<key>                    cache entry bytes                 (PX: ttl)
//
// Failure behaviour: no offline queue, no retry of a sent command, a 1 s command timeout and a
// 1 s connect timeout: when Redis is down or hangs, operations reject with
// StateStoreUnavailable within about a second; the client reconnects on its own (backoff
// 100 ms doubling to 1 s) and operations succeed again once Redis answers. A command that
// timed out may still have run on the server; a reservation made that way expires by its ttl.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis, type RedisOptions } from 'ioredis';
import {
  SETTLED_ID_KEEP_MS,
  StateStoreUnavailable,
  WINDOW_GRACE_MS,
  type BudgetDecision,
  type BudgetStatus,
  type RateAdjustRequest,
  type RateDecision,
  type RateRequest,
  type ReserveRequest,
  type SettleRequest,
  type StateStore,
} from './types.js';
import { checkAdjust, checkKey, checkRate, checkReserve, checkSettle, checkTtl } from './validate.js';
import { toRateDecision } from './decision.js';

export interface RedisStateStoreOptions {
  /** redis://[[user]:password@]host[:port][/db] or rediss:// (TLS). */
  url: string;
  /** Prefix of every key; default "switchyard:". */
  keyPrefix?: string;
  /** A command without a reply after this long rejects as unavailable; default 1000 ms. */
  commandTimeoutMs?: number;
  /** TCP connect timeout; default 1000 ms. */
  connectTimeoutMs?: number;
  /** Called when the connection becomes usable (true) or is lost (false). Never given the URL. */
  onAvailability?: (up: boolean, error?: Error) => void;
  /**
   * TESTS ONLY: ms since the epoch sent to the scripts instead of the server's clock, so the
   * same deterministic suite runs against both stores. Production must leave it unset.
   */
  clock?: () => number;
}

type Raw = (string | number)[];
interface ScriptedRedis extends Redis {
  swGcra(key: string, op: string, limit: string, periodUs: string, n: string, nowUs: string): Promise<Raw>;
  swBudget(hash: string, zset: string, ...argv: string[]): Promise<Raw>;
}

let luaDirCache: string | undefined;
/** The .lua files sit beside this module under src/; a build in dist/ falls back to the package's src/. */
export function luaDir(): string {
  if (luaDirCache) return luaDirCache;
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'lua'), resolve(here, '..', '..', '..', 'src', 'policy', 'state', 'lua')];
  const found = candidates.find((d) => existsSync(join(d, 'gcra.lua')));
  if (!found) throw new Error(`switchyard: Lua scripts not found (looked in ${candidates.join(', ')})`);
  return (luaDirCache = found);
}
const readLua = (name: string) => readFileSync(join(luaDir(), name), 'utf8');

/** Redis replies that mean "cannot serve now" rather than "your request is wrong". */
const TRANSIENT_REPLY = /^(LOADING|BUSY|MASTERDOWN|READONLY|CLUSTERDOWN|TRYAGAIN|OOM|NOREPLICAS|MISCONF)\b/;

export class RedisStateStore implements StateStore {
  readonly kind = 'redis' as const;
  private readonly client: ScriptedRedis;
  private readonly prefix: string;
  private readonly clock?: () => number;
  private readonly commandTimeoutMs: number;
  private up = false;
  private lastError: Error | undefined;
  private closed = false;

  constructor(opts: RedisStateStoreOptions) {
    this.prefix = opts.keyPrefix ?? 'switchyard:';
    this.clock = opts.clock;
    this.commandTimeoutMs = opts.commandTimeoutMs ?? 1000;
    const options: RedisOptions = {
      lazyConnect: true,
      enableOfflineQueue: false, // fail at once while disconnected instead of queueing
      maxRetriesPerRequest: 0, // a command lost with its connection is rejected, never re-sent
      autoResendUnfulfilledCommands: false, // ...not even after reconnecting (it may have run)
      commandTimeout: this.commandTimeoutMs,
      connectTimeout: opts.connectTimeoutMs ?? 1000,
      retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times - 1, 4), 1000),
      enableAutoPipelining: false,
      connectionName: 'switchyard-state',
      scripts: {
        swGcra: { lua: readLua('gcra.lua'), numberOfKeys: 1 },
        swBudget: { lua: readLua('budget.lua'), numberOfKeys: 2 },
      },
    };
    this.client = new Redis(opts.url, options) as ScriptedRedis;
    this.client.on('ready', () => {
      if (!this.up) opts.onAvailability?.(true);
      this.up = true;
      this.lastError = undefined;
    });
    this.client.on('error', (e: Error) => {
      this.lastError = e; // without a listener ioredis prints every connection error
    });
    this.client.on('close', () => {
      if (this.up) opts.onAvailability?.(false, this.lastError);
      this.up = false;
    });
    this.client.connect().catch(() => undefined); // reconnects by itself; operations report the state
  }

  /** Resolves once connected, or after `ms` anyway (operations then reject until Redis answers). */
  async waitReady(ms: number): Promise<boolean> {
    if (this.client.status === 'ready') return true;
    return new Promise<boolean>((resolveReady) => {
      const done = (v: boolean) => {
        clearTimeout(t);
        this.client.off('ready', onReady);
        resolveReady(v);
      };
      const onReady = () => done(true);
      const t = setTimeout(() => done(false), ms);
      t.unref();
      this.client.once('ready', onReady);
    });
  }

  private fail(e: unknown): Error {
    if (e instanceof StateStoreUnavailable) return e;
    const err = e instanceof Error ? e : new Error(String(e));
    if (err.name === 'ReplyError') {
      if (err.message.startsWith('SETTLED')) return new RangeError(`reserve: ${err.message.replace(/^SETTLED /, '')}`);
      if (!TRANSIENT_REPLY.test(err.message)) return err; // a script or usage bug: let it surface as is
    }
    const why = this.closed ? 'store closed' : err.message;
    return new StateStoreUnavailable(`redis state store unavailable: ${why}`, { cause: err });
  }

  private async run<T>(f: () => Promise<T>): Promise<T> {
    if (this.closed) throw new StateStoreUnavailable('redis state store is closed');
    try {
      return await f();
    } catch (e) {
      throw this.fail(e);
    }
  }

  private rateKey(key: string): string {
    return `${this.prefix}{${key}}:rl`;
  }
  private budgetKeys(key: string, windowId: string): [string, string] {
    const h = `${this.prefix}{${key}}:b:${windowId}`;
    return [h, `${h}:z`];
  }
  private nowUs(): string {
    return this.clock ? String(Math.floor(this.clock() * 1000)) : '';
  }
  private nowMs(): string {
    return this.clock ? String(Math.floor(this.clock())) : '';
  }

  async rateLimit(key: string, req: RateRequest): Promise<RateDecision> {
    checkRate(key, req);
    const r = await this.run(() =>
      this.client.swGcra(
        this.rateKey(key),
        'take',
        String(req.limit),
        String(req.periodMs * 1000),
        String(req.cost),
        this.nowUs(),
      ),
    );
    return toRateDecision(req, Number(r[0]) === 1, Number(r[1]), Number(r[2]), Number(r[3]));
  }

  async rateAdjust(key: string, req: RateAdjustRequest): Promise<void> {
    checkAdjust(key, req);
    if (req.delta === 0) return;
    await this.run(() =>
      this.client.swGcra(
        this.rateKey(key),
        'adjust',
        String(req.limit),
        String(req.periodMs * 1000),
        String(req.delta),
        this.nowUs(),
      ),
    );
  }

  async reserve(key: string, req: ReserveRequest): Promise<BudgetDecision> {
    checkReserve(key, req);
    const [h, z] = this.budgetKeys(key, req.windowId);
    const r = await this.run(() =>
      this.client.swBudget(
        h,
        z,
        'reserve',
        this.nowMs(),
        req.reservationId,
        end(req.windowEndsAt),
        String(WINDOW_GRACE_MS),
        String(req.limit),
        String(req.amount),
        String(req.ttlMs),
      ),
    );
    const used = Number(r[1]);
    const reserved = Number(r[2]);
    return { ok: Number(r[0]) === 1, used, reserved, remaining: Math.max(0, req.limit - used - reserved) };
  }

  async settle(key: string, req: SettleRequest): Promise<BudgetStatus> {
    checkSettle(key, req);
    const [h, z] = this.budgetKeys(key, req.windowId);
    const r = await this.run(() =>
      this.client.swBudget(
        h,
        z,
        'settle',
        this.nowMs(),
        req.reservationId,
        end(req.windowEndsAt),
        String(WINDOW_GRACE_MS),
        String(req.actual),
        String(SETTLED_ID_KEEP_MS),
      ),
    );
    return { used: Number(r[1]), reserved: Number(r[2]) };
  }

  async budgetStatus(key: string, req: { windowId: string }): Promise<BudgetStatus> {
    checkKey(key);
    const [h, z] = this.budgetKeys(key, req.windowId);
    const r = await this.run(() => this.client.swBudget(h, z, 'status', this.nowMs(), '', '', '0'));
    return { used: Number(r[0]), reserved: Number(r[1]) };
  }

  async get(key: string): Promise<Buffer | undefined> {
    checkKey(key);
    const v = await this.run(() => this.client.getBuffer(`${this.prefix}c:${key}`));
    return v ?? undefined;
  }

  async set(key: string, value: Buffer, ttlMs: number): Promise<void> {
    checkKey(key);
    checkTtl(ttlMs);
    await this.run(() => this.client.set(`${this.prefix}c:${key}`, value, 'PX', ttlMs));
  }

  async ping(): Promise<boolean> {
    if (this.closed) return false;
    try {
      return (await this.client.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.client.status === 'ready') {
      const t = new Promise((r) => setTimeout(r, 500).unref());
      await Promise.race([this.client.quit().catch(() => undefined), t]);
    }
    this.client.disconnect();
  }
}

const end = (v: number | null) => (v === null ? '' : String(v));
