// JSON checks: Portkey's default.jsonSchema (a real JSON Schema validator, Ajv, draft-07 and
// 2019-09/2020-12 keywords it supports) and default.jsonKeys. The JSON is the whole text part, or
// a fenced ```json block, or the outermost {...} in it; a part with no JSON fails the check.
import { createRequire } from 'node:module';
import type { Ajv as AjvType } from 'ajv';
import type { Check, Subject } from './types.js';
import { bool, fail, isObject, oneOf, only, strings, type Params, type Path } from './params.js';

// Loaded when a config first uses the check: Ajv and its vocabularies are ~10 MB of every
// sidecar's memory otherwise. It is CommonJS, so a synchronous require keeps config building sync.
const require = createRequire(import.meta.url);
let ajvInstance: AjvType | undefined;
function ajv(): AjvType {
  ajvInstance ??= new (require('ajv') as typeof import('ajv')).Ajv({ allErrors: false, strict: false });
  return ajvInstance;
}

/** Every JSON value found in the parts (at most one per part). */
export function jsonValues(s: Subject): unknown[] {
  const out: unknown[] = [];
  for (const part of s.parts) {
    const v = extractJson(part);
    if (v !== undefined) out.push(v);
  }
  return out;
}

export function extractJson(text: string): unknown {
  const t = text.trim();
  if (!t) return undefined;
  const tries = [t];
  const fenced = /```(?:json)?\s*([\s\S]*?)```/i.exec(t);
  if (fenced) tries.push(fenced[1]);
  const a = t.indexOf('{');
  const b = t.lastIndexOf('}');
  if (a >= 0 && b > a) tries.push(t.slice(a, b + 1));
  for (const x of tries) {
    try {
      return JSON.parse(x);
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** Passes when a JSON value in the text validates against `schema`; `not` inverts. */
export function jsonSchema(p: Params, path: Path): Check {
  only(p, ['schema', 'not'], path, 'default.jsonSchema');
  if (!isObject(p.schema) && typeof p.schema !== 'boolean')
    fail([...path, 'schema'], 'is required (a JSON Schema object)');
  let validate;
  try {
    validate = ajv().compile(p.schema as object);
  } catch (e) {
    fail([...path, 'schema'], `is not a valid JSON Schema: ${(e as Error).message}`);
  }
  const not = bool(p, 'not', path);
  return {
    id: 'default.jsonSchema',
    run: (s) => {
      const ok = jsonValues(s).some((v) => validate(v));
      return { verdict: not ? !ok : ok };
    },
  };
}

/** Keys of a JSON object in the text: any, all or none of `keys` present. */
export function jsonKeys(p: Params, path: Path): Check {
  only(p, ['keys', 'operator'], path, 'default.jsonKeys');
  const keys = strings(p, 'keys', path)!;
  const operator = oneOf(p, 'operator', ['any', 'all', 'none'] as const, path, 'any');
  return {
    id: 'default.jsonKeys',
    run: (s) => {
      const objs = jsonValues(s).filter(isObject);
      if (objs.length === 0) return { verdict: false, error: 'no JSON object found' };
      const ok = objs.some((o) => {
        const has = keys.map((k) => Object.hasOwn(o, k));
        return operator === 'any' ? has.some(Boolean) : operator === 'all' ? has.every(Boolean) : !has.some(Boolean);
      });
      return { verdict: ok };
    },
  };
}
