// Checks on text: Portkey's default.regexMatch, default.contains, default.wordCount,
// default.sentenceCount, default.characterCount, default.endsWith, default.alluppercase,
// default.alllowercase, default.notNull. Each factory validates its parameters once, at load.
import type { Check } from './types.js';
import { bool, compile, escapeRegex, fail, num, oneOf, only, str, strings, type Params, type Path } from './params.js';

const invert = (verdict: boolean, not: boolean) => (not ? !verdict : verdict);

/** `rule` must match (Portkey); `not: true` inverts. */
export function regexMatch(p: Params, path: Path, flags = ''): Check {
  only(p, ['rule', 'not'], path, 'default.regexMatch');
  const re = compile(str(p, 'rule', path)!, flags, [...path, 'rule']);
  const not = bool(p, 'not', path);
  return { id: 'default.regexMatch', run: (s) => ({ verdict: invert(re.test(s.text), not) }) };
}

/** Fails when any pattern matches (the seed's `regex` with `deny:`); redacts the matches. */
export function regexDeny(patterns: string[], flags: string, path: Path): Check {
  const res = patterns.map((r, i) => compile(r, flags, [...path, i]));
  const global = res.map((r) => new RegExp(r.source, r.flags.includes('g') ? r.flags : `${r.flags}g`));
  return {
    id: 'regex',
    run: (s) => ({ verdict: !res.some((r) => r.test(s.text)) }),
    redact: (t) => global.reduce((acc, r) => acc.replace(r, '[REDACTED]'), t),
  };
}

/** Portkey's operators: any (passes when one word is present), all, none (a deny list). */
export function contains(p: Params, path: Path, ignoreCase = false): Check {
  only(p, ['words', 'operator', 'ignoreCase'], path, 'default.contains');
  const words = strings(p, 'words', path)!;
  const operator = oneOf(p, 'operator', ['any', 'all', 'none'] as const, path, 'any');
  const ic = bool(p, 'ignoreCase', path, ignoreCase);
  const needles = ic ? words.map((w) => w.toLowerCase()) : words;
  const any = new RegExp(words.map(escapeRegex).join('|'), ic ? 'gi' : 'g');
  const check: Check = {
    id: 'default.contains',
    run: (s) => {
      const hay = ic ? s.text.toLowerCase() : s.text;
      if (operator === 'all') return { verdict: needles.every((w) => hay.includes(w)) };
      const found = needles.some((w) => hay.includes(w));
      return { verdict: operator === 'any' ? found : !found };
    },
  };
  if (operator === 'none') check.redact = (t) => t.replace(any, '[REDACTED]');
  return check;
}

function counter(id: string, minKey: string, maxKey: string, count: (t: string) => number) {
  return (p: Params, path: Path): Check => {
    only(p, [minKey, maxKey, 'not'], path, id);
    const min = num(p, minKey, path) ?? 0;
    const max = num(p, maxKey, path) ?? Infinity;
    if (min > max) fail([...path, minKey], `is greater than ${maxKey}`);
    const not = bool(p, 'not', path);
    return {
      id,
      run: (s) => {
        const n = count(s.text);
        return { verdict: invert(n >= min && n <= max, not) };
      },
    };
  };
}

export function countWords(t: string): number {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    const space = c === 32 || (c >= 9 && c <= 13) || c === 160 || c === 0x3000 || (c >= 0x2000 && c <= 0x200a);
    if (space) inWord = false;
    else if (!inWord) {
      inWord = true;
      n++;
    }
  }
  return n;
}

export function countSentences(t: string): number {
  // A sentence ends at . ! or ? followed by whitespace or the end; text after the last one counts too.
  return t.split(/[.!?]+(?=\s|$)/).filter((x) => /\S/.test(x)).length;
}

export const wordCount = counter('default.wordCount', 'minWords', 'maxWords', countWords);
export const sentenceCount = counter('default.sentenceCount', 'minSentences', 'maxSentences', countSentences);
export const characterCount = counter('default.characterCount', 'minCharacters', 'maxCharacters', (t) => t.length);

export function endsWith(p: Params, path: Path): Check {
  only(p, ['suffix', 'not'], path, 'default.endsWith');
  const suffix = str(p, 'suffix', path)!;
  const not = bool(p, 'not', path);
  return { id: 'default.endsWith', run: (s) => ({ verdict: invert(s.text.trimEnd().endsWith(suffix), not) }) };
}

function caseCheck(id: string, upper: boolean) {
  return (p: Params, path: Path): Check => {
    only(p, ['not'], path, id);
    const not = bool(p, 'not', path);
    return {
      id,
      run: (s) => ({ verdict: invert(upper ? s.text === s.text.toUpperCase() : s.text === s.text.toLowerCase(), not) }),
    };
  };
}
export const allUppercase = caseCheck('default.alluppercase', true);
export const allLowercase = caseCheck('default.alllowercase', false);

export function notNull(p: Params, path: Path): Check {
  only(p, ['not'], path, 'default.notNull');
  const not = bool(p, 'not', path);
  return { id: 'default.notNull', run: (s) => ({ verdict: invert(/\S/.test(s.text), not) }) };
}
