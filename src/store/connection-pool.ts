// Hands each interface query a free engine connection, in arrival order, and refuses queries
// beyond a bounded queue (TOO_MANY_SIMULTANEOUS_QUERIES, as a server with
// max_concurrent_queries does) instead of letting a burst of dashboard refreshes pile up.
import type { EngineConnection } from './embedded.js';
import { ClickHouseError } from './sql-guard.js';

export class ConnectionPool {
  private readonly free: EngineConnection[];
  private readonly waiting: Array<(c: EngineConnection) => void> = [];

  constructor(
    connections: EngineConnection[],
    private readonly maxQueued: number,
  ) {
    this.free = [...connections];
  }

  async run<T>(task: (conn: EngineConnection) => Promise<T>): Promise<T> {
    const conn = await this.acquire();
    try {
      return await task(conn);
    } finally {
      const next = this.waiting.shift();
      if (next) next(conn);
      else this.free.push(conn);
    }
  }

  private acquire(): Promise<EngineConnection> {
    const conn = this.free.pop();
    if (conn) return Promise.resolve(conn);
    if (this.waiting.length >= this.maxQueued) {
      return Promise.reject(
        new ClickHouseError(
          202,
          'TOO_MANY_SIMULTANEOUS_QUERIES',
          `Too many simultaneous queries (${this.waiting.length} waiting). Try again later`,
        ),
      );
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}
