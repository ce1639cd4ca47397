// Ours: personal data and secrets in text. Each kind is a candidate pattern plus a validity rule
// where one exists (US SSN area/group/serial rules, Luhn for payment cards, mod-97 for IBAN, the
// address parser for IPv6), so ordinary numbers are not flagged. `redact` replaces each match with
// [REDACTED:<kind>].
import { isIPv6 } from 'node:net';
import type { Check } from './types.js';
import { fail, only, strings, type Params, type Path } from './params.js';

export const PII_KINDS = ['email', 'phone', 'ssn', 'credit_card', 'iban', 'ipv4', 'ipv6', 'api_key'] as const;
export type PiiKind = (typeof PII_KINDS)[number];

export interface PiiMatch {
  kind: PiiKind;
  start: number;
  end: number;
}

/** Luhn's checksum over a string of digits. */
export function luhn(digits: string): boolean {
  let sum = 0;
  let dbl = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return sum % 10 === 0;
}

/** Area 001-665, 667-899; group 01-99; serial 0001-9999. */
export function validSsn(area: string, group: string, serial: string): boolean {
  const a = Number(area);
  return a !== 0 && a !== 666 && a < 900 && group !== '00' && serial !== '0000';
}

/** ISO 13616: move the first four characters to the end, letters to numbers, mod 97 = 1. */
export function validIban(raw: string): boolean {
  const s = raw.replace(/ /g, '').toUpperCase();
  if (s.length < 15 || s.length > 34) return false;
  const moved = s.slice(4) + s.slice(0, 4);
  let rem = 0;
  for (const ch of moved) {
    const c = ch.charCodeAt(0);
    const v = c >= 65 && c <= 90 ? String(c - 55) : ch;
    for (const d of v) rem = (rem * 10 + (d.charCodeAt(0) - 48)) % 97;
  }
  return rem === 1;
}

interface Detector {
  re: RegExp;
  valid?: (m: RegExpExecArray) => boolean;
}

const DETECTORS: Record<Exclude<PiiKind, 'email' | 'ipv6'>, Detector> = {
  // E.164 (+ and 8-15 digits, spaces or dashes between groups) or a NANP number with separators.
  phone: {
    re: /(?<![\w+])(?:\+\d{1,3}[ -]?(?:\(\d{1,4}\)[ -]?)?\d{1,4}(?:[ -]?\d{2,4}){1,4}|\(\d{3}\) ?\d{3}[-. ]\d{4}|\b\d{3}[-.]\d{3}[-.]\d{4})(?![\w-])/g,
    valid: (m) => {
      const n = m[0].replace(/\D/g, '').length;
      return n >= 8 && n <= 15;
    },
  },
  ssn: {
    re: /(?<![\d-])(\d{3})([- ]?)(\d{2})\2(\d{4})(?![\d-])/g,
    valid: (m) => m[2] !== '' && validSsn(m[1], m[3], m[4]),
  },
  // 13-19 digits, single spaces or dashes allowed between them, then Luhn.
  credit_card: {
    re: /(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])/g,
    valid: (m) => {
      const d = m[0].replace(/[ -]/g, '');
      return d.length >= 13 && d.length <= 19 && luhn(d);
    },
  },
  iban: { re: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b/g, valid: (m) => validIban(m[0]) },
  ipv4: {
    re: /(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\d.]*\d)/g,
  },
  api_key: {
    re: /\b(?:sk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,}|xox[abprs]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{35}|glpat-[A-Za-z0-9_-]{20,})|-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
  },
};

// Email and IPv6 are found from their anchor characters ('@', ':') outward: a pattern that may
// start at any letter rescans every word of a long text (~10x slower at 32 KB).
const LOCAL = /[A-Za-z0-9._%+-]/;
const DOMAIN = /@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![A-Za-z0-9-])/y;
function emails(text: string, out: PiiMatch[]): void {
  for (let at = text.indexOf('@'); at >= 0; at = text.indexOf('@', at + 1)) {
    let start = at;
    while (start > 0 && LOCAL.test(text[start - 1])) start--;
    if (start === at) continue;
    DOMAIN.lastIndex = at;
    const m = DOMAIN.exec(text);
    if (m) out.push({ kind: 'email', start, end: at + m[0].length });
  }
}
const HEXCOLON = /[0-9A-Fa-f:]/;
function ipv6s(text: string, out: PiiMatch[]): void {
  let covered = -1;
  for (let c = text.indexOf(':'); c >= 0; c = text.indexOf(':', c + 1)) {
    if (c < covered) continue;
    let start = c;
    while (start > 0 && HEXCOLON.test(text[start - 1])) start--;
    let end = c + 1;
    while (end < text.length && HEXCOLON.test(text[end])) end++;
    covered = end;
    const cand = text.slice(start, end);
    if (/[A-Za-z0-9]/.test(text[start - 1] ?? '') || /[A-Za-z0-9]/.test(text[end] ?? '')) continue;
    if (cand.indexOf(':') !== cand.lastIndexOf(':') && /[0-9A-Fa-f]/.test(cand) && isIPv6(cand))
      out.push({ kind: 'ipv6', start, end });
  }
}

/** Every match of the given kinds, in text order, overlaps resolved in favour of the earlier (then longer) match. */
export function findPii(text: string, kinds: readonly PiiKind[] = PII_KINDS): PiiMatch[] {
  const all: PiiMatch[] = [];
  for (const kind of kinds) {
    if (kind === 'email') {
      emails(text, all);
      continue;
    }
    if (kind === 'ipv6') {
      ipv6s(text, all);
      continue;
    }
    const d = DETECTORS[kind];
    d.re.lastIndex = 0;
    for (let m = d.re.exec(text); m; m = d.re.exec(text)) {
      if (m[0] === '') {
        d.re.lastIndex++;
        continue;
      }
      if (!d.valid || d.valid(m)) all.push({ kind, start: m.index, end: m.index + m[0].length });
    }
  }
  all.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: PiiMatch[] = [];
  for (const m of all) if (!out.length || m.start >= out[out.length - 1].end) out.push(m);
  return out;
}

export function redactPii(text: string, kinds: readonly PiiKind[] = PII_KINDS): string {
  const ms = findPii(text, kinds);
  if (!ms.length) return text;
  let out = '';
  let at = 0;
  for (const m of ms) {
    out += `${text.slice(at, m.start)}[REDACTED:${m.kind}]`;
    at = m.end;
  }
  return out + text.slice(at);
}

/** `kinds` (default: all of them). */
export function pii(p: Params, path: Path): Check {
  only(p, ['kinds'], path, 'pii');
  const kinds = (strings(p, 'kinds', path, false) ?? [...PII_KINDS]) as PiiKind[];
  kinds.forEach((k, i) => {
    if (!PII_KINDS.includes(k)) fail([...path, 'kinds', i], `unknown PII kind "${k}" (known: ${PII_KINDS.join(', ')})`);
  });
  return {
    id: 'pii',
    run: (s) => ({ verdict: s.parts.every((t) => findPii(t, kinds).length === 0) }),
    redact: (t) => redactPii(t, kinds),
  };
}
