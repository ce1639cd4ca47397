// The CLI holds V8's young generation at its size while a command starts (src/heap-settings.ts).
// V8 reads the growth factor at every scavenge; this checks it still does on this Node: in a child
// process, objects that survive (what loading modules looks like) grow the young generation
// unless it is held, and it grows again once released.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'sy-heap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const script = join(dir, 'grow.mts');
writeFileSync(
  script,
  `import v8 from 'node:v8';
import { holdYoungGeneration, releaseYoungGeneration } from ${JSON.stringify(resolve('src/heap-settings.ts'))};
const kept = [];
const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
const survive = () => { for (let i = 0; i < 300_000; i++) kept.push({ i, s: 'x' + i }); };
if (process.argv[2] === 'hold') holdYoungGeneration();
const start = newSpace();
survive();
const started = newSpace();
releaseYoungGeneration();
survive();
survive();
console.log(JSON.stringify({ start, started, released: newSpace(), kept: kept.length }));
`,
);

function run(...args: string[]): { start: number; started: number; released: number } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', ...args], { encoding: 'utf8', timeout: 30_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe('young generation held while a command starts', () => {
  it('does not grow while held, and grows again once released', () => {
    const held = run(script, 'hold');
    expect(held.started).toBe(held.start);
    expect(held.released).toBeGreaterThan(held.start);
  });

  it('grows at start when not held (what it saves)', () => {
    const free = run(script, 'free');
    expect(free.started).toBeGreaterThan(free.start);
  });
});
