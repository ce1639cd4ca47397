// The three guardrail config shapes, normalised to one model (types.ts) at load time:
//  - the seed's  `guardrails: {input: [...], output: [...]}` with items {type, deny | pattern,
//    flags, min, max, action, message};
//  - Portkey's   `input_guardrails` / `output_guardrails`: ids of the file's top-level
//    `guardrails:` map, or inline guardrails ({"default.contains": {...}, deny: true});
//  - Portkey's   `before_request_hooks` / `after_request_hooks`: [{id, checks: [{id, parameters}],
//    deny, async, on_fail, on_success}].
// An unknown check id or action, a regex that does not compile, a parameter a check does not
// know, or a feature not acted on (async hooks, verdict feedback) is a load error
// naming its path: a guardrail is never ignored silently.
import type { TargetSpec } from '../../config/schema.js';
import { jsonKeys, jsonSchema } from './json.js';
import { fail, isObject, only, regexFlags, strings, type Params, type Path } from './params.js';
import { pii } from './pii.js';
import { modelWhitelist, requiredMetadataKeys } from './request.js';
import { webhook } from './webhook.js';
import { validUrls } from './urls.js';
import {
  allLowercase,
  allUppercase,
  characterCount,
  contains,
  endsWith,
  notNull,
  regexDeny,
  regexMatch,
  sentenceCount,
  wordCount,
} from './text.js';
import type { Action, Check, Guardrail, GuardrailSet, Phase } from './types.js';

type Factory = (p: Params, path: Path) => Check;

/** Portkey's built-in check ids (and ours), with their parameters. */
export const CHECKS: Record<string, Factory> = {
  'default.regexMatch': (p, path) => regexMatch(p, path),
  'default.contains': (p, path) => contains(p, path),
  'default.wordCount': wordCount,
  'default.sentenceCount': sentenceCount,
  'default.characterCount': characterCount,
  'default.jsonSchema': jsonSchema,
  'default.jsonKeys': jsonKeys,
  'default.endsWith': endsWith,
  'default.alluppercase': allUppercase,
  'default.alllowercase': allLowercase,
  'default.notNull': notNull,
  'default.modelWhitelist': modelWhitelist,
  'default.requiredMetadataKeys': requiredMetadataKeys,
  'default.webhook': webhook,
  'default.validUrls': validUrls,
  pii,
};

/** Check ids we know but do not run yet: refused at load, never passed through. */
const NOT_YET: Record<string, string> = {};

const ACTIONS: readonly Action[] = ['block', 'warn', 'retry', 'redact'];

/** The routing config keys this module reads; a nested target carrying one is refused. */
export const GUARDRAIL_KEYS = [
  'guardrails',
  'input_guardrails',
  'output_guardrails',
  'before_request_hooks',
  'after_request_hooks',
] as const;

function makeCheck(id: unknown, params: unknown, path: Path, idPath: Path): Check {
  if (typeof id !== 'string') fail(idPath, 'a check needs an "id" (e.g. default.contains)');
  if (Object.hasOwn(NOT_YET, id)) fail(idPath, `${id}: ${NOT_YET[id]}`);
  const f = Object.hasOwn(CHECKS, id) ? CHECKS[id] : undefined;
  if (!f) fail(idPath, `unknown check id "${id}" (known: ${Object.keys(CHECKS).join(', ')})`);
  if (params !== undefined && !isObject(params)) fail(path, 'parameters must be an object');
  return f((params ?? {}) as Params, path);
}

function seedCheck(item: Params, path: Path): Check {
  const type = item.type;
  const at = (k: string) => [...path, k];
  const pick = (map: Record<string, string>, also: string[] = []): Params => {
    const out: Params = {};
    for (const [from, to] of Object.entries(map)) if (item[from] !== undefined) out[to] = item[from];
    for (const k of also) if (item[k] !== undefined) out[k] = item[k];
    return out;
  };
  const allowed = (fields: string[]) =>
    only(item, ['type', 'id', 'name', 'action', 'message', ...fields], path, `a "${String(type)}" guardrail`);
  switch (type) {
    case 'contains': {
      allowed(['deny', 'words', 'operator', 'flags']);
      const ignoreCase = regexFlags(item.flags, at('flags')).includes('i');
      if (item.deny !== undefined) {
        if (item.words !== undefined || item.operator !== undefined)
          fail(at('deny'), 'use either deny or words/operator');
        return contains({ words: strings(item, 'deny', path), operator: 'none' }, path, ignoreCase);
      }
      return contains(pick({ words: 'words', operator: 'operator' }), path, ignoreCase);
    }
    case 'regex': {
      allowed(['deny', 'pattern', 'flags', 'not']);
      const flags = regexFlags(item.flags, at('flags'));
      if ((item.deny === undefined) === (item.pattern === undefined))
        fail(
          path,
          'a regex guardrail needs exactly one of deny (patterns that must not match) and pattern (a pattern that must match)',
        );
      if (item.deny !== undefined) return regexDeny(strings(item, 'deny', path)!, flags, at('deny'));
      return regexMatch(pick({ pattern: 'rule', not: 'not' }), path, flags);
    }
    case 'word_count':
      allowed(['min', 'max', 'not']);
      return wordCount(pick({ min: 'minWords', max: 'maxWords', not: 'not' }), path);
    case 'sentence_count':
      allowed(['min', 'max', 'not']);
      return sentenceCount(pick({ min: 'minSentences', max: 'maxSentences', not: 'not' }), path);
    case 'character_count':
      allowed(['min', 'max', 'not']);
      return characterCount(pick({ min: 'minCharacters', max: 'maxCharacters', not: 'not' }), path);
    case 'json_schema':
      allowed(['schema', 'not']);
      return jsonSchema(pick({}, ['schema', 'not']), path);
    case 'json_keys':
      allowed(['keys', 'operator']);
      return jsonKeys(pick({}, ['keys', 'operator']), path);
    case 'ends_with':
      allowed(['suffix', 'not']);
      return endsWith(pick({}, ['suffix', 'not']), path);
    case 'uppercase':
    case 'all_uppercase':
      allowed(['not']);
      return allUppercase(pick({}, ['not']), path);
    case 'lowercase':
    case 'all_lowercase':
      allowed(['not']);
      return allLowercase(pick({}, ['not']), path);
    case 'not_null':
      allowed(['not']);
      return notNull(pick({}, ['not']), path);
    case 'model_whitelist':
      allowed(['models', 'inverse']);
      return modelWhitelist(pick({}, ['models', 'inverse']), path);
    case 'required_metadata_keys':
      allowed(['keys', 'operator']);
      return requiredMetadataKeys(pick({ keys: 'metadataKeys', operator: 'operator' }), path);
    case 'pii':
      allowed(['kinds']);
      return pii(pick({}, ['kinds']), path);
    default:
      if (typeof type === 'string' && (type.includes('.') || Object.hasOwn(NOT_YET, type))) {
        allowed(['parameters']);
        return makeCheck(type, item.parameters, [...path, 'parameters'], at('type'));
      }
      fail(
        at('type'),
        `unknown guardrail type ${JSON.stringify(type)} (known: contains, regex, word_count, sentence_count, character_count, json_schema, json_keys, ends_with, uppercase, lowercase, not_null, model_whitelist, required_metadata_keys, pii, or a check id such as default.wordCount)`,
      );
  }
}

function action(v: unknown, path: Path, dflt: Action): Action {
  if (v === undefined) return dflt;
  if (typeof v !== 'string' || !ACTIONS.includes(v as Action))
    fail(path, `unknown action ${JSON.stringify(v)} (known: ${ACTIONS.join(', ')})`);
  return v as Action;
}

function message(v: unknown, path: Path): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') fail(path, 'must be a string');
  return v;
}

const HOOK_FIELDS = ['type', 'id', 'name', 'checks', 'deny', 'async', 'on_fail', 'on_success', 'action', 'message'];

/** `on_fail` / `on_success`: only `deny` (on_fail) is acted on; feedback is refused. */
function verdictHandlers(g: Params, path: Path): boolean | undefined {
  let deny: boolean | undefined;
  for (const k of ['on_fail', 'on_success'] as const) {
    const v = g[k];
    if (v === undefined) continue;
    if (!isObject(v)) fail([...path, k], 'must be an object');
    for (const f of Object.keys(v)) {
      if (k === 'on_fail' && f === 'deny') {
        if (typeof v.deny !== 'boolean') fail([...path, k, f], 'must be true or false');
        deny = v.deny;
      } else if (f === 'feedback')
        fail([...path, k, f], 'feedback on guardrail verdicts is not implemented yet; remove it');
      else fail([...path, k, f], `unknown or unsupported field "${f}"`);
    }
  }
  return deny;
}

/** A Portkey guardrail: {checks: [...]} or the shorthand {"default.contains": {...}, deny}. */
function portkeyGuardrail(g: Params, phase: Phase, path: Path, id: string): Guardrail {
  if (g.type !== undefined && g.type !== 'guardrail')
    fail([...path, 'type'], `hooks of type ${JSON.stringify(g.type)} are not implemented (only "guardrail")`);
  if (g.async === true)
    fail(
      [...path, 'async'],
      'async guardrails (a verdict after the answer, not acted on) are not implemented; set async: false or remove it',
    );
  if (g.async !== undefined && typeof g.async !== 'boolean') fail([...path, 'async'], 'must be true or false');
  if (g.deny !== undefined && typeof g.deny !== 'boolean') fail([...path, 'deny'], 'must be true or false');
  const onFailDeny = verdictHandlers(g, path);
  const checks: Check[] = [];
  if (g.checks !== undefined) {
    only(g, HOOK_FIELDS, path, 'a guardrail');
    if (!Array.isArray(g.checks) || g.checks.length === 0)
      fail([...path, 'checks'], 'must be a non-empty list of {id, parameters}');
    g.checks.forEach((c, i) => {
      const cp = [...path, 'checks', i];
      if (!isObject(c)) fail(cp, 'a check is {id, parameters}');
      only(c, ['id', 'parameters', 'is_enabled', 'name'], cp, 'a check');
      if (c.is_enabled === false) return;
      checks.push(makeCheck(c.id, c.parameters, [...cp, 'parameters'], [...cp, 'id']));
    });
  } else {
    for (const [k, v] of Object.entries(g)) {
      if (HOOK_FIELDS.includes(k)) continue;
      checks.push(makeCheck(k, v, [...path, k], [...path, k]));
    }
    if (checks.length === 0) fail(path, 'a guardrail needs checks: [{id, parameters}] (or check ids as keys)');
  }
  const deny = onFailDeny ?? g.deny === true;
  const act = action(g.action, [...path, 'action'], deny ? 'block' : 'warn');
  return finish(
    {
      id: typeof g.id === 'string' ? g.id : id,
      phase,
      action: act,
      message: message(g.message, [...path, 'message']),
      checks,
    },
    path,
  );
}

function seedGuardrail(item: Params, phase: Phase, path: Path, id: string): Guardrail {
  const check = seedCheck(item, path);
  const name = typeof item.id === 'string' ? item.id : typeof item.name === 'string' ? item.name : id;
  return finish(
    {
      id: name,
      phase,
      action: action(item.action, [...path, 'action'], 'block'),
      message: message(item.message, [...path, 'message']),
      checks: [check],
    },
    path,
  );
}

function finish(g: Guardrail, path: Path): Guardrail {
  if (g.action === 'retry' && g.phase === 'input')
    fail([...path, 'action'], 'retry applies to output guardrails only (an input does not change by asking again)');
  if (g.action === 'redact') {
    const bad = g.checks.find((c) => !c.redact);
    if (bad)
      fail(
        [...path, 'action'],
        `redact needs checks that locate what they deny (pii, a contains or regex deny list); ${bad.id} does not`,
      );
  }
  return g;
}

/** One guardrail from an item: a string id of the file's `guardrails:` map, or an inline one. */
function guardrailItem(
  item: unknown,
  phase: Phase,
  path: Path,
  defs: Record<string, unknown> | undefined,
  fallbackId: string,
  seedDefault: boolean,
): Guardrail {
  if (typeof item === 'string') {
    if (!defs || !Object.hasOwn(defs, item))
      fail(path, `unknown guardrail "${item}" (not under the file's top-level "guardrails:")`);
    const def = defs[item];
    const dp: Path = ['guardrails', item];
    if (!isObject(def)) fail(dp, 'a guardrail definition is an object');
    return def.type !== undefined && def.type !== 'guardrail'
      ? seedGuardrail(def, phase, dp, item)
      : portkeyGuardrail(def, phase, dp, item);
  }
  if (!isObject(item)) fail(path, 'a guardrail is an id (string) or an object');
  if (seedDefault && item.type !== undefined && item.type !== 'guardrail')
    return seedGuardrail(item, phase, path, fallbackId);
  if (!seedDefault && item.type !== undefined && item.type !== 'guardrail' && item.checks === undefined)
    return seedGuardrail(item, phase, path, fallbackId);
  return portkeyGuardrail(item, phase, path, fallbackId);
}

/**
 * Normalises a routing config's guardrails (top level only). Returns undefined when it has none.
 * `defs`: the file's top-level `guardrails:` map (Portkey's guardrail definitions by id).
 */
export function normaliseGuardrails(
  cfg: TargetSpec,
  path: Path,
  defs: Record<string, unknown> | undefined,
): GuardrailSet | undefined {
  const input: Guardrail[] = [];
  const output: Guardrail[] = [];
  const add = (phase: Phase, list: unknown, p: Path, seed: boolean) => {
    if (list === undefined) return;
    if (!Array.isArray(list)) fail(p, 'must be a list of guardrails');
    const into = phase === 'input' ? input : output;
    list.forEach((item, i) => {
      into.push(guardrailItem(item, phase, [...p, i], defs, `${phase}.${into.length}`, seed));
    });
  };
  if (cfg.guardrails !== undefined) {
    const g = cfg.guardrails;
    if (!isObject(g)) fail([...path, 'guardrails'], 'must be {input: [...], output: [...]}');
    only(g, ['input', 'output'], [...path, 'guardrails'], 'guardrails');
    add('input', g.input, [...path, 'guardrails', 'input'], true);
    add('output', g.output, [...path, 'guardrails', 'output'], true);
  }
  add('input', cfg.input_guardrails, [...path, 'input_guardrails'], false);
  add('output', cfg.output_guardrails, [...path, 'output_guardrails'], false);
  add('input', cfg.before_request_hooks, [...path, 'before_request_hooks'], false);
  add('output', cfg.after_request_hooks, [...path, 'after_request_hooks'], false);
  const ids = new Set<string>();
  for (const g of [...input, ...output]) {
    // Ids name guardrails in hook_results and span events; a repeated one is made unique.
    let id = g.id;
    for (let n = 2; ids.has(`${g.phase}:${id}`); n++) id = `${g.id}#${n}`;
    ids.add(`${g.phase}:${id}`);
    (g as { id: string }).id = id;
  }
  return input.length || output.length ? { input, output } : undefined;
}

// The normalised set travels with the routing config object, out of its enumerable keys.
const sets = new WeakMap<TargetSpec, GuardrailSet>();

export function setGuardrails(cfg: TargetSpec, set: GuardrailSet | undefined): void {
  if (set) sets.set(cfg, set);
}

export function guardrailsOf(cfg: TargetSpec): GuardrailSet | undefined {
  return sets.get(cfg);
}

/** A routing built from another (the model field naming a provider) keeps its guardrails. */
export function carryGuardrails(from: TargetSpec | undefined, to: TargetSpec): void {
  const s = from && sets.get(from);
  if (s) sets.set(to, s);
}
