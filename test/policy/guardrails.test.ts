// Guardrails without a sidecar: the three config shapes normalised to one model, load errors by
// path, every check's pass and fail cases from its parameters, the PII corpus, and the stage
// with a fake `next`.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/load.js';
import type { TargetSpec } from '../../src/config/schema.js';
import { guardrailsOf } from '../../src/policy/guardrails/config.js';
import { findPii, luhn, redactPii, validIban, validSsn } from '../../src/policy/guardrails/pii.js';
import { runPhase } from '../../src/policy/guardrails/run.js';
import { HeldSink, WatchSink } from '../../src/policy/guardrails/stream.js';
import { StreamFailure } from '../../src/routing/attempt.js';
import { inputSlots, outputSlots } from '../../src/policy/guardrails/subject.js';
import type { CheckResult, Guardrail, Subject } from '../../src/policy/guardrails/types.js';
import type { EventRecord } from '../../src/telemetry/records.js';

const PROVIDERS = { p: { type: 'openai', api_key: 'sk-x', base_url: 'http://127.0.0.1:1/v1' } };

function load(cfg: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return parseConfigText(
    JSON.stringify({ providers: PROVIDERS, configs: { c: { provider: '@p', ...cfg } }, ...extra }),
    'g.json',
    {},
  );
}
const setOf = (cfg: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  guardrailsOf(load(cfg, extra).file.configs.c as TargetSpec)!;
const subj = (text: string, over: Partial<Subject> = {}): Subject => ({
  parts: [text],
  text,
  model: 'gpt-4o',
  metadata: {},
  phase: 'output',
  ...over,
});
const sync = (r: CheckResult | Promise<CheckResult>): CheckResult => {
  if (r instanceof Promise) throw new Error('expected a synchronous check');
  return r;
};
/** The one check of a seed-shaped item, run on text. */
function seed(item: Record<string, unknown>, phase: 'input' | 'output' = 'output') {
  const g = setOf({ guardrails: { [phase]: [item] } })[phase][0];
  return (text: string, over: Partial<Subject> = {}) => sync(g.checks[0].run(subj(text, over))).verdict;
}
/** A Portkey check by id and parameters. */
function pk(id: string, parameters: Record<string, unknown>) {
  const g = setOf({ output_guardrails: [{ checks: [{ id, parameters }] }] }).output[0];
  return (text: string, over: Partial<Subject> = {}) => sync(g.checks[0].run(subj(text, over))).verdict;
}

describe('config shapes', () => {
  it('normalises the seed, Portkey guardrail ids, inline guardrails and hooks to one model', () => {
    const s = setOf(
      {
        guardrails: {
          input: [
            {
              type: 'contains',
              deny: ['password', 'SSN'],
              flags: ['IGNORECASE'],
              action: 'block',
              message: 'no secrets',
            },
          ],
          output: [
            { type: 'regex', deny: ['\\b\\d{3}-\\d{2}-\\d{4}\\b'], action: 'block' },
            { type: 'word_count', min: 10, action: 'retry' },
          ],
        },
        input_guardrails: ['pii-guard', { 'default.wordCount': { minWords: 1 }, deny: false }],
        output_guardrails: ['pii-guard'],
        before_request_hooks: [
          {
            type: 'guardrail',
            id: 'meta',
            checks: [{ id: 'default.requiredMetadataKeys', parameters: { metadataKeys: ['user'] } }],
            deny: true,
            async: false,
          },
        ],
        after_request_hooks: [
          {
            id: 'json',
            checks: [{ id: 'default.jsonSchema', parameters: { schema: { type: 'object' } } }],
            deny: true,
            on_fail: { deny: false },
          },
        ],
      },
      {
        guardrails: {
          'pii-guard': {
            checks: [{ id: 'pii', parameters: { kinds: ['ssn', 'credit_card'] } }],
            deny: true,
            action: 'redact',
          },
        },
      },
    );
    const brief = (g: Guardrail) => [g.id, g.action, g.checks.map((c) => c.id).join('+')];
    expect(s.input.map(brief)).toEqual([
      ['input.0', 'block', 'default.contains'],
      ['pii-guard', 'redact', 'pii'],
      ['input.2', 'warn', 'default.wordCount'],
      ['meta', 'block', 'default.requiredMetadataKeys'],
    ]);
    expect(s.output.map(brief)).toEqual([
      ['output.0', 'block', 'regex'],
      ['output.1', 'retry', 'default.wordCount'],
      ['pii-guard', 'redact', 'pii'],
      ['json', 'warn', 'default.jsonSchema'],
    ]);
    expect(s.input[0].message).toBe('no secrets');
  });

  it('a config without guardrails has none, and inline configs are checked the same way', () => {
    expect(guardrailsOf(load({}).file.configs.c as TargetSpec)).toBeUndefined();
  });

  it.each([
    [
      { guardrails: { input: [{ type: 'nope' }] } },
      /configs\.c\.guardrails\.input\[0\]\.type: unknown guardrail type "nope"/,
    ],
    [
      { output_guardrails: [{ checks: [{ id: 'default.nope' }] }] },
      /configs\.c\.output_guardrails\[0\]\.checks\[0\]\.id: unknown check id "default\.nope"/,
    ],
    [
      { guardrails: { input: [{ type: 'contains', deny: ['x'], action: 'shout' }] } },
      /configs\.c\.guardrails\.input\[0\]\.action: unknown action "shout"/,
    ],
    [
      { guardrails: { output: [{ type: 'regex', deny: ['(unclosed'] }] } },
      /configs\.c\.guardrails\.output\[0\]\.deny\[0\]: regular expression does not compile/,
    ],
    [
      { output_guardrails: [{ checks: [{ id: 'default.regexMatch', parameters: { rule: '[' } }] }] },
      /output_guardrails\[0\]\.checks\[0\]\.parameters\.rule: regular expression does not compile/,
    ],
    [
      { guardrails: { input: [{ type: 'word_count', min: 3, action: 'retry' }] } },
      /input\[0\]\.action: retry applies to output guardrails only/,
    ],
    [
      { guardrails: { output: [{ type: 'word_count', min: 3, action: 'redact' }] } },
      /output\[0\]\.action: redact needs checks that locate what they deny/,
    ],
    [{ input_guardrails: ['ghost'] }, /configs\.c\.input_guardrails\[0\]: unknown guardrail "ghost"/],
    [
      { before_request_hooks: [{ checks: [{ id: 'default.notNull' }], async: true }] },
      /before_request_hooks\[0\]\.async: async guardrails .* are not implemented/,
    ],
    [
      { after_request_hooks: [{ checks: [{ id: 'default.notNull' }], on_fail: { feedback: { value: -1 } } }] },
      /after_request_hooks\[0\]\.on_fail\.feedback: feedback on guardrail verdicts is not implemented yet/,
    ],
    [
      { after_request_hooks: [{ checks: [{ id: 'default.validUrls', parameters: {} }] }] },
      /checks\[0\]\.parameters\.onlyDNS: default\.validUrls without onlyDNS: true would fetch every URL/,
    ],
    [
      {
        after_request_hooks: [
          { checks: [{ id: 'default.webhook', parameters: { webhookURL: 'file:///etc/passwd' } }] },
        ],
      },
      /parameters\.webhookURL: must be an http\(s\) URL/,
    ],
    [
      { before_request_hooks: [{ type: 'mutator', checks: [{ id: 'default.notNull' }] }] },
      /before_request_hooks\[0\]\.type: hooks of type "mutator" are not implemented/,
    ],
    [
      { output_guardrails: [{ checks: [{ id: 'default.wordCount', parameters: { minWords: 1, maxWordz: 3 } }] }] },
      /parameters\.maxWordz: default\.wordCount has no parameter "maxWordz"/,
    ],
    [
      { guardrails: { input: [{ type: 'contains', deny: ['x'], flags: ['VERBOSE'] }] } },
      /flags\[0\]: unknown regex flag "VERBOSE"/,
    ],
    [
      { output_guardrails: [{ checks: [{ id: 'default.jsonSchema', parameters: { schema: { type: 'bogus' } } }] }] },
      /parameters\.schema: is not a valid JSON Schema/,
    ],
    [{ guardrails: { input: [], middle: [] } }, /configs\.c\.guardrails\.middle: guardrails has no parameter "middle"/],
  ])('refuses %j at load, naming the path', (cfg, re) => {
    expect(() => load(cfg)).toThrow(re);
  });

  it('refuses guardrails on a nested target', () => {
    const nested = { strategy: { mode: 'fallback' }, targets: [{ provider: '@p', input_guardrails: ['g'] }] };
    expect(() =>
      parseConfigText(JSON.stringify({ providers: PROVIDERS, configs: { c: nested } }), 'g.json', {}),
    ).toThrow(/configs\.c\.targets\[0\]\.input_guardrails: guardrails on a target are not implemented/);
  });
});

describe('checks', () => {
  it('contains: the seed deny list (IGNORECASE) and Portkey any/all/none', () => {
    const deny = seed({ type: 'contains', deny: ['password', 'SSN'], flags: ['IGNORECASE'] });
    expect(deny('what is the weather')).toBe(true);
    expect(deny('my Password is hunter2')).toBe(false);
    expect(deny('my ssn is')).toBe(false);
    expect(pk('default.contains', { words: ['a', 'b'], operator: 'any' })('x a y')).toBe(true);
    expect(pk('default.contains', { words: ['a', 'b'], operator: 'any' })('x y')).toBe(false);
    expect(pk('default.contains', { words: ['a', 'b'], operator: 'all' })('a b')).toBe(true);
    expect(pk('default.contains', { words: ['a', 'b'], operator: 'all' })('a')).toBe(false);
    expect(pk('default.contains', { words: ['bad'], operator: 'none' })('good')).toBe(true);
    expect(pk('default.contains', { words: ['bad'], operator: 'none' })('BAD')).toBe(true); // case-sensitive by default
    expect(pk('default.contains', { words: ['bad'], operator: 'none' })('bad')).toBe(false);
  });

  it('regex: the seed SSN deny pattern, pattern (must match), Portkey regexMatch with not', () => {
    const ssn = seed({ type: 'regex', deny: ['\\b\\d{3}-\\d{2}-\\d{4}\\b'] });
    expect(ssn('call me at 555-1234')).toBe(true);
    expect(ssn('mine is 123-45-6789.')).toBe(false);
    expect(seed({ type: 'regex', pattern: '^ok', flags: ['IGNORECASE'] })('OK then')).toBe(true);
    expect(seed({ type: 'regex', pattern: '^ok' })('not ok')).toBe(false);
    expect(pk('default.regexMatch', { rule: '\\d+' })('a1')).toBe(true);
    expect(pk('default.regexMatch', { rule: '\\d+', not: true })('a1')).toBe(false);
  });

  it('word, sentence and character counts with min, max and not', () => {
    const wc = seed({ type: 'word_count', min: 3, max: 5 });
    expect(wc('one two')).toBe(false);
    expect(wc('one two three')).toBe(true);
    expect(wc(' one\ttwo\nthree  four five ')).toBe(true);
    expect(wc('a b c d e f')).toBe(false);
    expect(pk('default.wordCount', { minWords: 3, not: true })('one two')).toBe(true);
    const sc = pk('default.sentenceCount', { minSentences: 2, maxSentences: 3 });
    expect(sc('One. Two!')).toBe(true);
    expect(sc('Just one sentence, v1.2 included.')).toBe(false);
    expect(sc('A. B? C! D.')).toBe(false);
    const cc = pk('default.characterCount', { minCharacters: 2, maxCharacters: 4 });
    expect([cc('a'), cc('ab'), cc('abcd'), cc('abcde')]).toEqual([false, true, true, false]);
    expect(seed({ type: 'character_count', max: 3 })('abcd')).toBe(false);
  });

  it('jsonSchema validates with a real JSON Schema validator; jsonKeys any/all/none', () => {
    const schema = {
      type: 'object',
      required: ['name', 'age'],
      properties: { name: { type: 'string' }, age: { type: 'integer', minimum: 0 } },
      additionalProperties: false,
    };
    const js = pk('default.jsonSchema', { schema });
    expect(js('{"name":"a","age":3}')).toBe(true);
    expect(js('Here you go:\n```json\n{"name":"a","age":3}\n```')).toBe(true);
    expect(js('{"name":"a","age":-1}')).toBe(false);
    expect(js('{"name":"a","age":3,"x":1}')).toBe(false);
    expect(js('not json')).toBe(false);
    expect(pk('default.jsonSchema', { schema, not: true })('{"name":1}')).toBe(true);
    expect(seed({ type: 'json_schema', schema: { type: 'array' } })('[1]')).toBe(true);
    expect(pk('default.jsonKeys', { keys: ['a', 'b'], operator: 'all' })('{"a":1,"b":2}')).toBe(true);
    expect(pk('default.jsonKeys', { keys: ['a', 'b'], operator: 'all' })('{"a":1}')).toBe(false);
    expect(pk('default.jsonKeys', { keys: ['a', 'b'], operator: 'any' })('{"b":1}')).toBe(true);
    expect(pk('default.jsonKeys', { keys: ['a'], operator: 'none' })('{"a":1}')).toBe(false);
    expect(pk('default.jsonKeys', { keys: ['a'] })('no json')).toBe(false);
  });

  it('validUrls: well-formed URLs, and with onlyDNS hosts that resolve; it never fetches', async () => {
    const form = async (text: string, p: Record<string, unknown> = { syntaxOnly: true }) => {
      const g = setOf({ output_guardrails: [{ checks: [{ id: 'default.validUrls', parameters: p }] }] }).output[0];
      return (await g.checks[0].run(subj(text))).verdict;
    };
    expect(await form('See https://example.com/a?b=c, and http://10.0.0.1:8080/x.')).toBe(true);
    expect(await form('no links at all')).toBe(true);
    expect(await form('broken: https://-bad-.example/x')).toBe(false);
    expect(await form('broken: http://exa_mple.com/')).toBe(false);
    expect(await form('broken: https://[zz::1]/')).toBe(false);
    expect(await form('https://ok.example', { syntaxOnly: true, not: true })).toBe(false);
    // onlyDNS: localhost resolves from /etc/hosts; the .invalid TLD never does (RFC 6761).
    const server = createServer((_q, r) => r.end('x'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    let fetched = 0;
    server.on('request', () => fetched++);
    const port = (server.address() as AddressInfo).port;
    try {
      expect(await form(`local: http://localhost:${port}/x`, { onlyDNS: true, timeout: 2000 })).toBe(true);
      expect(
        await form(`gone: http://no-such-host.invalid/x and http://localhost:${port}/`, {
          onlyDNS: true,
          timeout: 2000,
        }),
      ).toBe(false);
      expect(fetched).toBe(0);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('endsWith, all upper/lowercase, notNull', () => {
    expect(pk('default.endsWith', { suffix: 'Thanks.' })('Hello. Thanks.\n')).toBe(true);
    expect(pk('default.endsWith', { suffix: 'Thanks.' })('Hello.')).toBe(false);
    expect(pk('default.endsWith', { suffix: '.', not: true })('Hello.')).toBe(false);
    expect(pk('default.alluppercase', {})('HELLO 42!')).toBe(true);
    expect(pk('default.alluppercase', {})('Hello')).toBe(false);
    expect(pk('default.alllowercase', {})('hello 42')).toBe(true);
    expect(seed({ type: 'lowercase' })('Hello')).toBe(false);
    expect(pk('default.notNull', {})(' x ')).toBe(true);
    expect(pk('default.notNull', {})(' \n')).toBe(false);
    expect(seed({ type: 'not_null', not: true })('')).toBe(true);
  });

  it('modelWhitelist (globs, inverse) and requiredMetadataKeys (all/any/none)', () => {
    const mw = pk('default.modelWhitelist', { models: ['gpt-4o*', 'claude-sonnet-4-6'] });
    expect(mw('', { model: 'gpt-4o-mini' })).toBe(true);
    expect(mw('', { model: 'gpt-4.1' })).toBe(false);
    expect(pk('default.modelWhitelist', { models: ['gpt-4.1'], inverse: true })('', { model: 'gpt-4.1' })).toBe(false);
    const rk = pk('default.requiredMetadataKeys', { metadataKeys: ['user', 'team'] });
    expect(rk('', { metadata: { user: 'a', team: 'b' } })).toBe(true);
    expect(rk('', { metadata: { user: 'a' } })).toBe(false);
    expect(
      pk('default.requiredMetadataKeys', { metadataKeys: ['user', 'team'], operator: 'any' })('', {
        metadata: { team: 'b' },
      }),
    ).toBe(true);
    expect(
      pk('default.requiredMetadataKeys', { metadataKeys: ['debug'], operator: 'none' })('', {
        metadata: { debug: '1' },
      }),
    ).toBe(false);
    expect(seed({ type: 'required_metadata_keys', keys: ['user'] }, 'input')('', { metadata: {} })).toBe(false);
  });
});

/** Luhn check digit for a digit string. */
function withLuhn(body: string): string {
  for (let d = 0; d <= 9; d++) if (luhn(body + d)) return body + d;
  throw new Error('unreachable');
}
function rand(n: number, seedN: number): string {
  let x = seedN;
  let s = '';
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    s += String(x % 10);
  }
  return s.replace(/^0/, '4');
}
const group = (d: string, sep: string) => d.match(/.{1,4}/g)!.join(sep);

describe('pii', () => {
  it('finds every Luhn-valid card of 13-19 digits, plain, spaced or dashed, and no Luhn-invalid one', () => {
    for (let len = 13; len <= 19; len++) {
      for (let k = 0; k < 20; k++) {
        const card = withLuhn(rand(len - 1, len * 100 + k));
        const bad = card.slice(0, -1) + String((Number(card.at(-1)) + 1) % 10);
        for (const sep of ['', ' ', '-']) {
          const shown = sep ? group(card, sep) : card;
          expect(findPii(`pay with ${shown} today`, ['credit_card']), shown).toEqual([
            { kind: 'credit_card', start: 9, end: 9 + shown.length },
          ]);
          const badShown = sep ? group(bad, sep) : bad;
          expect(findPii(`pay with ${badShown} today`, ['credit_card']), badShown).toEqual([]);
        }
      }
    }
  });

  it('does not flag ordinary numbers: order ids, dates, times, versions, short or long digit runs', () => {
    const text =
      'Order 123456789 shipped 2024-12-01 at 12:30:45 (v1.2.3), ticket 12345678901 and 1234567890123456789012, phone-like date 2024-01-15, qty 4 of 16.';
    expect(findPii(text, ['credit_card', 'ssn', 'iban', 'ipv6'])).toEqual([]);
  });

  it('US SSNs follow the area/group/serial rules', () => {
    expect(findPii('ssn 123-45-6789', ['ssn'])).toHaveLength(1);
    expect(findPii('ssn 123 45 6789', ['ssn'])).toHaveLength(1);
    for (const bad of [
      '000-12-3456',
      '666-12-3456',
      '900-12-3456',
      '999-12-3456',
      '123-00-4567',
      '123-45-0000',
      '123456789',
      '123-45 6789',
    ]) {
      expect(findPii(`ssn ${bad}`, ['ssn']), bad).toEqual([]);
    }
    expect(validSsn('665', '01', '0001')).toBe(true);
  });

  it('emails, phones, IBANs (mod-97), IPv4/IPv6 and API key shapes', () => {
    const kinds = (t: string) => findPii(t).map((m) => m.kind);
    expect(kinds('mail jane.doe+x@example.co.uk now')).toEqual(['email']);
    expect(kinds('call +44 20 7946 0958 or (415) 555-2671 or 415-555-2671')).toEqual(['phone', 'phone', 'phone']);
    expect(validIban('GB82 WEST 1234 5698 7654 32')).toBe(true);
    expect(validIban('GB83 WEST 1234 5698 7654 32')).toBe(false);
    expect(kinds('iban GB82 WEST 1234 5698 7654 32 ok')).toEqual(['iban']);
    expect(kinds('iban DE89370400440532013000')).toEqual(['iban']);
    expect(kinds('iban DE89370400440532013001')).toEqual([]);
    expect(kinds('host 192.168.1.20 and 2001:db8::8a2e:370:7334 and ::1')).toEqual(['ipv4', 'ipv6', 'ipv6']);
    expect(kinds('not an ip 256.1.1.1 or 1.2.3')).toEqual([]);
    expect(kinds(`keys sk-proj-${'a'.repeat(40)} AKIAIOSFODNN7EXAMPLE ghp_${'b'.repeat(36)}`)).toEqual([
      'api_key',
      'api_key',
      'api_key',
    ]);
  });

  it('redacts each match as [REDACTED:<kind>]', () => {
    expect(redactPii('ssn 123-45-6789, card 4111 1111 1111 1111, mail a@b.io')).toBe(
      'ssn [REDACTED:ssn], card [REDACTED:credit_card], mail [REDACTED:email]',
    );
  });
});

describe('what checks see', () => {
  it('input: message texts, text parts, tool results and tool-call arguments; redact rewrites them in place', async () => {
    const body = {
      messages: [
        { role: 'system', content: 'be nice' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'my card 4111-1111-1111-1111' },
            { type: 'image_url', image_url: { url: 'http://x/1.png' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"ssn":"123-45-6789"}' } }],
        },
        { role: 'tool', tool_call_id: 'c1', content: 'found jane@example.com' },
      ],
    };
    const s = setOf({ guardrails: { input: [{ type: 'pii', action: 'redact' }] } });
    const events: EventRecord[] = [];
    const o = await runPhase(s.input, inputSlots(body), { model: 'gpt-4o', metadata: {} }, events);
    expect(o).toMatchObject({ denied: false, redacted: true });
    expect(JSON.stringify(body)).not.toMatch(/4111|6789|jane@/);
    expect(body.messages[2].tool_calls![0].function.arguments).toBe('{"ssn":"[REDACTED:ssn]"}');
    expect(events).toHaveLength(1);
    expect(events[0].attributes).toMatchObject({
      'switchyard.guardrail.id': 'input.0',
      'switchyard.guardrail.check': 'pii',
      'switchyard.guardrail.verdict': 'fail',
      'switchyard.guardrail.action': 'redact',
    });
    expect(JSON.stringify(events)).not.toContain('4111');
  });

  it('output: answer text and tool-call arguments', async () => {
    const body = {
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'ok',
            tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{"to":"123-45-6789"}' } }],
          },
        },
      ],
    };
    const s = setOf({ guardrails: { output: [{ type: 'pii', kinds: ['ssn'], action: 'block' }] } });
    const o = await runPhase(s.output, outputSlots(body), { model: 'gpt-4o', metadata: {} }, []);
    expect(o.denied).toBe(true);
    expect(o.verdicts).toEqual([
      {
        id: 'output.0',
        verdict: false,
        action: 'block',
        deny: true,
        checks: [{ id: 'pii', verdict: false, execution_time: expect.any(Number) }],
        execution_time: expect.any(Number),
      },
    ]);
  });
});

describe('stream sinks', () => {
  class Recorder {
    frames: unknown[] = [];
    started = 0;
    failed?: unknown;
    ended = false;
    get closed() {
      return this.ended;
    }
    start() {
      this.started++;
    }
    async write(c: Record<string, unknown>) {
      this.frames.push(c);
    }
    end() {
      this.ended = true;
    }
    fail(e: Record<string, unknown>) {
      this.failed = e;
      this.ended = true;
    }
  }
  const chunk = (content: string) => ({ choices: [{ index: 0, delta: { content } }] });

  it('a held stream over its bound fails with a guardrail error frame and writes none of the held text', async () => {
    const inner = new Recorder();
    const held = new HeldSink(inner, 1000);
    held.start({});
    let thrown: unknown;
    try {
      for (let i = 0; i < 100; i++) await held.write(chunk('x'.repeat(50)));
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(StreamFailure);
    expect((thrown as StreamFailure).failure).toMatchObject({
      outcome: 'guardrail',
      status: 446,
      error: { code: 'guardrail_buffer_exceeded' },
    });
    expect(inner.started).toBe(0);
    held.fail({ error: { status: 446 } });
    expect(inner.started).toBe(1);
    expect(inner.frames).toEqual([]);
    expect(inner.failed).toEqual({ error: { status: 446 } });
  });

  it('a held stream flushes on end, redactions written back across chunk boundaries', async () => {
    const inner = new Recorder();
    const held = new HeldSink(inner, 1 << 20);
    held.start({ a: '1' });
    for (const c of ['my ss', 'n is 123-4', '5-6789', ' ok']) await held.write(chunk(c));
    expect(inner.started).toBe(0);
    const { slots, commit } = held.assembled.slots();
    slots[0].set(redactPii(slots[0].get()));
    commit();
    await held.end();
    expect(inner.frames.map((f) => (f as ReturnType<typeof chunk>).choices[0].delta.content).join('')).toBe(
      'my ssn is [REDACTED:ssn] ok',
    );
    expect(inner.ended).toBe(true);
  });

  it('a watched stream passes chunks through at once and writes its verdict frame before the end', async () => {
    const inner = new Recorder();
    const w = new WatchSink(inner, 1 << 20, (s) => ({ seen: s.assembled.slots().slots[0].get() }));
    await w.write(chunk('a'));
    expect(inner.frames).toHaveLength(1);
    await w.write(chunk('b'));
    await w.end();
    expect(inner.frames.at(-1)).toEqual({ seen: 'ab' });
    expect(inner.ended).toBe(true);
  });
});

describe('examples/guardrails.yaml', () => {
  it('loads, and normalises each config as documented', async () => {
    const { readFileSync } = await import('node:fs');
    const text = readFileSync(new URL('../../examples/guardrails.yaml', import.meta.url), 'utf8');
    const c = parseConfigText(text, 'guardrails.yaml', { OPENAI_API_KEY: 'k', ANTHROPIC_API_KEY: 'k' }).file.configs;
    const brief = (id: string) => {
      const s = guardrailsOf(c[id] as TargetSpec)!;
      return { input: s.input.map((g) => `${g.id}:${g.action}`), output: s.output.map((g) => `${g.id}:${g.action}`) };
    };
    expect(brief('default')).toEqual({ input: ['input.0:block'], output: ['output.0:block', 'output.1:retry'] });
    expect(brief('portkey')).toEqual({
      input: ['needs-user:warn', 'input.1:block'],
      output: ['no-card-numbers:block', 'json-answer:block'],
    });
    expect(brief('scrub')).toEqual({ input: ['input.0:redact'], output: ['output.0:redact'] });
  });
});

describe('default.webhook', () => {
  let server: Server;
  let url = '';
  const seen: Array<{ headers: IncomingHttpHeaders; body: unknown }> = [];
  let reply: (body: unknown) => { status?: number; delayMs?: number; json?: unknown } = () => ({
    json: { verdict: true },
  });

  beforeAll(async () => {
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        const body = JSON.parse(raw);
        seen.push({ headers: req.headers, body });
        const r = reply(body);
        const t = setTimeout(() => {
          res.writeHead(r.status ?? 200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(r.json ?? {}));
        }, r.delayMs ?? 0);
        res.on('close', () => clearTimeout(t));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const hook = (parameters: Record<string, unknown>, deny = true) =>
    setOf({
      before_request_hooks: [
        { id: 'wh', checks: [{ id: 'default.webhook', parameters: { webhookURL: url, ...parameters } }], deny },
      ],
    }).input;
  const chatBody = () => ({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hello there' }] });

  it('POSTs the request context with the configured headers and takes the verdict', async () => {
    seen.length = 0;
    reply = (b) => ({ json: { verdict: !JSON.stringify(b).includes('forbidden') } });
    const g = hook({ headers: { authorization: 'Bearer wh-token' } });
    const ok = await runPhase(
      g,
      inputSlots(chatBody()),
      { model: 'gpt-4o', metadata: { user: 'u' }, body: chatBody() },
      [],
    );
    expect(ok.denied).toBe(false);
    expect(seen[0].headers.authorization).toBe('Bearer wh-token');
    expect(seen[0].body).toMatchObject({
      eventType: 'beforeRequestHook',
      metadata: { user: 'u' },
      request: { json: { messages: [{ content: 'hello there' }] } },
    });
    const b = { ...chatBody(), messages: [{ role: 'user', content: 'forbidden words' }] };
    const no = await runPhase(g, inputSlots(b), { model: 'gpt-4o', metadata: {}, body: b }, []);
    expect(no.denied).toBe(true);
    expect(no.verdicts[0].checks[0]).toMatchObject({ id: 'default.webhook', verdict: false });
  });

  it('applies transformed messages from the answer', async () => {
    reply = () => ({
      json: {
        verdict: true,
        transformedData: { request: { json: { messages: [{ role: 'user', content: 'rewritten' }] } } },
      },
    });
    const b = chatBody();
    await runPhase(hook({}), inputSlots(b), { model: 'gpt-4o', metadata: {}, body: b }, []);
    expect(b.messages).toEqual([{ role: 'user', content: 'rewritten' }]);
  });

  it('a timeout or an error fails open by default and closed with failOnError, saying so in hook_results', async () => {
    reply = () => ({ delayMs: 1000, json: { verdict: true } });
    const t0 = Date.now();
    const open = await runPhase(
      hook({ timeout: 100 }),
      inputSlots(chatBody()),
      { model: 'gpt-4o', metadata: {}, body: chatBody() },
      [],
    );
    expect(Date.now() - t0).toBeLessThan(900);
    expect(open.denied).toBe(false);
    expect(open.verdicts[0].checks[0]).toMatchObject({
      verdict: true,
      error: 'webhook did not answer within 100 ms (fail-open: the check passes)',
    });
    const closed = await runPhase(
      hook({ timeout: 100, failOnError: true }),
      inputSlots(chatBody()),
      { model: 'gpt-4o', metadata: {}, body: chatBody() },
      [],
    );
    expect(closed.denied).toBe(true);
    expect(closed.verdicts[0].checks[0].error).toMatch(/fail-closed/);
    reply = () => ({ status: 500 });
    const err = await runPhase(
      hook({ failOnError: true }),
      inputSlots(chatBody()),
      { model: 'gpt-4o', metadata: {}, body: chatBody() },
      [],
    );
    expect(err.verdicts[0].checks[0]).toMatchObject({
      verdict: false,
      error: 'webhook answered HTTP 500 (fail-closed: the check fails)',
    });
    reply = () => ({ json: { ok: true } });
    const bad = await runPhase(
      hook({}),
      inputSlots(chatBody()),
      { model: 'gpt-4o', metadata: {}, body: chatBody() },
      [],
    );
    expect(bad.verdicts[0].checks[0].error).toMatch(/no boolean "verdict" \(fail-open/);
  });
});
