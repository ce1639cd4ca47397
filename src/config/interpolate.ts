// ${VAR} and ${VAR:-default} in string values (not in raw text, so a secret holding quotes or
// newlines can never break the YAML/JSON structure).
import { ConfigError, formatPath } from './errors.js';

const pattern = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function interpolate(value: unknown, env: NodeJS.ProcessEnv, path: PropertyKey[] = []): unknown {
  if (typeof value === 'string') {
    return value.replace(pattern, (_m, name: string, fallback: string | undefined) => {
      const v = env[name];
      if (v !== undefined && v !== '') return v;
      if (fallback !== undefined) return fallback;
      throw new ConfigError(
        `${formatPath(path)}: environment variable ${name} is not set (write \${${name}:-} to allow it empty)`,
      );
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, [...path, i]));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolate(v, env, [...path, k]);
    return out;
  }
  return value;
}
