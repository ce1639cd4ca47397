// Provider-specific config fields (region, deployment, project…) pass through the config schema;
// each adapter validates its own here and names the offending field in the error.
import type { z } from 'zod';
import type { ResolvedProvider } from '../types.js';

/** A provider entry that cannot work as configured: the operator's fault, so 500 and a field path. */
export class ProviderConfigError extends Error {
  readonly status = 500;
}

const cache = new WeakMap<object, unknown>();

export function providerOptions<T>(schema: z.ZodType<T>, p: ResolvedProvider): T {
  const hit = cache.get(p.spec);
  if (hit !== undefined) return hit as T;
  const r = schema.safeParse(p.spec);
  if (!r.success) {
    const i = r.error.issues[0];
    const field = i.path.map(String).join('.');
    const missing = i.code === 'invalid_type' && (i as { input?: unknown }).input === undefined;
    throw new ProviderConfigError(
      `providers.${p.slug}${field ? `.${field}` : ''}: ${missing ? `is required for type ${p.type}` : i.message}`,
    );
  }
  cache.set(p.spec, r.data as object);
  return r.data;
}

/** A field the operator must give (directly or through the environment). */
export function required<T>(value: T | undefined, p: ResolvedProvider, field: string, hint = ''): T {
  if (value === undefined || value === null || value === '') {
    throw new ProviderConfigError(
      `providers.${p.slug}.${field}: is required for type ${p.type}${hint ? ` (${hint})` : ''}`,
    );
  }
  return value;
}
