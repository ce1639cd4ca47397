// Writes the dashboards' JSON and the alert rules from code:
//   node --import tsx dashboards/generate.ts           write the files
//   node --import tsx dashboards/generate.ts --check   exit 1 if a committed file differs
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildArtifacts } from './build.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
let stale = 0;
for (const a of buildArtifacts()) {
  const file = resolve(root, a.path);
  const current = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  if (current === a.content) continue;
  if (check) {
    console.error(`stale: ${a.path} (run: node --import tsx dashboards/generate.ts)`);
    stale++;
    continue;
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, a.content);
  console.log(`wrote ${a.path}`);
}
if (stale > 0) process.exit(1);
