// Picks the routing config for a request: a config id or inline JSON from the header, a
// provider named in the model field ("@slug/model"), or the file's default config.
// server.inline_configs limits what the caller may choose: `ids_only` accepts config ids from the
// file but no inline JSON; `off` refuses the header and "@slug/model" alike (default_config only).
import type { FileConfig, TargetSpec } from '../config/schema.js';
import type { ConfigError } from '../config/errors.js';
import { parseInlineRouting } from '../config/load.js';
import { carryCache } from '../policy/cache/config.js';
import { carryGuardrails } from '../policy/guardrails/config.js';
import { HttpError } from './errors.js';

export interface Selected {
  configId: string;
  routing: TargetSpec;
  /** The request body's model, with an "@slug/" prefix removed. */
  model: unknown;
}

export function selectRouting(file: FileConfig, configHeader: string | undefined, model: unknown): Selected {
  let configId = file.default_config ?? '';
  let routing: TargetSpec | undefined = configId ? file.configs[configId] : undefined;
  const policy = file.server.inline_configs;
  if (configHeader !== undefined && configHeader !== '') {
    const h = configHeader.trim();
    if (policy === 'off') {
      throw new HttpError(
        400,
        'x-switchyard-config is not accepted: server.inline_configs is "off" (requests use the default config)',
        'inline_config_refused',
      );
    }
    if (h.startsWith('{')) {
      if (policy === 'ids_only') {
        throw new HttpError(
          400,
          'inline JSON in x-switchyard-config is not accepted: server.inline_configs is "ids_only" (send a config id from the file)',
          'inline_config_refused',
        );
      }
      let json: unknown;
      try {
        json = JSON.parse(h);
      } catch (e) {
        throw new HttpError(400, `x-switchyard-config is not valid JSON: ${(e as Error).message}`, 'invalid_config');
      }
      try {
        routing = parseInlineRouting(json, file);
      } catch (e) {
        throw new HttpError(400, `invalid inline config: ${(e as ConfigError).message}`, 'invalid_config');
      }
      configId = 'inline';
    } else {
      routing = Object.hasOwn(file.configs, h) ? file.configs[h] : undefined;
      if (!routing)
        throw new HttpError(
          400,
          `unknown config id "${h}" (known: ${Object.keys(file.configs).join(', ') || 'none'})`,
          'unknown_config',
        );
      configId = h;
    }
  }
  if (typeof model === 'string' && model.startsWith('@')) {
    if (policy === 'off') {
      throw new HttpError(
        400,
        `the model field cannot name a provider ("${model.slice(0, 80)}"): server.inline_configs is "off" (requests use the default config)`,
        'inline_config_refused',
      );
    }
    const slash = model.indexOf('/');
    const slug = model.slice(1, slash > 0 ? slash : undefined);
    const name = slash > 0 ? model.slice(slash + 1) : undefined;
    if (!Object.hasOwn(file.providers, slug))
      throw new HttpError(400, `unknown provider "@${slug}" in the model field`, 'unknown_provider');
    // The named provider answers alone; retry and timeouts still come from the selected config.
    const leaf: TargetSpec = {
      provider: `@${slug}`,
      retry: routing?.retry,
      request_timeout: routing?.request_timeout,
      deadline_ms: routing?.deadline_ms,
      ...(name ? { override_params: { model: name } } : {}),
    };
    // ...and the config's guardrails and cache: naming a provider does not skip them.
    carryGuardrails(routing, leaf);
    carryCache(routing, leaf);
    return { configId: configId ? `${configId}@${slug}` : `@${slug}`, routing: leaf, model: name };
  }
  if (!routing)
    throw new HttpError(
      400,
      'no routing config: send x-switchyard-config, name a provider as "@slug/model", or set default_config',
      'no_config',
    );
  return { configId, routing, model };
}
