// Per-request headers: which routing config, the caller's trace id and metadata, the deadline.
// Each has an x-portkey-* spelling too.
import type { IncomingHttpHeaders } from 'node:http';
import { HttpError } from './errors.js';

export const MAX_METADATA_KEYS = 32;
export const MAX_METADATA_KEY_LEN = 64;
export const MAX_METADATA_VALUE_LEN = 512;

const spellings = new Map<string, readonly [string, string]>();

export function header(h: IncomingHttpHeaders, name: string): string | undefined {
  let n = spellings.get(name);
  if (!n) spellings.set(name, (n = [`x-switchyard-${name}`, `x-portkey-${name}`]));
  const v = h[n[0]] ?? h[n[1]];
  return Array.isArray(v) ? v[0] : v;
}

export function parseMetadata(raw: string | undefined): Record<string, string> {
  if (raw === undefined || raw === '') return {};
  let obj: unknown;
  try {
    obj = JSON.parse(raw);
  } catch {
    throw new HttpError(
      400,
      'x-switchyard-metadata must be a JSON object of strings (it is not valid JSON)',
      'invalid_metadata',
    );
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj))
    throw new HttpError(400, 'x-switchyard-metadata must be a JSON object of strings', 'invalid_metadata');
  const entries = Object.entries(obj as Record<string, unknown>);
  if (entries.length > MAX_METADATA_KEYS)
    throw new HttpError(
      400,
      `x-switchyard-metadata has ${entries.length} keys; at most ${MAX_METADATA_KEYS} are allowed`,
      'invalid_metadata',
    );
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (k.length === 0 || k.length > MAX_METADATA_KEY_LEN)
      throw new HttpError(
        400,
        `x-switchyard-metadata key "${k.slice(0, 80)}" must be 1..${MAX_METADATA_KEY_LEN} characters`,
        'invalid_metadata',
      );
    if (typeof v !== 'string')
      throw new HttpError(400, `x-switchyard-metadata value of "${k}" must be a string`, 'invalid_metadata');
    if (v.length > MAX_METADATA_VALUE_LEN)
      throw new HttpError(
        400,
        `x-switchyard-metadata value of "${k}" is longer than ${MAX_METADATA_VALUE_LEN} characters`,
        'invalid_metadata',
      );
    out[k] = v;
  }
  return out;
}

export function parseDeadline(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0)
    throw new HttpError(400, 'x-switchyard-deadline-ms must be a positive integer (milliseconds)', 'invalid_deadline');
  return n;
}
