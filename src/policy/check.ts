// Load-time checks of the policy a routing config asks for. A config's policy is never
// ignored silently: budgets and guardrails are validated here, and a policy we do not implement
// yet is a load error naming it. Portkey-style `virtual_key: <name>` targets resolve to the key's provider.
import type { FileConfig, TargetSpec } from '../config/schema.js';
import { ConfigError, formatPath, fromZod } from '../config/errors.js';
import { ConfigBudgetSpec, MetadataBudgetSpec } from './config.js';
import { GUARDRAIL_KEYS, normaliseGuardrails, setGuardrails } from './guardrails/config.js';
import { parseCache, setCache } from './cache/config.js';
import { z } from 'zod';

// Policy fields of Portkey's config shape (and the seed's) that Switchyard does not act on yet
// (none today; hedging, once listed here, is implemented in src/routing/hedge.ts).
const NOT_YET: Record<string, string> = {};

/**
 * Validates budgets and guardrails and refuses unimplemented policy; returns the config with
 * parsed budgets and its guardrails normalised (guardrailsOf). `guardrailDefs`: the file's
 * top-level `guardrails:` map, which Portkey-style configs name by id.
 */
export function checkRoutingPolicy(
  cfg: TargetSpec,
  path: PropertyKey[],
  guardrailDefs?: Record<string, unknown>,
): TargetSpec {
  const walk = (t: TargetSpec, p: PropertyKey[], top: boolean) => {
    for (const field of Object.keys(NOT_YET)) {
      if (t[field] !== undefined)
        throw new ConfigError(
          `${formatPath([...p, field])}: ${NOT_YET[field]} is not implemented yet; remove "${field}" (a config's policy is never ignored silently)`,
        );
    }
    const nestedGuardrail = top ? undefined : GUARDRAIL_KEYS.find((k) => t[k] !== undefined);
    if (nestedGuardrail)
      throw new ConfigError(
        `${formatPath([...p, nestedGuardrail])}: guardrails on a target are not implemented; put them on the routing config's top level`,
      );
    if (!top && t.cache !== undefined)
      throw new ConfigError(
        `${formatPath([...p, 'cache'])}: a cache belongs on a routing config's top level, not on a target`,
      );
    if (!top && (t.budget !== undefined || t.budgets !== undefined)) {
      throw new ConfigError(
        `${formatPath([...p, t.budget !== undefined ? 'budget' : 'budgets'])}: budgets belong on a routing config's top level, not on a target`,
      );
    }
    t.targets?.forEach((c, i) => {
      walk(c, [...p, 'targets', i], false);
    });
  };
  walk(cfg, path, true);
  const out: TargetSpec = { ...cfg };
  if (cfg.budget !== undefined) {
    const r = ConfigBudgetSpec.safeParse(cfg.budget);
    if (!r.success) throw fromZod(r.error, formatPath([...path, 'budget']));
    out.budget = r.data;
  }
  if (cfg.budgets !== undefined) {
    const r = z.array(MetadataBudgetSpec).safeParse(cfg.budgets);
    if (!r.success) throw fromZod(r.error, formatPath([...path, 'budgets']));
    out.budgets = r.data;
  }
  setGuardrails(out, normaliseGuardrails(cfg, path, guardrailDefs));
  if (cfg.cache !== undefined) setCache(out, parseCache(cfg.cache, path));
  return out;
}

/**
 * A target's `virtual_key` naming one of the file's virtual keys resolves to that key's one
 * provider (Portkey's virtual key is a provider credential); one naming a provider slug stays
 * as it is; any other name is an error.
 */
export function resolveVirtualKeyTargets(t: TargetSpec, file: FileConfig, path: PropertyKey[]): TargetSpec {
  let out = t;
  if (t.virtual_key !== undefined && t.provider === undefined) {
    const name = t.virtual_key.replace(/^@/, '');
    const key = Object.hasOwn(file.virtual_keys, name) ? file.virtual_keys[name] : undefined;
    if (key) {
      const providers = key.providers ?? [];
      if (providers.length !== 1) {
        throw new ConfigError(
          `${formatPath([...path, 'virtual_key'])}: virtual key "${name}" allows ${providers.length === 0 ? 'every provider' : `${providers.length} providers`}; a target naming it needs exactly one in its "providers"`,
        );
      }
      const { virtual_key: _vk, ...rest } = t;
      out = { ...rest, provider: `@${providers[0].replace(/^@/, '')}` };
    } else if (!Object.hasOwn(file.providers, name)) {
      throw new ConfigError(
        `${formatPath([...path, 'virtual_key'])}: unknown virtual key "${name}" (not under "virtual_keys" or "providers")`,
      );
    }
  }
  if (t.targets)
    out = { ...out, targets: t.targets.map((c, i) => resolveVirtualKeyTargets(c, file, [...path, 'targets', i])) };
  return out;
}
