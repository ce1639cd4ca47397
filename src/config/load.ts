// Reads a config file (YAML or JSON), interpolates ${ENV}, validates it and checks references.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { FileConfig, TargetSpec } from './schema.js';
import { ConfigError, formatPath, fromZod } from './errors.js';
import { interpolate } from './interpolate.js';
import { checkInlineEndpoints } from './inline-targets.js';
import { checkRoutingPolicy, resolveVirtualKeyTargets } from '../policy/check.js';

export interface LoadedConfig {
  file: FileConfig;
  source: string;
  loadedAt: number;
}

export function parseConfigText(text: string, source: string, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  let raw: unknown;
  try {
    // YAML is a superset of JSON, but JSON's own parser gives better messages for .json files.
    raw = source.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new ConfigError(
      `${source}: not valid ${source.endsWith('.json') ? 'JSON' : 'YAML'}: ${(e as Error).message}`,
    );
  }
  if (raw === null || raw === undefined) raw = {};
  const interpolated = interpolate(raw, env);
  const parsed = FileConfig.safeParse(interpolated);
  if (!parsed.success) throw fromZod(parsed.error);
  const file = parsed.data;
  for (const [id, cfg] of Object.entries(file.configs)) {
    file.configs[id] = checkRoutingPolicy(
      resolveVirtualKeyTargets(cfg, file, ['configs', id]),
      ['configs', id],
      file.guardrails,
    );
    checkProviderRefs(file.configs[id], file, ['configs', id]);
  }
  if (file.server.inline_configs === 'off' && file.default_config === undefined) {
    // With "off" a request cannot choose a config, so every request would be refused.
    throw new ConfigError('server.inline_configs: "off" needs default_config (requests cannot choose a config)');
  }
  return { file, source, loadedAt: Date.now() };
}

export async function loadConfigFile(path: string, env: NodeJS.ProcessEnv = process.env): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ConfigError(
      `${path}: cannot read config file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  return parseConfigText(text, path, env);
}

/**
 * Validates an inline routing config (x-switchyard-config JSON) against the loaded file. Unlike
 * the file's own configs, it may not point a configured provider at another endpoint.
 */
export function parseInlineRouting(json: unknown, file: FileConfig): TargetSpec {
  const parsed = TargetSpec.safeParse(json);
  if (!parsed.success) throw fromZod(parsed.error, 'config');
  const routing = checkRoutingPolicy(
    resolveVirtualKeyTargets(parsed.data, file, ['config']),
    ['config'],
    file.guardrails,
  );
  checkProviderRefs(routing, file, ['config']);
  checkInlineEndpoints(routing, file, ['config']);
  return routing;
}

/** "@slug" must name a provider of the file; a bare name may be a slug or an inline provider type. */
export function providerRef(target: TargetSpec): { slug?: string; type?: string } | undefined {
  const p = target.provider ?? target.virtual_key;
  if (!p) return undefined;
  if (p.startsWith('@')) return { slug: p.slice(1) };
  return { slug: p, type: p };
}

function checkProviderRefs(t: TargetSpec, file: FileConfig, path: PropertyKey[]): void {
  const ref = providerRef(t);
  if (ref) {
    const known = ref.slug !== undefined && Object.hasOwn(file.providers, ref.slug);
    if (!known && ref.type === undefined) {
      throw new ConfigError(
        `${formatPath([...path, 'provider'])}: unknown provider "@${ref.slug}" (not under "providers")`,
      );
    }
  }
  t.targets?.forEach((c, i) => {
    checkProviderRefs(c, file, [...path, 'targets', i]);
  });
  if (t.strategy?.mode === 'conditional' && t.targets) {
    const names = new Set(t.targets.map((c) => c.name).filter(Boolean));
    const wanted = [
      ...(t.strategy.conditions ?? []).map((c) => c.then),
      ...(t.strategy.default ? [t.strategy.default] : []),
    ];
    for (const w of wanted) {
      if (!names.has(w)) throw new ConfigError(`${formatPath([...path, 'strategy'])}: no target named "${w}"`);
    }
  }
}
