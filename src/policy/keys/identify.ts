// Identify: which virtual key calls, and may it use what the routing config would call.
import type { IncomingHttpHeaders } from 'node:http';
import type { TargetSpec } from '../../config/schema.js';
import { providerRef } from '../../config/load.js';
import { inherit, isLeaf, ROOT, type Inherited } from '../../routing/tree.js';
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

interface LeafShape {
  slug: string;
  /** The leaf's own model override, if any (else the request's model). */
  override: unknown;
}
// Per routing object: a config file's routing objects live until the next reload, so the tree
// is walked once per config, not per request.
const leafShapes = new WeakMap<TargetSpec, LeafShape[]>();

function shapesOf(routing: TargetSpec): LeafShape[] {
  let shapes = leafShapes.get(routing);
  if (shapes) return shapes;
  shapes = [];
  const out = shapes;
  const walk = (node: TargetSpec, parent: Inherited) => {
    const s = inherit(parent, node);
    if (isLeaf(node)) {
      out.push({ slug: providerRef(node)?.slug ?? '', override: s.override_params.model });
      return;
    }
    for (const c of node.targets!) walk(c, s);
  };
  walk(routing, ROOT);
  leafShapes.set(routing, shapes);
  return shapes;
}

/** Every leaf the routing could call: provider slug and model (as leafModel picks it). */
export function routingLeaves(routing: TargetSpec, requestModel: unknown): Array<{ slug: string; model: string }> {
  return shapesOf(routing).map((l) => {
    const m = l.override ?? requestModel;
    return { slug: l.slug, model: typeof m === 'string' ? m : '' };
  });
}

export function createIdentifyStage(registry: KeyRegistry, required: boolean, now: () => number = Date.now): Stage {
  return {
    name: 'identify',
    // Not async: it only throws or passes on, so it adds no promise of its own to a request.
    handle(ctx, next) {
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
        if (!keyAllowsProvider(key, leaf.slug))
          throw new ForbiddenError(`virtual key "${key.name}" may not use provider "@${leaf.slug}"`);
        if (!keyAllowsModel(key, leaf.model))
          throw new ForbiddenError(`virtual key "${key.name}" may not use model "${leaf.model}"`);
      }
      ctx.key = key;
      ctx.attributes['switchyard.virtual_key'] = key.name;
      return next(ctx);
    },
  };
}
