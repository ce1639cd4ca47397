// ${VAR} and ${VAR:-default} in string values (not in raw text, so a secret holding quotes or
// newlines can never break the YAML/JSON structure).
import { ConfigError, formatPath } from './errors.js';

const pattern = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Deeper documents are refused here, on the first walk over them: validation and reference
 * checks recurse, and a document nested about two thousand levels deep overflowed the stack (a
 * RangeError instead of a ConfigError). Real configs (nested targets, JSON schemas in
 * override_params) stay far below.
 */
export const MAX_CONFIG_DEPTH = 100;

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
  if (value && typeof value === 'object' && path.length >= MAX_CONFIG_DEPTH) {
    throw new ConfigError(`${formatPath(path)}: nested more than ${MAX_CONFIG_DEPTH} levels deep`);
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, [...path, i]));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const iv = interpolate(v, env, [...path, k]);
      // A "__proto__" key is data: assigned, it would become the object's prototype and its
      // fields would pass for the document's own (e.g. a default_config nobody wrote).
      if (k === '__proto__')
        Object.defineProperty(out, k, { value: iv, enumerable: true, writable: true, configurable: true });
      else out[k] = iv;
    }
    return out;
  }
  return value;
}
