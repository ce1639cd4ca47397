// Checks on the request around the text: Portkey's default.modelWhitelist and
// default.requiredMetadataKeys.
import type { Check } from './types.js';
import { bool, oneOf, only, strings, type Params, type Path } from './params.js';

/** Model names, with `*` as a wildcard ("gpt-4o*"); `inverse: true` makes it a block list. */
export function modelWhitelist(p: Params, path: Path): Check {
  only(p, ['models', 'inverse', 'not'], path, 'default.modelWhitelist');
  const models = strings(p, 'models', path)!;
  const inverse = bool(p, 'inverse', path) || bool(p, 'not', path);
  const res = models.map(
    (m) =>
      new RegExp(
        `^${m
          .split('*')
          .map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*')}$`,
      ),
  );
  return {
    id: 'default.modelWhitelist',
    run: (s) => {
      const listed = res.some((r) => r.test(s.model));
      return { verdict: inverse ? !listed : listed };
    },
  };
}

export function requiredMetadataKeys(p: Params, path: Path): Check {
  only(p, ['metadataKeys', 'operator'], path, 'default.requiredMetadataKeys');
  const keys = strings(p, 'metadataKeys', path)!;
  const operator = oneOf(p, 'operator', ['all', 'any', 'none'] as const, path, 'all');
  return {
    id: 'default.requiredMetadataKeys',
    run: (s) => {
      const has = keys.map((k) => Object.hasOwn(s.metadata, k));
      return {
        verdict: operator === 'all' ? has.every(Boolean) : operator === 'any' ? has.some(Boolean) : !has.some(Boolean),
      };
    },
  };
}
