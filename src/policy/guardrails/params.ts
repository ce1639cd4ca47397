// Reading a check's parameters at load time: each helper names the parameter's path when it is
// missing or of the wrong type, and refuses parameters the check does not know.
import { ConfigError, formatPath } from '../../config/errors.js';

export type Params = Record<string, unknown>;
export type Path = PropertyKey[];

export function fail(path: Path, message: string): never {
  throw new ConfigError(`${formatPath(path)}: ${message}`);
}

export function only(p: Params, known: readonly string[], path: Path, what: string): void {
  for (const k of Object.keys(p)) {
    if (!known.includes(k))
      fail([...path, k], `${what} has no parameter "${k}" (known: ${known.join(', ') || 'none'})`);
  }
}

export function bool(p: Params, k: string, path: Path, dflt = false): boolean {
  const v = p[k];
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') fail([...path, k], 'must be true or false');
  return v;
}

export function num(p: Params, k: string, path: Path): number | undefined {
  const v = p[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail([...path, k], 'must be a number ≥ 0');
  return v;
}

export function str(p: Params, k: string, path: Path, required = true): string | undefined {
  const v = p[k];
  if (v === undefined) {
    if (required) fail([...path, k], 'is required');
    return undefined;
  }
  if (typeof v !== 'string') fail([...path, k], 'must be a string');
  return v;
}

export function strings(p: Params, k: string, path: Path, required = true): string[] | undefined {
  let v = p[k];
  if (v === undefined) {
    if (required) fail([...path, k], 'is required (a list of strings)');
    return undefined;
  }
  if (typeof v === 'string') v = [v];
  if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'string' || x === ''))
    fail([...path, k], 'must be a non-empty list of non-empty strings');
  return v as string[];
}

export function oneOf<T extends string>(p: Params, k: string, allowed: readonly T[], path: Path, dflt: T): T {
  const v = p[k];
  if (v === undefined) return dflt;
  if (typeof v !== 'string' || !allowed.includes(v as T)) fail([...path, k], `must be one of ${allowed.join(', ')}`);
  return v as T;
}

export function isObject(v: unknown): v is Params {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Python-style flag names (the seed's `flags: [IGNORECASE]`) or JS letters, to RegExp flags. */
export function regexFlags(v: unknown, path: Path): string {
  if (v === undefined) return '';
  const names: Record<string, string> = {
    IGNORECASE: 'i',
    I: 'i',
    i: 'i',
    MULTILINE: 'm',
    M: 'm',
    m: 'm',
    DOTALL: 's',
    S: 's',
    s: 's',
    UNICODE: 'u',
    U: 'u',
    u: 'u',
  };
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list)) fail(path, 'must be a list of flags (IGNORECASE, MULTILINE, DOTALL, UNICODE)');
  let out = '';
  list.forEach((f, i) => {
    const letter = typeof f === 'string' ? names[f] : undefined;
    if (!letter)
      fail([...path, i], `unknown regex flag ${JSON.stringify(f)} (known: IGNORECASE, MULTILINE, DOTALL, UNICODE)`);
    if (!out.includes(letter)) out += letter;
  });
  return out;
}

export function compile(pattern: string, flags: string, path: Path): RegExp {
  try {
    return new RegExp(pattern, flags);
  } catch (e) {
    fail(path, `regular expression does not compile: ${(e as Error).message}`);
  }
}

export const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
