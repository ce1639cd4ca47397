// No Docker engine here, so the images are checked statically: the Dockerfile's stages and users,
// the build context the whitelist .dockerignore lets through, and — what the slim sidecar image
// relies on — that the sidecar and injector commands never statically import chdb or a devDependency.
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = path.resolve(import.meta.dirname, '../..');
const dockerfile = readFileSync(path.join(repo, 'deploy/docker/Dockerfile'), 'utf8');
const pkg = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8'));

interface Stage {
  name: string;
  from: string;
  lines: string[];
}

function stages(text: string): Stage[] {
  const out: Stage[] = [];
  const joined = text.replace(/\\\n/g, ' ');
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const from = line.match(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i);
    if (from) out.push({ name: from[2] ?? '', from: from[1], lines: [] });
    else out.at(-1)?.lines.push(line);
  }
  return out;
}

/** The stage's effective USER, following FROM <stage> chains. */
function userOf(all: Stage[], stage: Stage): string | undefined {
  const own = stage.lines.filter((l) => /^USER\s/i.test(l)).at(-1);
  if (own) return own.split(/\s+/)[1];
  const parent = all.find((s) => s.name === stage.from);
  return parent ? userOf(all, parent) : undefined;
}

describe('deploy/docker/Dockerfile', () => {
  const all = stages(dockerfile);
  const byName = (n: string) => all.find((s) => s.name === n)!;

  it('builds with npm ci + npm run build and ends on the full image, with a sidecar target', () => {
    expect(all.map((s) => s.name)).toEqual(['build', 'prod-deps', 'sidecar-deps', 'runtime', 'sidecar', 'full']);
    expect(byName('build').lines.join('\n')).toMatch(/npm ci[\s\S]*npm run build/);
    expect(byName('prod-deps').lines.join('\n')).toMatch(/npm ci --omit=dev/);
    for (const s of ['sidecar', 'full']) expect(byName(s).from).toBe('runtime');
    expect(byName('sidecar').lines).toContain('CMD ["sidecar"]');
    expect(byName('runtime').lines).toContain('ENTRYPOINT ["node", "/app/bin/switchyard.js"]');
  });

  it('runs both images as a numeric non-root user', () => {
    for (const s of ['sidecar', 'full']) {
      const user = userOf(all, byName(s));
      expect(user, s).toMatch(/^[1-9][0-9]*(:[0-9]+)?$/);
    }
  });

  it('leaves chdb out of the sidecar image only', () => {
    expect(byName('sidecar-deps').lines.join('\n')).toMatch(/rm -rf node_modules\/chdb node_modules\/@chdb/);
    expect(byName('sidecar').lines.join('\n')).toMatch(/--from=sidecar-deps/);
    expect(byName('full').lines.join('\n')).toMatch(/--from=prod-deps/);
  });

  it('copies from the context only what .dockerignore lets through, and all of it exists', () => {
    const ignore = readFileSync(path.join(repo, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(ignore[0]).toBe('*');
    const allowed = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''));
    const sources = dockerfile
      .split('\n')
      .filter((l) => /^COPY\s/.test(l.trim()) && !l.includes('--from='))
      .flatMap((l) => l.trim().split(/\s+/).slice(1, -1));
    expect(sources.length).toBeGreaterThan(5);
    for (const src of sources) {
      expect(allowed, src).toContain(src);
      expect(existsSync(path.join(repo, src)), src).toBe(true);
    }
  });
});

/** Static (not dynamic import()) runtime imports reachable from a module, transitively. */
function staticImports(entry: string): { bare: Set<string>; files: Set<string> } {
  const bare = new Set<string>();
  const files = new Set<string>();
  const queue = [entry];
  const pattern = /^\s*(?:import|export)\s+(?!type\b)(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]/gm;
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(pattern)) {
      const spec = m[1];
      if (spec.startsWith('.')) queue.push(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
      else bare.add(spec);
    }
  }
  return { bare, files };
}

const packageName = (spec: string) =>
  spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];

describe('what the slim sidecar image can run', () => {
  const entries = ['src/cli.ts', 'src/commands/injector.ts', 'src/commands/sidecar.ts'].filter((f) =>
    existsSync(path.join(repo, f)),
  );

  it.each(entries)('%s imports no chdb and no devDependency at load time', (entry) => {
    const { bare, files } = staticImports(path.join(repo, entry));
    expect(files.size).toBeGreaterThan(0);
    const packages = [...bare].filter((s) => !s.startsWith('node:') && !builtinModules.includes(s)).map(packageName);
    expect(packages.filter((p) => p === 'chdb' || p.startsWith('@chdb/'))).toEqual([]);
    for (const p of packages) expect(Object.keys(pkg.dependencies), `${entry} needs ${p} at run time`).toContain(p);
  });
});
