// Fuzzing config loading (parseConfigText): the example configs and their JSON forms, mutated as
// text (YAML/JSON syntax, anchors and aliases, tags, ${VAR} interpolation, indentation, truncation)
// and as documents (wrong types, deleted and unknown keys, prototype keys, deep nesting, extreme
// numbers), each loaded as YAML and as JSON. Loading must succeed or throw a ConfigError whose
// message names where the problem is; nothing else may escape, and no input may hang it.
//
// Seed and size: FUZZ_SEED=<n> (printed on failure), FUZZ_RUNS=<n> (runs per property).
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { MAX_CONFIG_DEPTH } from '../../src/config/interpolate.js';
import { parseConfigText } from '../../src/config/load.js';
import { applyTextOp, fuzz, fuzzSettings, jsonOpArb, jsonText, mutateJson, pick, textOpArb } from './mutate.js';

const S = fuzzSettings();

const EXAMPLES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples');
const YAML_SEEDS: string[] = readdirSync(EXAMPLES)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => readFileSync(path.join(EXAMPLES, f), 'utf8'));
const DOC_SEEDS: unknown[] = YAML_SEEDS.map((t) => parseYaml(t) as unknown);

const ENVS: readonly NodeJS.ProcessEnv[] = [
  { OPENAI_API_KEY: 'sk-fuzz-1', ANTHROPIC_API_KEY: 'sk-fuzz-2', FUZZ_VAR: 'v' },
  { OPENAI_API_KEY: 'sk-fuzz-1', ANTHROPIC_API_KEY: '' },
  {},
];

/**
 * Document mutations as for the OTLP fuzzer, with nesting kept a little past MAX_CONFIG_DEPTH
 * (AnyValue-style nesting is 4 containers a level): thousands of levels add nothing here but
 * seconds of YAML rendering and parsing per run. The targeted test covers any depth.
 */
const docOpArb = jsonOpArb.map((op) =>
  op.k === 'wrap'
    ? { ...op, depth: Math.min(op.depth, MAX_CONFIG_DEPTH + 20) }
    : op.k === 'nestAny'
      ? { ...op, depth: Math.min(op.depth, 30) }
      : op,
);

/** Longest a single load may take before it counts as a hang (inputs here are a few KB). */
const HANG_MS = 3000;

/** Loads the text; throws unless it loads or fails with a ConfigError that names a path, or if it hangs. */
function load(text: string, source: string, env: NodeJS.ProcessEnv): void {
  const started = performance.now();
  let failure: { error: unknown } | undefined;
  try {
    loadChecked(text, source, env);
  } catch (error) {
    failure = { error };
  }
  // A hang is reported even when the load failed as well (it wins over that failure).
  const ms = performance.now() - started;
  if (ms > HANG_MS) throw new Error(`loading took ${Math.round(ms)} ms (${text.length} chars)`);
  if (failure) throw failure.error;
}

function loadChecked(text: string, source: string, env: NodeJS.ProcessEnv): void {
  try {
    const c = parseConfigText(text, source, env);
    if (!c.file || typeof c.file !== 'object') throw new Error('loaded without a file');
  } catch (err) {
    if (!(err instanceof ConfigError))
      throw new Error(
        `${(err as Error)?.constructor?.name ?? typeof err} escaped instead of a ConfigError: ${(err as Error)?.message ?? String(err)}`,
      );
    const m = err.message;
    // "<path>: <problem>", where the path is the file (syntax) or a place in the document.
    if (!/^[^\n]+?: \S/.test(m)) throw new Error(`ConfigError without a path: ${JSON.stringify(m.slice(0, 300))}`);
    if (!err.issues.length || err.issues.some((i) => typeof i !== 'string' || i === ''))
      throw new Error(`ConfigError with empty issues: ${m.slice(0, 300)}`);
  }
}

/** The document as JSON text and, when it survives a round trip, as YAML text too. */
function renderings(doc: unknown): [string, string][] {
  const json = jsonText(doc);
  const out: [string, string][] = [
    [json, 'fuzz.json'],
    [json, 'fuzz.yaml'], // YAML 1.2 reads JSON
  ];
  try {
    if (json.length < 50_000) out.push([stringifyYaml(JSON.parse(json)), 'fuzz.yaml']);
  } catch {
    // 1e400 and friends: JSON.parse is fine, but an unrepresentable document is skipped here.
  }
  return out;
}

// Mutated YAML draws a YAMLWarning (unresolved tags, ambiguous aliases) per load: keep the log readable.
beforeAll(() => void vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined));
afterAll(() => vi.restoreAllMocks());

describe(`config loading fuzzing (FUZZ_SEED=${S.seed})`, () => {
  it('loads or refuses text-mutated YAML with a ConfigError', async () => {
    await fuzz(
      S,
      600,
      fc.property(
        fc.record({ seed: fc.nat(), ops: fc.array(textOpArb, { minLength: 1, maxLength: 5 }), env: fc.nat() }),
        ({ seed, ops, env }) => {
          load(ops.reduce(applyTextOp, pick(YAML_SEEDS, seed)), 'fuzz.yaml', pick(ENVS, env));
        },
      ),
    );
  });

  it('loads or refuses text-mutated JSON with a ConfigError', async () => {
    await fuzz(
      S,
      500,
      fc.property(
        fc.record({ seed: fc.nat(), ops: fc.array(textOpArb, { minLength: 1, maxLength: 5 }), env: fc.nat() }),
        ({ seed, ops, env }) => {
          load(ops.reduce(applyTextOp, JSON.stringify(pick(DOC_SEEDS, seed), null, 2)), 'fuzz.json', pick(ENVS, env));
        },
      ),
    );
  });

  it('loads or refuses structure-mutated documents with a ConfigError', async () => {
    await fuzz(
      S,
      200,
      fc.property(
        fc.record({ seed: fc.nat(), ops: fc.array(docOpArb, { minLength: 1, maxLength: 5 }), env: fc.nat() }),
        ({ seed, ops, env }) => {
          for (const [text, source] of renderings(mutateJson(pick(DOC_SEEDS, seed), ops)))
            load(text, source, pick(ENVS, env));
        },
      ),
    );
  });

  it('refuses targeted edge cases with a ConfigError naming a path', () => {
    const env = ENVS[0];
    const expectConfigError = (text: string, source: string, re: RegExp) => {
      let thrown: unknown;
      try {
        parseConfigText(text, source, env);
      } catch (e) {
        thrown = e;
      }
      expect(thrown, text.slice(0, 80)).toBeInstanceOf(ConfigError);
      expect((thrown as ConfigError).message).toMatch(re);
    };
    // Regression: deeply nested documents escaped as RangeError (stack overflow) from validation,
    // and took seconds (path copies per level); now a ConfigError at the nesting bound, at once.
    for (const depth of [MAX_CONFIG_DEPTH, 1000, 10_000, 100_000]) {
      const targets = `{"providers":{"p":{"type":"openai"}},"configs":{"a":${'{"targets":['.repeat(depth)}{"provider":"@p"}${']}'.repeat(depth)}}}`;
      const started = performance.now();
      expectConfigError(targets, 'deep.json', /^configs\.a(\.targets\[0\])+: nested more than \d+ levels deep/);
      expect(performance.now() - started).toBeLessThan(HANG_MS);
      expectConfigError(
        `{"providers":{},"configs":{"a":{"provider":"openai","override_params":{"x":${'['.repeat(depth)}${']'.repeat(depth)}}}}}`,
        'deep.json',
        /^configs\.a\.override_params\.x(\[0\])+: nested more than/,
      );
    }
    // Just inside the bound, nesting is validated as usual.
    load(
      `{"providers":{"p":{"type":"openai"}},"configs":{"a":{"provider":"@p","override_params":{"x":${'['.repeat(MAX_CONFIG_DEPTH - 5)}${']'.repeat(MAX_CONFIG_DEPTH - 5)}}}}}`,
      'ok.json',
      env,
    );
    // Regression: a "__proto__" key became the document's prototype, so its fields passed for the
    // document's own (a default_config, a providers table nobody wrote at the top level).
    expectConfigError(
      '__proto__: {default_config: zz}\nproviders: {}\n',
      'proto.yaml',
      /^\(root\): Unrecognized key: "__proto__"/,
    );
    expectConfigError(
      '{"__proto__": {"default_config": "zz"}, "providers": {}}',
      'proto.json',
      /^\(root\): Unrecognized key: "__proto__"/,
    );
    expectConfigError('configs:\n  a: {__proto__: {provider: "@nope"}}\n', 'proto.yaml', /^configs\.a/);
    // YAML resource attacks are refused by the parser (alias expansion bound), not run.
    const laughs = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 10; i++)
      laughs.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(',')}]`,
      );
    const bombStart = performance.now();
    expectConfigError(laughs.join('\n'), 'bomb.yaml', /^bomb\.yaml: not valid YAML: .*alias/i);
    expect(performance.now() - bombStart).toBeLessThan(HANG_MS);
    // Regression: a key with a newline (a YAML collection used as a key, stringified) made a
    // multi-line path; odd keys are quoted now, so the message starts with a one-line path.
    expectConfigError('configs:\n  ? {a: 1}\n  : {targets: 5}\n', 'key.yaml', /^configs\["\{ a: 1 \}"\]\.targets: /);
    expectConfigError('configs: {"my config": {targets: 5}}\n', 'key.yaml', /^configs\["my config"\]\.targets: /);
    // An unknown tag is a warning, not code: the value stays a string.
    load('providers: {p: {type: openai, api_key: !!js/function "x"}}\n', 'tag.yaml', env);
    // Multiple documents, tags, unresolved aliases, non-object roots.
    expectConfigError('providers: {}\n---\nproviders: {}\n', 'multi.yaml', /^multi\.yaml: not valid YAML/);
    expectConfigError('providers: *nope\n', 'alias.yaml', /^alias\.yaml: not valid YAML/);
    for (const [text, re] of [
      ['providers: !!binary aGVsbG8=\n', /^providers/],
      ['- a\n- b\n', /^\(root\)/],
      ['"just a string"\n', /^\(root\)/],
      ['42\n', /^\(root\)/],
      ['server: {max_body_bytes: 1e999}\n', /^server\.max_body_bytes/],
      ['server: {deadline_ms: .nan}\n', /^server\.deadline_ms/],
      [
        'providers: {p: {type: openai, api_key: "${UNSET_FUZZ_VAR}"}}\n',
        /^providers\.p\.api_key: environment variable UNSET_FUZZ_VAR is not set/,
      ],
      [
        'configs: {a: {provider: "@p", strategy: {mode: conditional, conditions: [{query: {"metadata.x": {$regex: "("}}, then: b}]}}}\n',
        /^configs\.a/,
      ],
    ] as const) {
      let thrown: unknown;
      try {
        parseConfigText(text, 'edge.yaml', env);
      } catch (e) {
        thrown = e;
      }
      expect(thrown, text).toBeInstanceOf(ConfigError);
      expect((thrown as Error).message, text).toMatch(re);
    }
  });
});
