// bench/guardrails: each built-in check on 1 KB and 32 KB of chat-like text (with a few PII
// matches, so redaction and validity rules run), p50/p99 per check; then the whole input stage
// (five checks) on a typical 1 KB chat request. Targets (issue 15): p99 ≤ 1 ms per check at 32 KB,
// input stage ≤ 50 µs at 1 KB with five checks.
//   node --import tsx bench/guardrails.ts [--n 2000]
import { parseFlags } from '../src/args.js';
import { parseConfigText } from '../src/config/load.js';
import type { TargetSpec } from '../src/config/schema.js';
import { guardrailsOf } from '../src/policy/guardrails/config.js';
import { runPhase } from '../src/policy/guardrails/run.js';
import { inputSlots } from '../src/policy/guardrails/subject.js';
import type { Subject } from '../src/policy/guardrails/types.js';
import type { EventRecord } from '../src/telemetry/records.js';
import { pct } from './stats.js';

const flags = parseFlags(process.argv.slice(2));
const N = Number(flags.n ?? 2000);

const WORDS =
  'the order shipped to our customer yesterday and the invoice 4471 was paid in full by card please confirm the delivery window for next week'.split(
    ' ',
  );
function text(bytes: number): string {
  let s = '';
  let i = 0;
  while (s.length < bytes) {
    s += WORDS[i % WORDS.length] + (i % 17 === 16 ? '. ' : ' ');
    if (i % 97 === 50) s += 'reach me at jane.doe@example.com or 415-555-2671, card 4111 1111 1111 1111 ';
    i++;
  }
  return s.slice(0, bytes);
}

const CHECKS: Array<[string, Record<string, unknown>]> = [
  ['default.regexMatch', { rule: '\\b\\d{3}-\\d{2}-\\d{4}\\b', not: true }],
  ['default.contains', { words: ['password', 'secret', 'api key'], operator: 'none' }],
  ['default.wordCount', { minWords: 1, maxWords: 100000 }],
  ['default.sentenceCount', { minSentences: 1 }],
  ['default.characterCount', { maxCharacters: 1_000_000 }],
  ['default.jsonSchema', { schema: { type: 'object', required: ['a'] } }],
  ['default.jsonKeys', { keys: ['a'], operator: 'any' }],
  ['default.endsWith', { suffix: '.' }],
  ['default.alluppercase', {}],
  ['default.alllowercase', {}],
  ['default.notNull', {}],
  ['default.modelWhitelist', { models: ['gpt-4o*'] }],
  ['default.requiredMetadataKeys', { metadataKeys: ['user'] }],
  ['pii', {}],
];

function checksOf(spec: Record<string, unknown>) {
  const file = parseConfigText(
    JSON.stringify({ providers: { p: { type: 'openai', api_key: 'k' } }, configs: { c: { provider: '@p', ...spec } } }),
    'b.json',
    {},
  ).file;
  return guardrailsOf(file.configs.c as TargetSpec)!;
}

console.log(`bench/guardrails: ${N} runs per row, p50 / p99 in µs\n`);
console.log(
  'check'.padEnd(32) +
    '1 KB p50'.padStart(10) +
    '1 KB p99'.padStart(10) +
    '32 KB p50'.padStart(11) +
    '32 KB p99'.padStart(11),
);
for (const [id, parameters] of CHECKS) {
  const check = checksOf({ output_guardrails: [{ checks: [{ id, parameters }] }] }).output[0].checks[0];
  const row: number[] = [];
  for (const size of [1024, 32 * 1024]) {
    const t = text(size);
    const s: Subject = { parts: [t], text: t, model: 'gpt-4o', metadata: { user: 'u' }, phase: 'input' };
    const times: number[] = [];
    for (let i = 0; i < N + 200; i++) {
      const t0 = performance.now();
      check.run(s);
      if (check.redact) check.redact(t);
      if (i >= 200) times.push((performance.now() - t0) * 1000);
    }
    row.push(pct(times, 50), pct(times, 99));
  }
  console.log(id.padEnd(32) + row.map((v, i) => v.toFixed(1).padStart(i < 2 ? 10 : 11)).join(''));
}

// The input stage: five checks on a 1 KB chat (system + user + assistant + user).
const set = checksOf({
  guardrails: {
    input: [
      { type: 'contains', deny: ['password', 'secret'], flags: ['IGNORECASE'], action: 'block' },
      { type: 'regex', deny: ['\\b\\d{3}-\\d{2}-\\d{4}\\b'], action: 'block' },
      { type: 'word_count', max: 5000, action: 'block' },
      { type: 'pii', kinds: ['ssn', 'credit_card', 'email'], action: 'warn' },
      { type: 'required_metadata_keys', keys: ['user'], action: 'block' },
    ],
  },
});
const chatText = text(1024);
const times: number[] = [];
for (let i = 0; i < N + 200; i++) {
  const body = {
    messages: [
      { role: 'system', content: chatText.slice(0, 200) },
      { role: 'user', content: chatText.slice(200, 600) },
      { role: 'assistant', content: chatText.slice(600, 800) },
      { role: 'user', content: chatText.slice(800) },
    ],
  };
  const events: EventRecord[] = [];
  const t0 = performance.now();
  await runPhase(set.input, inputSlots(body), { model: 'gpt-4o', metadata: { user: 'u' }, body }, events);
  if (i >= 200) times.push((performance.now() - t0) * 1000);
}
console.log(
  `\ninput stage, 5 checks, 1 KB chat: p50 ${pct(times, 50).toFixed(1)} µs, p99 ${pct(times, 99).toFixed(1)} µs`,
);
