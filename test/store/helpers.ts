// Shared helpers for the store tests: a temp data folder per test file, a seeded PRNG, and
// the quantile truth the sketches are checked against.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempDataDir(label: string): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), `switchyard-${label}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** mulberry32: deterministic test data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The values at the two ranks around q*(n-1) in the sorted sample. ClickHouse's quantilesDD
 * answers the element at rank floor(q*(n-1)) within its relative accuracy; allowing the
 * neighbouring rank keeps the check independent of that rank convention.
 */
export function quantileBracket(values: number[], q: number): [number, number] {
  const s = [...values].sort((a, b) => a - b);
  const r = q * (s.length - 1);
  return [s[Math.floor(r)], s[Math.ceil(r)]];
}

/** DDSketch guarantee: within relative accuracy alpha of a value at the quantile's rank. */
export function withinSketchBound(estimate: number, bracket: [number, number], alpha: number): boolean {
  return estimate >= bracket[0] * (1 - alpha) && estimate <= bracket[1] * (1 + alpha);
}

export function minuteFloor(ms: number): number {
  return Math.floor(ms / 60_000) * 60_000;
}

/** 'YYYY-MM-DD HH:MM:SS' in UTC, as ClickHouse prints DateTime. */
export function chDateTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/**
 * A TCP listener on 127.0.0.1 that counts and drops connections: the "outside host" that
 * escape attempts aim at (url(), remote(), …), so a test can assert nothing ever reached it.
 */
export async function countingListener(): Promise<{ port: number; connections(): number; close(): Promise<void> }> {
  let n = 0;
  const server = createServer((s) => {
    n++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    connections: () => n,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
