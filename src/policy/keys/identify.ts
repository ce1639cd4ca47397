// Identify: which virtual key calls, and may it use what the routing config would call.
import type { IncomingHttpHeaders } from 'node:http';
import type { TargetSpec } from '../../config/schema.js';
import { providerRef } from '../../config/load.js';
import { inherit, isLeaf, leafModel, ROOT, type Inherited } from '../../routing/tree.js';
import { ForbiddenError, UnauthorizedError } from '../errors.js';
import type { Stage } from '../pipeline.js';
import { keyAllowsModel, keyAllowsProvider, type KeyRegistry, type VirtualKey } from './registry.js';

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)?.trim() || undefined;

/** The presented key and whether it came from a header that names a virtual key explicitly. */
export function presentedKey(h: IncomingHttpHeaders): { secret: string; explicit: boolean } | undefined {
  const explicit = first(h['x-switchyard-virtual-key']) ?? first(h['x-portkey-virtual-key']);
  if (explicit) return { secret: explicit, explicit: true };
  // OpenAI SDKs send their api_key as a bearer token, Anthropic SDKs as x-api-key.
  const bearer = /^Bearer\s+(.+)$/i.exec(first(h.authorization) ?? '')?.[1]?.trim();
  const other = bearer || first(h['x-api-key']);
  return other ? { secret: other, explicit: false } : undefined;
}

export function isUsable(key: VirtualKey, now: number): boolean {
  return !key.spec.disabled && (key.expiresAt === undefined || key.expiresAt > now);
}

/** Every leaf the routing could call: provider slug and model. */
export function routingLeaves(routing: TargetSpec, requestModel: unknown): Array<{ slug: string; model: string }> {
  const out: Array<{ slug: string; model: string }> = [];
  const walk = (node: TargetSpec, parent: Inherited) => {
    const s = inherit(parent, node);
    if (isLeaf(node)) {
      out.push({ slug: providerRef(node)?.slug ?? '', model: leafModel(s, requestModel) });
      return;
    }
    for (const c of node.targets!) walk(c, s);
  };
  walk(routing, ROOT);
  return out;
}

export function createIdentifyStage(registry: KeyRegistry, required: boolean, now: () => number = Date.now): Stage {
  return {
    name: 'identify',
    async handle(ctx, next) {
      if (registry.size === 0) return next(ctx);
      const presented = presentedKey(ctx.headers);
      const key = presented ? registry.find(presented.secret) : undefined;
      if (!key) {
        // Without a requirement, an unknown bearer token may be an app's own provider key; an
        // explicit virtual-key header that matches nothing is refused either way.
        if (!required && !presented?.explicit) return next(ctx);
        throw new UnauthorizedError();
      }
      if (!isUsable(key, now())) throw new UnauthorizedError();
      for (const leaf of routingLeaves(ctx.routing, ctx.body.model)) {
        if (!keyAllowsProvider(key, leaf.slug)) throw new ForbiddenError(`virtual key "${key.name}" may not use provider "@${leaf.slug}"`);
        if (!keyAllowsModel(key, leaf.model)) throw new ForbiddenError(`virtual key "${key.name}" may not use model "${leaf.model}"`);
      }
      ctx.key = key;
      ctx.attributes['switchyard.virtual_key'] = key.name;
      return next(ctx);
    },
  };
}
