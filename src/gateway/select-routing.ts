// Picks the routing config for a request: a config id or inline JSON from the header, a
// provider named in the model field ("@slug/model"), or the file's default config.
import type { FileConfig, TargetSpec } from '../config/schema.js';
import { ConfigError } from '../config/errors.js';
import { parseInlineRouting } from '../config/load.js';
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
  if (configHeader !== undefined && configHeader !== '') {
    const h = configHeader.trim();
    if (h.startsWith('{')) {
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
      routing = file.configs[h];
      if (!routing) throw new HttpError(400, `unknown config id "${h}" (known: ${Object.keys(file.configs).join(', ') || 'none'})`, 'unknown_config');
      configId = h;
    }
  }
  if (typeof model === 'string' && model.startsWith('@')) {
    const slash = model.indexOf('/');
    const slug = model.slice(1, slash > 0 ? slash : undefined);
    const name = slash > 0 ? model.slice(slash + 1) : undefined;
    if (!(slug in file.providers)) throw new HttpError(400, `unknown provider "@${slug}" in the model field`, 'unknown_provider');
    // The named provider answers alone; retry and timeouts still come from the selected config.
    const leaf: TargetSpec = {
      provider: `@${slug}`,
      retry: routing?.retry,
      request_timeout: routing?.request_timeout,
      deadline_ms: routing?.deadline_ms,
      ...(name ? { override_params: { model: name } } : {}),
    };
    return { configId: configId ? `${configId}@${slug}` : `@${slug}`, routing: leaf, model: name };
  }
  if (!routing) throw new HttpError(400, 'no routing config: send x-switchyard-config, name a provider as "@slug/model", or set default_config', 'no_config');
  return { configId, routing, model };
}
