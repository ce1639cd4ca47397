// Locates the .sql files. They live next to this module in src/store/sql; a build in dist/
// has no copy of them, so fall back to the package's src/store/sql (shipped with the package).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function sqlDir(): string {
  if (cached) return cached;
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'sql'), resolve(here, '..', '..', 'src', 'store', 'sql')];
  const found = candidates.find((d) => existsSync(join(d, 'migrations')));
  if (!found) throw new Error(`switchyard: SQL files not found (looked in ${candidates.join(', ')})`);
  cached = found;
  return found;
}

export function readSql(relative: string): string {
  return readFileSync(join(sqlDir(), relative), 'utf8');
}

export function listSql(subdir: string): string[] {
  return readdirSync(join(sqlDir(), subdir))
    .filter((f) => f.endsWith('.sql'))
    .sort();
}
