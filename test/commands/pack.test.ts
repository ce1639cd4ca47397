// What `npm pack` ships: the compiled CLI and every file it reads at run time (SQL migrations,
// Lua scripts, OTLP .proto files, dashboards, examples, deploy assets), and no tests or benches.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function filesUnder(dir: string, ext?: string): string[] {
  return readdirSync(path.join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && (!ext || e.name.endsWith(ext)))
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)));
}

describe('npm pack', () => {
  it('ships dist/, bin/, the SQL, Lua and .proto files, dashboards and deploy assets, and no tests or benches', () => {
    // --ignore-scripts: `prepare` would rebuild dist/, which `npm install` already did.
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    const files = new Set((JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0].files.map((f) => f.path));
    const want = [
      'package.json',
      'README.md',
      'CHANGELOG.md',
      'bin/switchyard.js',
      'dist/cli.js',
      'dist/telemetry/export-worker.js',
      'dist/collector/decode-worker.js',
      'dashboards/llm-overview.json',
      'examples/simulated.yaml',
      'examples/demo.yaml',
      // Every compiled module (a source file without its .js would fail an import at run time).
      ...filesUnder('src', '.ts').map((f) => f.replace(/^src\//, 'dist/').replace(/\.ts$/, '.js')),
      ...filesUnder('src/store/sql', '.sql'),
      ...filesUnder('src/policy/state/lua', '.lua'),
      ...filesUnder('src/collector/proto', '.proto'),
      ...filesUnder('dashboards/queries'),
      ...filesUnder('deploy'),
    ];
    const missing = want.filter((f) => !files.has(f));
    expect(missing).toEqual([]);
    const unwanted = [...files].filter(
      (f) =>
        /^(test|bench|node_modules|\.switchyard|\.ci)\//.test(f) ||
        (f.startsWith('src/') && f.endsWith('.ts')) ||
        f.endsWith('.map') ||
        f.endsWith('.test.js'),
    );
    expect(unwanted).toEqual([]);
  }, 90_000);
});
