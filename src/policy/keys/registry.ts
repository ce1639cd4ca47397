// The virtual keys of the loaded config, found by the SHA-256 of the secret an app presents.
// Only hashes are kept; the lookup is by digest and confirmed with a constant-time compare, so
// neither the secret nor how much of it matched shows in timing.
import { hash, timingSafeEqual } from 'node:crypto';
import type { VirtualKeySpec } from '../config.js';

export interface VirtualKey {
  readonly name: string;
  readonly spec: VirtualKeySpec;
  /** Provider slugs without "@"; undefined = all. */
  readonly providers?: ReadonlySet<string>;
  /** Model globs as regular expressions; undefined = all. */
  readonly models?: readonly RegExp[];
  /** ms since the epoch; undefined = never. */
  readonly expiresAt?: number;
}

export function sha256(secret: string): Buffer {
  // One-shot hash (Node 20.12+): a third of createHash's cost, which makes an object per call.
  return hash('sha256', secret, 'buffer');
}

/** "gpt-4o*" → /^gpt-4o.*$/ ("*" any run, "?" one character, everything else literal). */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

export class KeyRegistry {
  private readonly byDigest = new Map<string, { digest: Buffer; key: VirtualKey }>();
  readonly byName = new Map<string, VirtualKey>();

  constructor(specs: Record<string, VirtualKeySpec>) {
    for (const [name, spec] of Object.entries(specs)) {
      const digest = spec.key_sha256 ? Buffer.from(spec.key_sha256, 'hex') : sha256(spec.key!);
      const key: VirtualKey = {
        name,
        spec,
        providers: spec.providers ? new Set(spec.providers.map((p) => p.replace(/^@/, ''))) : undefined,
        models: spec.models?.map(globToRegExp),
        expiresAt: spec.expires_at ? Date.parse(spec.expires_at) : undefined,
      };
      this.byDigest.set(digest.toString('hex'), { digest, key });
      this.byName.set(name, key);
    }
  }

  get size(): number {
    return this.byName.size;
  }

  /** The key whose secret this is, or undefined. */
  find(secret: string): VirtualKey | undefined {
    const digest = sha256(secret);
    const hit = this.byDigest.get(digest.toString('hex'));
    return hit && timingSafeEqual(hit.digest, digest) ? hit.key : undefined;
  }
}

export function keyAllowsProvider(key: VirtualKey, slug: string): boolean {
  return !key.providers || key.providers.has(slug);
}

export function keyAllowsModel(key: VirtualKey, model: string): boolean {
  return !key.models || key.models.some((re) => re.test(model));
}
